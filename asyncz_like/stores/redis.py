"""Tasks in Redis: a hash of id -> state and a sorted set of id -> next run timestamp.

Paused tasks are in the hash only, so the due lookup (``ZRANGEBYSCORE`` up to now)
reads only due ids. Adding and updating touch both keys in one Lua script, so no other
client ever sees a task in one key and not the other.

Schedulers sharing the store claim due runs under a lease kept in two more keys: a
sorted set ``<claims_key>`` of id -> lease expiry (so the earliest expiry is one read)
and a hash ``<claims_key>.owners`` of id -> ``"<claimed_at>|<owner>"``. Claiming,
releasing and renewing are Lua scripts: Redis runs a script alone, so a compare-and-set
over those keys is atomic without WATCH/MULTI retries. A task's own run time stays in
the run times set while it is claimed, so plain reads see the store as before.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import quote

from asyncz_like._extras import extra_needed

with extra_needed("the redis store"):  # a missing driver fails here, naming the extra to install
    import redis  # noqa: F401

from redis import Redis
from redis.backoff import NoBackoff
from redis.connection import SSLConnection
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError
from redis.retry import Retry

from asyncz_like._gil import in_slices, sharing_gil
from asyncz_like.abc import Serializer
from asyncz_like.exceptions import ConflictIdError, TaskLookupError
from asyncz_like.history.redis import RedisHistory
from asyncz_like.stores._legacy import check_redis_keys
from asyncz_like.stores.base import (
    DEFAULT_CONNECT_TIMEOUT,
    DEFAULT_OPERATION_TIMEOUT,
    PersistentStore,
    check_claim,
    check_name,
    check_timeout,
    from_timestamp,
    mask_url,
)
from asyncz_like.tasks.task import Task

_ADD = """
if redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2]) == 0 then return 0 end
if ARGV[3] ~= '' then redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1]) end
return 1
"""

_UPDATE = """
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
if ARGV[3] == '' then redis.call('ZREM', KEYS[2], ARGV[1]) else redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1]) end
redis.call('ZREM', KEYS[3], ARGV[1])
redis.call('HDEL', KEYS[4], ARGV[1])
return 1
"""

#: how many due tasks one claim takes at most; the rest wait for the next pass
CLAIM_BATCH = 500
#: the server's address as ``Redis()`` keywords: a URL names them all, so they may not come twice
_SERVER_KEYWORDS = frozenset({"host", "port", "db", "username", "password", "unix_socket_path"})
#: release scripts per pipeline; see ``release_tasks``
RELEASE_CHUNK = 100

# KEYS: tasks, run_times, claims, owners. ARGV: now, owner, lease expiry, limit.
# Walks the due ids in run time order and claims those unclaimed or whose lease expired
# before now. Returns id, previous claimed_at ('' if it was free) and state for each.
_CLAIM = """
local now = tonumber(ARGV[1])
local limit = tonumber(ARGV[4])
local out, taken, offset = {}, 0, 0
while taken < limit do
  local ids = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', ARGV[1], 'LIMIT', offset, 200)
  if #ids == 0 then break end
  offset = offset + #ids
  for _, id in ipairs(ids) do
    local expiry = redis.call('ZSCORE', KEYS[3], id)
    if not expiry or tonumber(expiry) < now then
      local previous = ''
      if expiry then
        local info = redis.call('HGET', KEYS[4], id)
        if info then previous = string.sub(info, 1, string.find(info, '|', 1, true) - 1) end
      end
      redis.call('ZADD', KEYS[3], ARGV[3], id)
      redis.call('HSET', KEYS[4], id, ARGV[1] .. '|' .. ARGV[2])
      out[#out + 1] = id
      out[#out + 1] = previous
      out[#out + 1] = redis.call('HGET', KEYS[1], id) or ''
      taken = taken + 1
      if taken >= limit then break end
    end
  end
end
return out
"""

# KEYS: tasks, run_times, claims, owners. ARGV: id, owner, state, score, finished ("1": delete it).
# Only while ARGV[2] holds the claim: drop it and, unless state is '', write the task.
_RELEASE = """
local info = redis.call('HGET', KEYS[4], ARGV[1])
if not info or string.sub(info, string.find(info, '|', 1, true) + 1) ~= ARGV[2] then return 0 end
redis.call('ZREM', KEYS[3], ARGV[1])
redis.call('HDEL', KEYS[4], ARGV[1])
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then return 0 end
if ARGV[5] == '1' then
  redis.call('HDEL', KEYS[1], ARGV[1])
  redis.call('ZREM', KEYS[2], ARGV[1])
  return 1
end
if ARGV[3] ~= '' then
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
  if ARGV[4] == '' then redis.call('ZREM', KEYS[2], ARGV[1]) else redis.call('ZADD', KEYS[2], ARGV[4], ARGV[1]) end
end
return 1
"""

# KEYS: claims, owners. ARGV: owner, new expiry.
_RENEW = """
local all = redis.call('HGETALL', KEYS[2])
local renewed = 0
for i = 1, #all, 2 do
  local info = all[i + 1]
  if string.sub(info, string.find(info, '|', 1, true) + 1) == ARGV[1] then
    redis.call('ZADD', KEYS[1], 'XX', ARGV[2], all[i])
    renewed = renewed + 1
  end
end
return renewed
"""

# KEYS: run_times, claims. ARGV: how many unclaimed candidates.
# Returns {earliest lease expiry or '', {id, run time, ...}}: the first unclaimed ids in
# run time order, walking past claimed ones; none later than the earliest expiry matter.
_NEXT = """
local want = tonumber(ARGV[1]) * 2
local first = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')
local expiry = first[2]
local limit = expiry and tonumber(expiry)
local out, offset = {}, 0
while #out < want do
  local chunk = redis.call('ZRANGE', KEYS[1], offset, offset + 199, 'WITHSCORES')
  if #chunk == 0 then break end
  offset = offset + 200
  for i = 1, #chunk, 2 do
    if limit and tonumber(chunk[i + 1]) > limit then return {expiry, out} end
    if not redis.call('ZSCORE', KEYS[2], chunk[i]) then
      out[#out + 1] = chunk[i]
      out[#out + 1] = chunk[i + 1]
      if #out >= want then break end
    end
  end
end
return {expiry or '', out}
"""


def _database_number(value: Any) -> int:
    if isinstance(value, str) and value.isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"database: expected a Redis database number (0, 1, ...), got {value!r}")
    return value


def _url_of(client: Redis) -> str:
    """The URL a client connects to (its password is masked wherever the URL is shown)."""
    kwargs = client.get_connection_kwargs()
    db = kwargs.get("db", 0)
    if kwargs.get("path"):
        return f"unix://{kwargs['path']}?db={db}"
    scheme = "rediss" if client.connection_pool.connection_class is SSLConnection else "redis"
    user, password = quote(kwargs.get("username") or "", safe=""), kwargs.get("password")
    auth = f"{user}:{quote(password, safe='')}@" if password else f"{user}@" * bool(user)
    return f"{scheme}://{auth}{kwargs.get('host', 'localhost')}:{kwargs.get('port', 6379)}/{db}"


class RedisStore(RedisHistory, PersistentStore):
    """The server: a ``url`` (``redis://[[user]:password@]host:port/db``), or asyncz's form,
    ``database=`` plus ``Redis()`` keywords (``host=``, ``port=``, ``password=``, ...), or a
    ready ``client``; by default ``redis://localhost:6379/0``. A database number as the first
    argument is asyncz's ``database``. ``claims_key`` defaults to ``<tasks_key>.claims``.

    Timeouts (seconds): ``connect_timeout`` and ``operation_timeout`` become redis-py's
    ``socket_connect_timeout`` and ``socket_timeout`` (those keywords, or the URL's query,
    win). A broken connection is retried once, at once; a timeout is not retried. A
    ``client`` keeps its own settings. Extra keyword arguments go to ``Redis``."""

    unavailable_errors = (RedisConnectionError, RedisTimeoutError)

    def __init__(
        self,
        url: str | int | None = None,
        tasks_key: str = "asyncz.tasks",
        run_times_key: str = "asyncz.run_times",
        pickle_protocol: int | None = None,
        *,
        database: int | str | None = None,
        client: Redis | None = None,
        claims_key: str | None = None,
        serializer: Serializer | str | None = None,
        encryption_key: str | bytes | None = None,
        encryption_key_env: str | None = None,
        connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
        operation_timeout: float = DEFAULT_OPERATION_TIMEOUT,
        **connect_args: Any,
    ) -> None:
        super().__init__(serializer, encryption_key, encryption_key_env, pickle_protocol)
        self.connect_timeout = check_timeout(connect_timeout, "connect_timeout")
        self.operation_timeout = check_timeout(operation_timeout, "operation_timeout")
        if isinstance(url, int) or (isinstance(url, str) and url.isdigit()):  # asyncz: RedisStore(0)
            if database is not None:
                raise ValueError(f"database: given twice, as the first argument ({url!r}) and as database=")
            url, database = None, url
        self.tasks_key = check_name(tasks_key, "tasks_key")
        self.run_times_key = check_name(run_times_key, "run_times_key")
        if self.tasks_key == self.run_times_key:
            raise ValueError(f"run_times_key: must differ from tasks_key, both are {tasks_key!r}")
        self.claims_key = check_name(f"{tasks_key}.claims" if claims_key is None else claims_key, "claims_key")
        self.owners_key = f"{self.claims_key}.owners"
        taken = {self.tasks_key, self.run_times_key}
        if self.claims_key in taken or self.owners_key in taken:
            raise ValueError(f"claims_key: {self.claims_key!r} clashes with tasks_key or run_times_key")
        self._keys = [self.tasks_key, self.run_times_key, self.claims_key, self.owners_key]
        if client is not None:
            if url is not None or database is not None or connect_args:
                raise ValueError("client: give either a client or the server (url, database, host, ...), not both")
            if not isinstance(client, Redis):
                raise TypeError(f"client: expected a redis.Redis, got {type(client).__name__}")
            self.redis = client
        else:
            connect_args.setdefault("socket_connect_timeout", self.connect_timeout)
            connect_args.setdefault("socket_timeout", self.operation_timeout)
            connect_args.setdefault("retry", Retry(NoBackoff(), 1, (RedisConnectionError,)))
            connect_args.setdefault("health_check_interval", 30)
            if url is not None:
                self.redis = self._from_url(check_name(url, "url"), database, connect_args)
            else:
                if "db" in connect_args:
                    if database is not None:
                        raise ValueError("database, db: give the database number once")
                    database = connect_args.pop("db")
                self.redis = Redis(db=_database_number(0 if database is None else database), **connect_args)
        self.url = url if isinstance(url, str) else _url_of(self.redis)
        self._add = self.redis.register_script(_ADD)
        self._update = self.redis.register_script(_UPDATE)
        self._claim = self.redis.register_script(_CLAIM)
        self._release = self.redis.register_script(_RELEASE)
        self._renew = self.redis.register_script(_RENEW)
        self._next = self.redis.register_script(_NEXT)

    @staticmethod
    def _from_url(url: str, database: Any, connect_args: dict[str, Any]) -> Redis:
        """A client on ``url``; the URL names the server, so server keywords beside it are
        refused rather than silently overridden by it (redis-py lets the URL win)."""
        clash = sorted(_SERVER_KEYWORDS & connect_args.keys()) + ["database"] * (database is not None)
        if clash:
            raise ValueError(f"{', '.join(clash)}: the url {mask_url(url)!r} names the server; give one or the other")
        try:
            return Redis.from_url(url, **connect_args)
        except ValueError as exc:
            raise ValueError(f"url: {mask_url(url)!r} is not a Redis URL: {exc}") from None

    def start(self, scheduler: Any, alias: str) -> None:
        super().start(scheduler, alias)
        try:
            self.redis.ping()
            check_redis_keys(self)  # tasks written by asyncz: refused until converted
        except RedisError as exc:
            raise self.connection_error(self.url, exc) from exc

    def shutdown(self) -> None:
        self.redis.close()

    # -- reads -----------------------------------------------------------------------

    def lookup_task(self, task_id: str) -> Task | None:
        return self.restore_task(task_id, self.redis.hget(self.tasks_key, task_id))  # type: ignore[arg-type]

    def get_due_tasks(self, now: datetime) -> list[Task]:
        ids: list[bytes] = self.redis.zrangebyscore(self.run_times_key, "-inf", now.timestamp())  # type: ignore[assignment]
        if not ids:
            return []
        states: list[bytes | None] = self.redis.hmget(self.tasks_key, ids)  # type: ignore[assignment]
        return self.restore_rows((task_id.decode(), state) for task_id, state in zip(ids, states, strict=True))

    def get_next_run_time(self) -> datetime | None:
        """The earliest unclaimed run time, or a lease expiry if earlier (to take over a dead
        scheduler's runs); a claimed task's own, stale, run time never counts."""
        expiry, flat = self._next(keys=[self.run_times_key, self.claims_key], args=[self.set_aside_count() + 1])
        pairs = ((flat[i].decode(), float(flat[i + 1])) for i in range(0, len(flat), 2))
        next_run_time = self.first_runnable(pairs)
        if expiry:
            expires = from_timestamp(float(expiry))
            if next_run_time is None or expires < next_run_time:
                return expires
        return next_run_time

    def get_all_tasks(self) -> list[Task]:
        pipe = self.redis.pipeline(transaction=True)
        pipe.hgetall(self.tasks_key)
        pipe.zrange(self.run_times_key, 0, -1)
        states, scheduled = pipe.execute()
        order = [task_id for task_id in scheduled if task_id in states]
        order += sorted(set(states) - set(scheduled))
        return self.restore_rows((task_id.decode(), states[task_id]) for task_id in order)

    # -- writes ----------------------------------------------------------------------

    @staticmethod
    def _score(task: Task) -> str:
        return "" if task.next_run_time is None else repr(task.next_run_time.timestamp())

    def _args(self, task: Task) -> list[str | bytes]:
        return [task.id or "", self.encode_task(task), self._score(task)]

    def add_task(self, task: Task) -> None:
        added = self._add(keys=[self.tasks_key, self.run_times_key], args=self._args(task))
        if not added:
            raise ConflictIdError(task.id)

    def update_task(self, task: Task) -> None:
        updated = self._update(keys=self._keys, args=self._args(task))
        if not updated:
            raise TaskLookupError(task.id)
        self.forget_set_aside(task.id)  # type: ignore[arg-type]

    def delete_task(self, task_id: str) -> None:
        pipe = self.redis.pipeline(transaction=True)
        pipe.hdel(self.tasks_key, task_id)
        pipe.zrem(self.run_times_key, task_id)
        pipe.zrem(self.claims_key, task_id)
        pipe.hdel(self.owners_key, task_id)
        deleted, *_ = pipe.execute()
        if not deleted:
            raise TaskLookupError(task_id)
        self.forget_set_aside(task_id)

    def remove_all_tasks(self) -> None:
        self.redis.delete(*self._keys)
        self.forget_set_aside()

    # -- claims: several schedulers sharing these keys ---------------------------------

    supports_claims = True
    claim_batch = CLAIM_BATCH

    def claim_due_tasks(self, now: datetime, owner: str, lease_seconds: float, limit: int | None = None) -> list[Task]:
        """One script claims the lot; a task taken over from an expired lease comes back with
        ``interrupted_at`` = when its dead owner claimed it."""
        owner = check_claim(owner, lease_seconds)
        ts = now.timestamp()
        # repr() round-trips a float exactly, so the claimed_at read back equals ts
        args: list[str | int] = [repr(ts), owner, repr(ts + lease_seconds), limit or CLAIM_BATCH]
        flat: list[bytes] = self._claim(keys=self._keys, args=args)
        tasks = []
        unrestorable = []
        for index in sharing_gil(range(0, len(flat), 3)):  # restoring is CPU work: let the loop in
            task_id, previous, state = flat[index].decode(), flat[index + 1], flat[index + 2]
            task = self.restore_task(task_id, state or None)
            if task is None:
                unrestorable.append(task_id)
                continue
            if previous:  # an expired lease: its scheduler died holding it
                task.interrupted_at = from_timestamp(float(previous))
            tasks.append(task)
        if unrestorable:  # set aside: leave them unclaimed for the user to fix or remove
            pipe = self.redis.pipeline(transaction=False)
            for task_id in unrestorable:
                self._release(keys=self._keys, args=[task_id, owner, "", ""], client=pipe)
            pipe.execute()
        return tasks

    def release_task(self, task: Task, owner: str) -> bool:
        return self.release_tasks([task], owner)[0]

    def release_tasks(self, tasks: list[Task], owner: str) -> list[bool]:
        """Pipelines of release scripts (each atomic), ``RELEASE_CHUNK`` at a time: redis-py
        packs a whole pipeline's commands while holding the GIL, and packing 500 at once kept
        the event loop waiting past a switch interval (5 ms)."""
        released: list[bool] = []
        for chunk in sharing_gil(in_slices(tasks, RELEASE_CHUNK)):
            pipe = self.redis.pipeline(transaction=False)
            for task in sharing_gil(chunk):  # encoding is CPU work too
                finished = task.next_run_time is None  # finished: deleted, if the claim is still ours
                state = b"" if finished else self.encode_task(task)
                self._release(
                    keys=self._keys,
                    args=[task.id or "", owner, state, self._score(task), "1" if finished else "0"],
                    client=pipe,
                )
            released.extend(bool(outcome) for outcome in pipe.execute())
        return released

    def renew_claims(self, owner: str, lease_seconds: float, now: datetime) -> None:
        self._renew(keys=[self.claims_key, self.owners_key], args=[owner, repr(now.timestamp() + lease_seconds)])

    # -- change feed: pub/sub on <tasks_key>.changes -----------------------------------

    @property
    def changes_channel(self) -> str:
        """The pub/sub channel on which schedulers sharing these keys announce changes."""
        return f"{self.tasks_key}.changes"

    def watch(self, callback: Any) -> bool:
        from asyncz_like.stores.feeds import RedisFeed

        self._feed = RedisFeed(self.redis, self.changes_channel)
        self._feed.start(callback)
        return True

    def announce(self, next_run_time: datetime) -> None:
        from asyncz_like.stores.feeds import encode_time

        self.redis.publish(self.changes_channel, encode_time(next_run_time))

    def __repr__(self) -> str:
        return f"<RedisStore (url={mask_url(self.url)!r}, tasks_key={self.tasks_key!r})>"
