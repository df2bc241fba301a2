"""Tasks in a MongoDB collection: one document per task.

``{_id, next_run_time: float UTC timestamp or null while paused, state: binary,
priority: int}`` with an index on ``next_run_time``, so the due lookup reads only due
documents. ``priority`` repeats the task's (0 unless set), so that a claim takes the
highest first; documents written before it existed get 0 when the store starts.

Schedulers sharing the collection claim due runs under a lease: ``claimed_by``,
``claim_expires`` and ``claimed_at`` (absent or null while free). Each document is
claimed with its own ``find_one_and_update`` whose filter says "still claimable", so of
several schedulers racing for it exactly one matches; returning the document as it was
before tells a takeover of a dead scheduler's expired claim (it had a ``claimed_at``).

Queries write "is null" as ``{"$eq": None}`` and "is set" as ``{"$exists": True, "$ne":
None}``: both mean the same on MongoDB and on the nx-27017 test server, whose ``$or``
with a bare ``None`` and whose bare ``$ne: None`` treat an absent field differently.
"""

from __future__ import annotations

import time
import uuid
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from asyncz_like._extras import extra_needed

with extra_needed("the mongodb store"):  # a missing driver fails here, naming the extra to install
    import bson  # noqa: F401
    import pymongo  # noqa: F401

from bson.binary import Binary
from pymongo import ASCENDING, DESCENDING, MongoClient, ReturnDocument, UpdateOne, timeout
from pymongo.errors import ConnectionFailure, DuplicateKeyError, ExecutionTimeout, PyMongoError

from asyncz_like._callables import resolve_reference
from asyncz_like._gil import sharing_gil
from asyncz_like.abc import Serializer
from asyncz_like.exceptions import ConflictIdError, TaskLookupError
from asyncz_like.history.mongo import MongoHistory
from asyncz_like.stores._legacy import check_mongo_collection
from asyncz_like.stores.base import (
    DEFAULT_CONNECT_TIMEOUT,
    DEFAULT_OPERATION_TIMEOUT,
    PersistentStore,
    check_claim,
    check_name,
    check_timeout,
    from_timestamp,
    mask_url,
    to_timestamp,
)
from asyncz_like.tasks.task import Task

_ORDER = [("next_run_time", ASCENDING), ("_id", ASCENDING)]
#: the order of a claim: the highest priority first, then the earliest
_CLAIM_ORDER = [("priority", DESCENDING), *_ORDER]
#: how many due documents one claim reads at most; the rest wait for the next pass
CLAIM_BATCH = 500
#: ``claim_token`` tags the documents one bulk claim or release wrote (see ``claim_due_tasks``)
UNCLAIMED: dict[str, Any] = {"claimed_by": None, "claim_expires": None, "claimed_at": None, "claim_token": None}
_FREE = {"claimed_by": {"$eq": None}}
_HELD = {"claim_expires": {"$exists": True, "$ne": None}}


def _options_in(url: Any) -> set[str]:
    """The (lower-cased) option names in a MongoDB URL's query; options are case-insensitive."""
    if not isinstance(url, str) or "://" not in url:
        return set()
    return {name.lower() for name, _ in parse_qsl(urlsplit(url).query)}


class MongoDBStore(MongoHistory, PersistentStore):
    """The server: a ``url`` (``mongodb://[user:password@]host:port/[database]``), or asyncz's
    form, ``host=`` (a URL or host name, with ``port=`` and any other ``MongoClient``
    keyword), or a ready ``client`` (also a ``"module:attribute"`` reference to one); by
    default ``mongodb://localhost:27017``. A first argument that is not a URL is asyncz's
    ``database``. ``database`` defaults to the URL's database, else ``asyncz``.

    Timeouts (seconds): ``operation_timeout`` becomes ``timeoutMS``, which bounds a whole
    operation (finding the server and pymongo's one retry included); ``connect_timeout``
    becomes ``connectTimeoutMS`` and ``serverSelectionTimeoutMS``, and bounds ``start``. The
    same options given as keywords or in the URL win (a ``socketTimeoutMS`` of yours keeps
    ``timeoutMS`` unset). A ``client`` keeps its own settings. Extra keyword arguments go to
    ``MongoClient``."""

    unavailable_errors = (ConnectionFailure, ExecutionTimeout)
    #: what our own client was made with (``shutdown`` makes a new one from it)
    _client_args: tuple[str | list[str] | None, dict[str, Any]]

    def __init__(
        self,
        url: str | None = None,
        collection: str = "tasks",
        client: MongoClient | str | None = None,
        pickle_protocol: int | None = None,
        *,
        database: str | None = None,
        host: str | list[str] | None = None,
        serializer: Serializer | str | None = None,
        encryption_key: str | bytes | None = None,
        encryption_key_env: str | None = None,
        connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
        operation_timeout: float = DEFAULT_OPERATION_TIMEOUT,
        change_streams: bool | None = None,
        **connect_args: Any,
    ) -> None:
        super().__init__(serializer, encryption_key, encryption_key_env, pickle_protocol)
        if change_streams is not None and not isinstance(change_streams, bool):
            raise TypeError(f"change_streams: expected True, False or None (auto), got {change_streams!r}")
        self.change_streams = change_streams
        self.connect_timeout = check_timeout(connect_timeout, "connect_timeout")
        self.operation_timeout = check_timeout(operation_timeout, "operation_timeout")
        if isinstance(url, str) and "://" not in url:  # asyncz: MongoDBStore("database", "collection")
            if database is not None:
                raise ValueError(f"database: given twice, as the first argument ({url!r}) and as database=")
            url, database = None, url
        if isinstance(client, str):  # asyncz resolves a reference to a client object
            client = resolve_reference(client, "client")
        if client is not None:
            if url is not None or host is not None or connect_args:
                raise ValueError("client: give either a client or the server (url, host, ...), not both")
            if not isinstance(client, MongoClient):
                raise TypeError(f"client: expected a pymongo.MongoClient, got {type(client).__name__}")
            self.client = client
            self._owns_client = False
            address, port = client.topology_description.server_descriptions().popitem()[0]
            self.url = f"mongodb://{address}:{port}"
        else:
            if url is not None and host is not None:
                raise ValueError("host, url: both name the server; give one or the other")
            self.url = self._connect(url if url is not None else host, connect_args)
            self._owns_client = True
        if database is None:
            database = self.client.get_default_database(default="asyncz").name
        self.collection = self.client[check_name(database, "database")][check_name(collection, "collection")]

    def _connect(self, server: str | list[str] | None, connect_args: dict[str, Any]) -> str:
        """Make the client on ``server`` with the store's timeouts; returns the URL to show."""
        given = {name.lower() for name in connect_args} | _options_in(server)
        defaults = {
            "connectTimeoutMS": self.connect_timeout * 1000,
            "serverSelectionTimeoutMS": self.connect_timeout * 1000,
        }
        if not given & {"timeoutms", "sockettimeoutms"}:
            defaults["timeoutMS"] = self.operation_timeout * 1000
        connect_args.update({name: value for name, value in defaults.items() if name.lower() not in given})
        connect_args.setdefault("connect", False)
        if server is None:
            shown = f"mongodb://localhost:{connect_args.get('port') or 27017}"
        elif isinstance(server, str) and "://" in server:
            shown = server
        else:
            names = ",".join([server] if isinstance(server, str) else map(str, server))
            port = connect_args.get("port")
            shown = f"mongodb://{names}" + (f":{port}" if port else "")
        try:
            self.client = MongoClient(server, **connect_args)
        except (PyMongoError, ValueError, TypeError) as exc:
            raise ValueError(f"url: {mask_url(shown)!r} is not a usable MongoDB server: {exc}") from None
        self._client_args = (server, dict(connect_args))
        return shown

    def start(self, scheduler: Any, alias: str) -> None:
        super().start(scheduler, alias)
        try:
            with timeout(self.client.options.server_selection_timeout):  # connect_timeout, unless set
                self.client.admin.command("ping")
            self.collection.create_index("next_run_time")
            self.collection.create_index("claimed_by")  # renewing an owner's leases
            self.collection.create_index("claim_expires")  # the earliest lease expiry
            self.collection.create_index("priority")  # finding documents written before it existed
            check_mongo_collection(self)  # tasks written by asyncz: refused until converted
        except PyMongoError as exc:
            raise self.connection_error(self.url, exc) from exc

    def shutdown(self) -> None:
        """Close our client and put a new, unconnected one in its place (it connects on first
        use): a closed ``MongoClient`` refuses every call, and a stopped scheduler's store is
        still read (its run history) and may be started again."""
        if self._owns_client:
            self.client.close()
            server, connect_args = self._client_args
            self.client = MongoClient(server, **{**connect_args, "connect": False})
            self.collection = self.client[self.collection.database.name][self.collection.name]

    # -- reads -----------------------------------------------------------------------

    def lookup_task(self, task_id: str) -> Task | None:
        document = self.collection.find_one({"_id": task_id}, ["state"])
        return None if document is None else self.restore_task(task_id, document["state"])

    def get_due_tasks(self, now: datetime) -> list[Task]:
        documents = self.collection.find({"next_run_time": {"$lte": now.timestamp()}}, ["state"]).sort(_ORDER)
        return self.restore_rows((document["_id"], document["state"]) for document in documents)

    def get_next_run_time(self) -> datetime | None:
        """The earliest unclaimed run time, or a lease expiry if earlier (to take over a dead
        scheduler's runs); a claimed document's own, stale, run time never counts."""
        documents = (
            self.collection.find({"next_run_time": {"$ne": None}, **_FREE}, ["next_run_time"])
            .sort(_ORDER)
            .limit(self.set_aside_count() + 1)
        )
        next_run_time = self.first_runnable((document["_id"], document["next_run_time"]) for document in documents)
        held = self.collection.find(_HELD, ["claim_expires"]).sort("claim_expires", ASCENDING).limit(1)
        for document in held:
            expires = from_timestamp(document["claim_expires"])
            if next_run_time is None or expires < next_run_time:
                return expires
        return next_run_time

    def get_all_tasks(self) -> list[Task]:
        scheduled = list(self.collection.find({"next_run_time": {"$ne": None}}, ["state"]).sort(_ORDER))
        paused = list(self.collection.find({"next_run_time": None}, ["state"]).sort("_id", ASCENDING))
        return self.restore_rows((document["_id"], document["state"]) for document in scheduled + paused)

    # -- writes ----------------------------------------------------------------------

    def _fields(self, task: Task) -> dict[str, Any]:
        return {
            "next_run_time": to_timestamp(task.next_run_time),
            "state": Binary(self.encode_task(task)),
            "priority": task.priority,
        }

    def add_task(self, task: Task) -> None:
        try:
            self.collection.insert_one({"_id": task.id, **self._fields(task)})
        except DuplicateKeyError:
            raise ConflictIdError(task.id) from None

    def update_task(self, task: Task) -> None:
        # a change made while a run is in flight ends its claim (see SQLAlchemyStore.update_task)
        result = self.collection.update_one({"_id": task.id}, {"$set": {**self._fields(task), **UNCLAIMED}})
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

    # -- claims: several schedulers sharing this collection ----------------------------

    supports_claims = True
    claim_batch = CLAIM_BATCH

    def claim_due_tasks(self, now: datetime, owner: str, lease_seconds: float, limit: int | None = None) -> list[Task]:
        """Read the claimable ids; claim the free ones with one ``update_many`` that tags them
        with a token of this call, then read back the documents bearing it. The filter still
        says "free and due", so of several schedulers racing, each document gets one owner, and
        the token tells each which ones it got. An expired claim is taken over one
        ``find_one_and_update`` at a time: the document as it was before tells when its dead
        scheduler claimed it. Of more due documents than one claim takes, the highest
        ``priority`` come first, then the earliest (only then are they sorted by priority)."""
        owner = check_claim(owner, lease_seconds)
        ts = now.timestamp()
        due = {"next_run_time": {"$lte": ts}}
        claimable = {**due, "$or": [_FREE, {"claim_expires": {"$lt": ts}}]}
        batch = limit or CLAIM_BATCH
        candidates = list(self.collection.find(claimable, ["_id", "claimed_by"]).sort(_ORDER).limit(batch + 1))
        if len(candidates) > batch:  # more due than one claim takes: the highest priorities
            candidates = list(self.collection.find(claimable, ["_id", "claimed_by"]).sort(_CLAIM_ORDER).limit(batch))
        order = {document["_id"]: index for index, document in enumerate(candidates)}
        free = [document["_id"] for document in candidates if document.get("claimed_by") is None]
        expired = [document["_id"] for document in candidates if document.get("claimed_by") is not None]
        claim = {"claimed_by": owner, "claim_expires": ts + lease_seconds, "claimed_at": ts}
        # No ``$or`` beside the ``_id`` here: the MongoDB-wire test server (nx-27017) applies an
        # update whose filter has one to whichever document matches the ``$or`` alone.
        expired_claim = {**due, "claim_expires": {"$lt": ts}}
        states: list[tuple[str, Any, float | None]] = []  # id, state, claimed_at before
        if free:
            token = uuid.uuid4().hex
            self.collection.update_many(
                {"_id": {"$in": free}, **due, **_FREE}, {"$set": {**claim, "claim_token": token}}
            )
            mine = self.collection.find({"_id": {"$in": free}, "claim_token": token, "claimed_by": owner}, ["state"])
            states.extend((document["_id"], document["state"], None) for document in mine)
        began = time.monotonic()
        for task_id in expired:
            # Nothing claimed here is renewed or run before the batch returns: takeovers that
            # take long (a slow server) stop at a quarter of the lease, so no claim can lapse
            # before its run starts (the rest waits for the next pass, which comes at once).
            elapsed = time.monotonic() - began
            if states and elapsed > lease_seconds / 4:
                break
            before = self.collection.find_one_and_update(
                {"_id": task_id, **expired_claim},  # a claim released meanwhile is free: the next pass
                {"$set": {**claim, "claim_expires": ts + lease_seconds + int(elapsed), "claim_token": None}},
                projection=["state", "claimed_at"],
                return_document=ReturnDocument.BEFORE,
            )
            if before is not None:  # None: another scheduler got it first, or it was deleted
                states.append((task_id, before["state"], before.get("claimed_at")))
        states.sort(key=lambda row: order[row[0]])
        tasks: list[Task] = []
        unrestorable = []
        for task_id, state, claimed_at in sharing_gil(states):  # restoring is CPU work: let the loop in
            task = self.restore_task(task_id, state)
            if task is None:
                unrestorable.append(task_id)
                continue
            if claimed_at is not None:  # an expired claim: its scheduler died holding it
                task.interrupted_at = from_timestamp(claimed_at)
            tasks.append(task)
        if unrestorable:  # set aside: leave them unclaimed for the user to fix or remove
            self.collection.update_many({"_id": {"$in": unrestorable}, "claimed_by": owner}, {"$set": UNCLAIMED})
        tasks.sort(key=lambda task: -task.priority)  # stable: the earliest first among equals
        return tasks

    def release_task(self, task: Task, owner: str) -> bool:
        return self.release_tasks([task], owner)[0]

    def release_tasks(self, tasks: list[Task], owner: str) -> list[bool]:
        """One unordered ``bulk_write`` for the lot, each write conditional on the claim still
        being ``owner``'s. The result only counts matches, so every write also tags the
        document with a token of this call: when fewer matched than were sent, the tagged
        ones are the released ones. A finished task is tagged first (still claimed, so no one
        else can take it) and the tagged ones deleted after; one changed in between stays."""
        if not tasks:
            return []
        token = uuid.uuid4().hex
        operations: list[Any] = []
        finished: list[str] = []
        for task in sharing_gil(tasks):  # encoding is CPU work: let the event loop in
            held = {"_id": task.id, "claimed_by": owner}
            if task.next_run_time is None:
                finished.append(task.id)  # type: ignore[arg-type]
                operations.append(UpdateOne(held, {"$set": {"claim_token": token}}))
            else:
                operations.append(UpdateOne(held, {"$set": {**self._fields(task), **UNCLAIMED, "claim_token": token}}))
        result = self.collection.bulk_write(operations, ordered=False)
        if result.matched_count == len(operations):
            released = {task.id for task in tasks}
        else:  # a claim was lost (taken over, or the task changed or deleted meanwhile)
            ids = [task.id for task in tasks]
            released = {doc["_id"] for doc in self.collection.find({"_id": {"$in": ids}, "claim_token": token}, [])}
        tagged = [task_id for task_id in finished if task_id in released]
        if tagged:
            deleted = self.collection.delete_many({"_id": {"$in": tagged}, "claim_token": token}).deleted_count
            if deleted < len(tagged):  # changed in between (its claim ended): it stays, not released
                released -= {doc["_id"] for doc in self.collection.find({"_id": {"$in": tagged}}, [])}
        return [task.id in released for task in tasks]

    def renew_claims(self, owner: str, lease_seconds: float, now: datetime) -> None:
        self.collection.update_many({"claimed_by": owner}, {"$set": {"claim_expires": now.timestamp() + lease_seconds}})

    # -- change feed: a change stream sees every write, ours and everyone else's ----------

    def uses_change_streams(self) -> bool:
        """``change_streams=None`` (the default): where MongoDB offers them, on a replica set or
        a sharded cluster. A standalone server is polled. (The nx-27017 test server answers
        change streams on its own, but each open stream slows every other call it serves some
        thirtyfold, so it is polled unless asked.)"""
        if self.change_streams is not None:
            return self.change_streams
        try:
            hello = self.client.admin.command("hello")
        except PyMongoError:
            return False
        return "setName" in hello or hello.get("msg") == "isdbgrid"

    def watch(self, callback: Any) -> bool:
        from asyncz_like.stores.feeds import MongoChangeFeed

        if not self.uses_change_streams():
            return False
        feed = MongoChangeFeed(self.collection)
        try:
            feed.start(callback)
        except PyMongoError:  # a standalone server without change streams: poll it instead
            return False
        self._feed = feed
        return True

    def __repr__(self) -> str:
        return f"<MongoDBStore (url={mask_url(self.url)!r}, collection={self.collection.full_name!r})>"
