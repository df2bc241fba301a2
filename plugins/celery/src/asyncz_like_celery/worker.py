"""A ready app for the workers: ``celery -A asyncz_like_celery.worker worker``.

It reads ``ASYNCZ_LIKE_CELERY_BROKER_URL`` and ``ASYNCZ_LIKE_CELERY_BACKEND_URL`` (the broker
URL when unset) and knows one task, the one the executor sends. Teams with a Celery app of
their own call :func:`asyncz_like_celery.register` on it instead.
"""

from __future__ import annotations

import os

from celery import Celery

from asyncz_like_celery.task import register

_broker = os.environ.get("ASYNCZ_LIKE_CELERY_BROKER_URL", "redis://localhost:6379/0")
app = Celery("asyncz_like", broker=_broker, backend=os.environ.get("ASYNCZ_LIKE_CELERY_BACKEND_URL", _broker))
register(app)
