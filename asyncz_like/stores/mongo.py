"""Tasks in a MongoDB collection: one document per task.

``{_id, next_run_time: float UTC timestamp or null while paused, state: binary}`` with
an index on ``next_run_time``, so the due lookup reads only due documents. A later lease
for schedulers sharing the collection adds ``claimed_by`` / ``claim_expires`` fields,
claimed with ``find_one_and_update``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bson.binary import Binary
from pymongo import ASCENDING, MongoClient
from pymongo.errors import DuplicateKeyError, PyMongoError

from asyncz_like.abc import Serializer
from asyncz_like.exceptions import ConflictIdError, TaskLookupError
from asyncz_like.stores.base import PersistentStore, check_name, mask_url, to_timestamp
from asyncz_like.tasks.task import Task

_ORDER = [("next_run_time", ASCENDING), ("_id", ASCENDING)]


class MongoDBStore(PersistentStore):
    """``url``: ``mongodb://[user:password@]host:port/[database]`` (default
    ``mongodb://localhost:27017``), or pass a ready ``client``. ``database`` defaults to
    the URL's database, else ``asyncz``. Extra keyword arguments go to ``MongoClient``."""

    def __init__(
        self,
        url: str | None = None,
        *,
        client: MongoClient | None = None,
        database: str | None = None,
        collection: str = "tasks",
        serializer: Serializer | str | None = None,
        encryption_key: str | bytes | None = None,
        encryption_key_env: str | None = None,
        **connect_args: Any,
    ) -> None:
        super().__init__(serializer, encryption_key, encryption_key_env)
        if client is not None:
            if url is not None or connect_args:
                raise ValueError("client: give either a client or a url (with connection options), not both")
            if not isinstance(client, MongoClient):
                raise TypeError(f"client: expected a pymongo.MongoClient, got {type(client).__name__}")
            self.client = client
            self._owns_client = False
            host, port = client.topology_description.server_descriptions().popitem()[0]
            self.url = f"mongodb://{host}:{port}"
        else:
            self.url = check_name(url or "mongodb://localhost:27017", "url")
            connect_args.setdefault("serverSelectionTimeoutMS", 5000)
            connect_args.setdefault("connect", False)
            try:
                self.client = MongoClient(self.url, **connect_args)
            except (PyMongoError, ValueError) as exc:
                raise ValueError(f"url: {mask_url(self.url)!r} is not a usable MongoDB URL: {exc}") from None
            self._owns_client = True
        if database is None:
            database = self.client.get_default_database(default="asyncz").name
        self.collection = self.client[check_name(database, "database")][check_name(collection, "collection")]

    def start(self, scheduler: Any, alias: str) -> None:
        super().start(scheduler, alias)
        try:
            self.client.admin.command("ping")
            self.collection.create_index("next_run_time")
        except PyMongoError as exc:
            raise self.connection_error(self.url, exc) from exc

    def shutdown(self) -> None:
        if self._owns_client:
            self.client.close()

    # -- reads -----------------------------------------------------------------------

    def lookup_task(self, task_id: str) -> Task | None:
        document = self.collection.find_one({"_id": task_id}, ["state"])
        return None if document is None else self.restore_task(task_id, document["state"])

    def get_due_tasks(self, now: datetime) -> list[Task]:
        documents = self.collection.find({"next_run_time": {"$lte": now.timestamp()}}, ["state"]).sort(_ORDER)
        return self.restore_rows((document["_id"], document["state"]) for document in documents)

    def get_next_run_time(self) -> datetime | None:
        documents = (
            self.collection.find({"next_run_time": {"$ne": None}}, ["next_run_time"])
            .sort(_ORDER)
            .limit(self.set_aside_count() + 1)
        )
        return self.first_runnable((document["_id"], document["next_run_time"]) for document in documents)

    def get_all_tasks(self) -> list[Task]:
        scheduled = list(self.collection.find({"next_run_time": {"$ne": None}}, ["state"]).sort(_ORDER))
        paused = list(self.collection.find({"next_run_time": None}, ["state"]).sort("_id", ASCENDING))
        return self.restore_rows((document["_id"], document["state"]) for document in scheduled + paused)

    # -- writes ----------------------------------------------------------------------

    def _fields(self, task: Task) -> dict[str, Any]:
        return {"next_run_time": to_timestamp(task.next_run_time), "state": Binary(self.encode_task(task))}

    def add_task(self, task: Task) -> None:
        try:
            self.collection.insert_one({"_id": task.id, **self._fields(task)})
        except DuplicateKeyError:
            raise ConflictIdError(task.id) from None

    def update_task(self, task: Task) -> None:
        result = self.collection.update_one({"_id": task.id}, {"$set": self._fields(task)})
        if result.matched_count == 0:
            raise TaskLookupError(task.id)
        self.forget_set_aside(task.id)  # type: ignore[arg-type]

    def delete_task(self, task_id: str) -> None:
        if self.collection.delete_one({"_id": task_id}).deleted_count == 0:
            raise TaskLookupError(task_id)
        self.forget_set_aside(task_id)

    def remove_all_tasks(self) -> None:
        self.collection.delete_many({})
        self.forget_set_aside()

    def __repr__(self) -> str:
        return f"<MongoDBStore (url={mask_url(self.url)!r}, collection={self.collection.full_name!r})>"
