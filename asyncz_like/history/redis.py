"""Run history and heartbeats for the Redis store, in keys beside the task keys.

* ``<tasks_key>.history``: a hash of run id -> record (JSON);
* ``<tasks_key>.history.all``: a sorted set of ``"<run id>:<task id>"`` by finished time,
  for the store's newest records and for pruning by age;
* ``<tasks_key>.history.task.<task id>``: a sorted set of run ids by finished time per task,
  for one task's newest records and for keeping the newest N of each.

A stream or one list per store was the obvious shape, but neither can keep "the newest N
of each task" nor read one task's records without scanning everybody's. Pruning runs as a
Lua script, so no reader sees a record in one key and not the other.

``<tasks_key>.schedulers``: a hash of scheduler id -> ``"<renewed>|<expires>"``.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from datetime import datetime
from typing import TYPE_CHECKING, Any

from asyncz_like._gil import in_slices, sharing_gil
from asyncz_like.history.records import STALE_BEAT_SECONDS

if TYPE_CHECKING:
    from redis import Redis

#: records written per pipeline, and task ids per pruning script
WRITE_CHUNK = 200
PRUNE_CHUNK = 200
#: records removed per call of the max-age script
AGE_CHUNK = 2_000

# KEYS: records hash, all-index. ARGV: per-task key prefix, keep, task ids...
_TRIM = """
local prefix, keep = ARGV[1], tonumber(ARGV[2])
local removed = 0
for i = 3, #ARGV do
  local key = prefix .. ARGV[i]
  local excess = redis.call('ZCARD', key) - keep
  if excess > 0 then
    local old = redis.call('ZRANGE', key, 0, excess - 1)
    redis.call('ZREMRANGEBYRANK', key, 0, excess - 1)
    for _, run_id in ipairs(old) do
      redis.call('HDEL', KEYS[1], run_id)
      redis.call('ZREM', KEYS[2], run_id .. ':' .. ARGV[i])
    end
    removed = removed + #old
  end
end
return removed
"""

# KEYS: records hash, all-index. ARGV: per-task key prefix, older than, how many at most.
_EXPIRE = """
local old = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', '(' .. ARGV[2], 'LIMIT', 0, tonumber(ARGV[3]))
for _, member in ipairs(old) do
  local sep = string.find(member, ':', 1, true)
  local run_id, task_id = string.sub(member, 1, sep - 1), string.sub(member, sep + 1)
  redis.call('HDEL', KEYS[1], run_id)
  redis.call('ZREM', ARGV[1] .. task_id, run_id)
  redis.call('ZREM', KEYS[2], member)
end
return #old
"""


class RedisHistory:
    """Mixed into :class:`~asyncz_like.stores.redis.RedisStore`."""

    supports_history = True

    if TYPE_CHECKING:
        redis: Redis
        tasks_key: str
        run_times_key: str
        owners_key: str

    @property
    def history_key(self) -> str:
        """The hash of run id -> record (JSON)."""
        return f"{self.tasks_key}.history"

    @property
    def history_index_key(self) -> str:
        """The sorted set of ``<run id>:<task id>`` by finished time."""
        return f"{self.tasks_key}.history.all"

    @property
    def history_task_prefix(self) -> str:
        """The prefix of each task's sorted set of run ids."""
        return f"{self.tasks_key}.history.task."

    @property
    def schedulers_key(self) -> str:
        """The hash of scheduler id -> heartbeat."""
        return f"{self.tasks_key}.schedulers"

    def _script(self, name: str, source: str) -> Any:
        scripts: dict[str, Any] = self.__dict__.setdefault("_history_scripts", {})
        if name not in scripts:
            scripts[name] = self.redis.register_script(source)
        return scripts[name]

    # -- history ---------------------------------------------------------------------

    def record_runs(self, records: list[dict[str, Any]]) -> None:
        """A transaction (MULTI/EXEC) per chunk: the record and both index entries."""
        prefix = self.history_task_prefix
        for chunk in sharing_gil(in_slices(records, WRITE_CHUNK)):  # encoding is CPU work
            pipe = self.redis.pipeline(transaction=True)
            for record in chunk:
                run_id, task_id, score = record["run_id"], record["task_id"], record["finished_at"]
                pipe.hset(self.history_key, run_id, json.dumps(record, separators=(",", ":")))
                pipe.zadd(self.history_index_key, {f"{run_id}:{task_id}": score})
                pipe.zadd(prefix + task_id, {run_id: score})
            pipe.execute()

    def get_run_history(
        self, task_id: str | None, limit: int, outcomes: Collection[str] | None, since: float | None
    ) -> list[dict[str, Any]]:
        """Walk the index newest first, a page at a time, until ``limit`` records match."""
        key = self.history_index_key if task_id is None else self.history_task_prefix + task_id
        low = "-inf" if since is None else repr(since)
        page = limit if outcomes is None else max(limit * 4, 200)
        found: list[dict[str, Any]] = []
        offset = 0
        while len(found) < limit:
            members: list[bytes] = self.redis.zrevrangebyscore(key, "+inf", low, start=offset, num=page)  # type: ignore[assignment]
            if not members:
                break
            offset += len(members)
            run_ids = [member.decode().split(":", 1)[0] for member in members]
            for data in self.redis.hmget(self.history_key, run_ids):  # type: ignore[union-attr]
                if data is None:  # pruned between the two reads
                    continue
                record = json.loads(data)
                if outcomes is None or record["outcome"] in outcomes:
                    found.append(record)
            if len(members) < page:
                break
        return found[:limit]

    def prune_history(self, task_ids: Collection[str], keep_per_task: int, older_than: float | None) -> None:
        """Lua scripts: records past the max age, then each task's oldest past ``keep_per_task``."""
        keys = [self.history_key, self.history_index_key]
        prefix = self.history_task_prefix
        if older_than is not None:
            expire = self._script("expire", _EXPIRE)
            while expire(keys=keys, args=[prefix, repr(older_than), AGE_CHUNK]) >= AGE_CHUNK:
                pass
        trim = self._script("trim", _TRIM)
        for chunk in in_slices(sorted(task_ids), PRUNE_CHUNK):
            trim(keys=keys, args=[prefix, keep_per_task, *chunk])

    # -- heartbeats ------------------------------------------------------------------

    def beat(self, scheduler_id: str, now: datetime, expires_at: datetime) -> None:
        """Set this scheduler's field in the heartbeat hash."""
        self.redis.hset(self.schedulers_key, scheduler_id, f"{now.timestamp()!r}|{expires_at.timestamp()!r}")

    def drop_beat(self, scheduler_id: str) -> None:
        """Remove this scheduler's field from the heartbeat hash."""
        self.redis.hdel(self.schedulers_key, scheduler_id)

    def get_schedulers(self, now: datetime) -> list[dict[str, Any]]:
        """The heartbeat hash and the owners of the claims; long-expired heartbeats are removed."""
        pipe = self.redis.pipeline(transaction=False)
        pipe.hgetall(self.schedulers_key)
        pipe.hvals(self.owners_key)
        beats, owners = pipe.execute()
        seen: dict[str, dict[str, Any]] = {}
        stale = []
        for raw_id, value in beats.items():
            renewed, expires = (float(part) for part in value.decode().split("|", 1))
            if expires < now.timestamp() - STALE_BEAT_SECONDS:
                stale.append(raw_id)
                continue
            scheduler_id = raw_id.decode()
            seen[scheduler_id] = {
                "scheduler_id": scheduler_id,
                "renewed_at": renewed,
                "expires_at": expires,
                "runs_held": 0,
            }
        if stale:
            self.redis.hdel(self.schedulers_key, *stale)
        for info in owners:  # "<claimed_at>|<owner>"
            owner = info.decode().split("|", 1)[1]
            entry = seen.setdefault(
                owner, {"scheduler_id": owner, "renewed_at": None, "expires_at": None, "runs_held": 0}
            )
            entry["runs_held"] += 1
        return list(seen.values())

    # -- health ----------------------------------------------------------------------

    def count_tasks(self) -> tuple[int, int]:
        """``HLEN`` of the tasks hash and ``ZCARD`` of the run times."""
        pipe = self.redis.pipeline(transaction=True)
        pipe.hlen(self.tasks_key)
        pipe.zcard(self.run_times_key)
        total, scheduled = pipe.execute()
        return int(scheduled), int(total) - int(scheduled)

    def ping(self) -> None:
        """``PING``."""
        self.redis.ping()


__all__ = ["RedisHistory"]
