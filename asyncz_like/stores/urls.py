"""Build a store from a URL: the scheme picks the store class, the URL goes to it as is."""

from __future__ import annotations

from typing import Any

from asyncz_like._extras import MissingExtraError
from asyncz_like.abc import Store
from asyncz_like.stores.base import mask_url

#: URL scheme (the part before ``+driver``) -> the store's ``module:Class``
SCHEMES: dict[str, str] = {
    "sqlite": "asyncz_like.stores.sqlalchemy:SQLAlchemyStore",
    "postgresql": "asyncz_like.stores.sqlalchemy:SQLAlchemyStore",
    "postgres": "asyncz_like.stores.sqlalchemy:SQLAlchemyStore",
    "mysql": "asyncz_like.stores.sqlalchemy:SQLAlchemyStore",
    "mariadb": "asyncz_like.stores.sqlalchemy:SQLAlchemyStore",
    "oracle": "asyncz_like.stores.sqlalchemy:SQLAlchemyStore",
    "mssql": "asyncz_like.stores.sqlalchemy:SQLAlchemyStore",
    "redis": "asyncz_like.stores.redis:RedisStore",
    "rediss": "asyncz_like.stores.redis:RedisStore",
    "unix": "asyncz_like.stores.redis:RedisStore",
    "mongodb": "asyncz_like.stores.mongo:MongoDBStore",
    "mongodb+srv": "asyncz_like.stores.mongo:MongoDBStore",
    "file": "asyncz_like.stores.file:FileStore",
}


def store_class_for(url: str) -> type[Store]:
    """The store class that serves ``url``; a scheme nobody serves raises naming it."""
    from asyncz_like.plugins import STORES, plugin_class

    if not isinstance(url, str) or "://" not in url:
        raise ValueError(f"url: expected 'scheme://...', got {url!r}")
    scheme = url.split("://", 1)[0].lower()
    reference = SCHEMES.get(scheme) or SCHEMES.get(scheme.split("+", 1)[0])
    if reference is None:
        raise ValueError(
            f"url: no store serves the scheme {scheme!r} of {mask_url(url)!r}; known: {', '.join(sorted(SCHEMES))}"
        )
    try:
        return plugin_class(STORES, reference)
    except ImportError as exc:  # the store's driver is missing: say which extra brings it
        if isinstance(exc.__cause__, MissingExtraError):
            raise exc.__cause__ from None
        raise


def store_from_url(url: str, **options: Any) -> Store:
    """``store_from_url("sqlite:///tasks.db")`` -> a SQLAlchemyStore on that file; also
    ``postgresql+psycopg://``, ``mysql+pymysql://``, ``redis://``, ``mongodb://``, ``file://``.
    ``options`` go to the store's constructor (``tablename=``, ``serializer=``, ...)."""
    cls: Any = store_class_for(url)
    return cls(url=url, **options)  # type: ignore[no-any-return]
