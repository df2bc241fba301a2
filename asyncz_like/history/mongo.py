"""Run history and heartbeats for the MongoDB store: two collections beside the tasks one.

``<collection>_history``: one document per record (``_id`` is the run id), indexed by
(task_id, finished_at) and by finished_at. ``<collection>_schedulers``: one document per
running scheduler, renewed every third of a lease. Indexes are made on first use.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import TYPE_CHECKING, Any

from pymongo import ASCENDING, DESCENDING
from pymongo.errors import OperationFailure

from asyncz_like._gil import in_slices, sharing_gil
from asyncz_like.history.records import FIELDS, STALE_BEAT_SECONDS

if TYPE_CHECKING:
    from pymongo.collection import Collection as MongoCollection

WRITE_CHUNK = 500
PRUNE_CHUNK = 200
_NEWEST = [("finished_at", DESCENDING), ("_id", DESCENDING)]
_HELD = {"claimed_by": {"$exists": True, "$ne": None}}


class MongoHistory:
    """Mixed into :class:`~asyncz_like.stores.mongo.MongoDBStore`."""

    supports_history = True

    if TYPE_CHECKING:
        collection: MongoCollection[Any]

    _history_ready = False

    def _history(self) -> MongoCollection[Any]:
        history = self.collection.database[f"{self.collection.name}_history"]
        if not self._history_ready:
            history.create_index([("task_id", ASCENDING), ("finished_at", DESCENDING)])
            history.create_index([("finished_at", DESCENDING)])
            self._history_ready = True
        return history

    def _beats(self) -> MongoCollection[Any]:
        return self.collection.database[f"{self.collection.name}_schedulers"]

    # -- history ---------------------------------------------------------------------

    def record_runs(self, records: list[dict[str, Any]]) -> None:
        """``insert_many`` per chunk, unordered."""
        history = self._history()
        for chunk in sharing_gil(in_slices(records, WRITE_CHUNK)):
            documents = [{"_id": record["run_id"], **record} for record in chunk]
            history.insert_many(documents, ordered=False)

    def get_run_history(
        self, task_id: str | None, limit: int, outcomes: Collection[str] | None, since: float | None
    ) -> list[dict[str, Any]]:
        """One query on the history collection, newest first, using its indexes."""
        query: dict[str, Any] = {}
        if task_id is not None:
            query["task_id"] = task_id
        if outcomes is not None:
            query["outcome"] = {"$in": list(outcomes)}
        if since is not None:
            query["finished_at"] = {"$gte": since}
        documents = self._history().find(query, {name: 1 for name in FIELDS}).sort(_NEWEST).limit(limit)
        return [{name: document.get(name) for name in FIELDS} for document in documents]

    def prune_history(self, task_ids: Collection[str], keep_per_task: int, older_than: float | None) -> None:
        """Records past the max age in one ``delete_many``; per task, those past the newest ``keep_per_task``."""
        history = self._history()
        if older_than is not None:
            history.delete_many({"finished_at": {"$lt": older_than}})
        for chunk in in_slices(sorted(task_ids), PRUNE_CHUNK):
            for task_id in self._over_limit(history, list(chunk), keep_per_task):
                excess = history.find({"task_id": task_id}, ["_id"]).sort(_NEWEST).skip(keep_per_task)
                ids = [document["_id"] for document in excess]
                if ids:
                    history.delete_many({"_id": {"$in": ids}})

    @staticmethod
    def _over_limit(history: MongoCollection[Any], task_ids: list[str], keep: int) -> list[str]:
        """The tasks with more than ``keep`` records: one aggregation for the chunk."""
        try:
            counts = history.aggregate(
                [
                    {"$match": {"task_id": {"$in": task_ids}}},
                    {"$group": {"_id": "$task_id", "n": {"$sum": 1}}},
                    {"$match": {"n": {"$gt": keep}}},
                ]
            )
            return [document["_id"] for document in counts]
        except OperationFailure:  # a server without aggregation: count each
            return [task_id for task_id in task_ids if history.count_documents({"task_id": task_id}) > keep]

    # -- heartbeats ------------------------------------------------------------------

    def beat(self, scheduler_id: str, now: datetime, expires_at: datetime) -> None:
        """Upsert this scheduler's document (long-expired ones go in :meth:`get_schedulers`)."""
        beats = self._beats()
        beats.update_one(
            {"_id": scheduler_id},
            {"$set": {"renewed_at": now.timestamp(), "expires_at": expires_at.timestamp()}},
            upsert=True,
        )

    def drop_beat(self, scheduler_id: str) -> None:
        """Delete this scheduler's document."""
        self._beats().delete_one({"_id": scheduler_id})

    def get_schedulers(self, now: datetime) -> list[dict[str, Any]]:
        """Heartbeat documents, and the owners of the claims on tasks; long-expired heartbeats
        are deleted."""
        self._beats().delete_many({"expires_at": {"$lt": now.timestamp() - STALE_BEAT_SECONDS}})
        seen: dict[str, dict[str, Any]] = {}
        for document in self._beats().find({}):
            seen[document["_id"]] = {
                "scheduler_id": document["_id"],
                "renewed_at": document.get("renewed_at"),
                "expires_at": document.get("expires_at"),
                "runs_held": 0,
            }
        for document in self.collection.find(_HELD, ["claimed_by"]):
            owner = document.get("claimed_by")
            if owner is None:
                continue
            entry = seen.setdefault(
                owner, {"scheduler_id": owner, "renewed_at": None, "expires_at": None, "runs_held": 0}
            )
            entry["runs_held"] += 1
        return list(seen.values())

    # -- health ----------------------------------------------------------------------

    def count_tasks(self) -> tuple[int, int]:
        """Two ``count_documents``: all tasks and the paused ones."""
        total = self.collection.count_documents({})
        paused = self.collection.count_documents({"next_run_time": {"$eq": None}})
        return total - paused, paused

    def ping(self) -> None:
        """The server's ``ping`` command."""
        self.collection.database.client.admin.command("ping")


__all__ = ["MongoHistory"]
