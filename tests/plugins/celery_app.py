"""The Celery app of the test workers and of the tests that send to them.

The broker is the test Redis server on a database of its own (``CELERY_DB``) with a key
prefix per test session, so concurrent sessions and the store tests never share keys.
The worker process reads its settings from the environment the fixture gives it.
"""

from __future__ import annotations

import os
from urllib.parse import urlsplit, urlunsplit

from asyncz_like_celery import register
from celery import Celery

CELERY_DB = 5


def celery_url(redis_url: str) -> str:
    """The test Redis server's URL on the Celery database."""
    return urlunsplit(urlsplit(redis_url)._replace(path=f"/{CELERY_DB}"))


def make_app(url: str, prefix: str) -> Celery:
    app = Celery("asyncz_like_tests", broker=url, backend=url, set_as_current=False)
    options = {"global_keyprefix": prefix}
    app.conf.update(
        broker_transport_options=options,
        result_backend_transport_options=options,
        worker_prefetch_multiplier=1,
        broker_connection_retry_on_startup=True,
        worker_hijack_root_logger=False,
    )
    register(app)
    return app


app = make_app(
    os.environ.get("ASYNCZ_TEST_CELERY_URL", "redis://127.0.0.1:6379/5"),
    os.environ.get("ASYNCZ_TEST_CELERY_PREFIX", "asyncz-test:"),
)
