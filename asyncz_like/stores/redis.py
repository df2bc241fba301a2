"""Tasks in Redis: a hash of id -> state and a sorted set of id -> next run timestamp.

Paused tasks are in the hash only, so the due lookup (``ZRANGEBYSCORE`` up to now)
reads only due ids. Adding and updating touch both keys in one Lua script, so no other
client ever sees a task in one key and not the other. A later lease for schedulers
sharing the store fits beside them as a third key (id -> owner and expiry).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from redis import Redis
from redis.exceptions import RedisError

from asyncz_like.abc import Serializer
from asyncz_like.exceptions import ConflictIdError, TaskLookupError
from asyncz_like.stores.base import PersistentStore, check_name, mask_url
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
return 1
"""


class RedisStore(PersistentStore):
    """``url``: ``redis://[:password@]host:port/db`` (default ``redis://localhost:6379/0``), or
    pass a ready ``client``. Extra keyword arguments go to ``Redis.from_url``."""

    def __init__(
        self,
        url: str | None = None,
        *,
        client: Redis | None = None,
        tasks_key: str = "asyncz.tasks",
        run_times_key: str = "asyncz.run_times",
        serializer: Serializer | str | None = None,
        encryption_key: str | bytes | None = None,
        encryption_key_env: str | None = None,
        **connect_args: Any,
    ) -> None:
        super().__init__(serializer, encryption_key, encryption_key_env)
        self.tasks_key = check_name(tasks_key, "tasks_key")
        self.run_times_key = check_name(run_times_key, "run_times_key")
        if self.tasks_key == self.run_times_key:
            raise ValueError(f"run_times_key: must differ from tasks_key, both are {tasks_key!r}")
        if client is not None:
            if url is not None or connect_args:
                raise ValueError("client: give either a client or a url (with connection options), not both")
            if not isinstance(client, Redis):
                raise TypeError(f"client: expected a redis.Redis, got {type(client).__name__}")
            self.redis = client
            kwargs = client.get_connection_kwargs()
            self.url = f"redis://{kwargs.get('host', '?')}:{kwargs.get('port', '?')}/{kwargs.get('db', 0)}"
        else:
            self.url = check_name(url or "redis://localhost:6379/0", "url")
            connect_args.setdefault("socket_connect_timeout", 5)
            connect_args.setdefault("health_check_interval", 30)
            try:
                self.redis = Redis.from_url(self.url, **connect_args)
            except ValueError as exc:
                raise ValueError(f"url: {mask_url(self.url)!r} is not a Redis URL: {exc}") from None
        self._add = self.redis.register_script(_ADD)
        self._update = self.redis.register_script(_UPDATE)

    def start(self, scheduler: Any, alias: str) -> None:
        super().start(scheduler, alias)
        try:
            self.redis.ping()
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
        first: list[tuple[bytes, float]] = self.redis.zrange(  # type: ignore[assignment]
            self.run_times_key, 0, self.set_aside_count(), withscores=True
        )
        return self.first_runnable((task_id.decode(), score) for task_id, score in first)

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
        updated = self._update(keys=[self.tasks_key, self.run_times_key], args=self._args(task))
        if not updated:
            raise TaskLookupError(task.id)
        self.forget_set_aside(task.id)  # type: ignore[arg-type]

    def delete_task(self, task_id: str) -> None:
        pipe = self.redis.pipeline(transaction=True)
        pipe.hdel(self.tasks_key, task_id)
        pipe.zrem(self.run_times_key, task_id)
        deleted, _ = pipe.execute()
        if not deleted:
            raise TaskLookupError(task_id)
        self.forget_set_aside(task_id)

    def remove_all_tasks(self) -> None:
        self.redis.delete(self.tasks_key, self.run_times_key)
        self.forget_set_aside()

    def __repr__(self) -> str:
        return f"<RedisStore (url={mask_url(self.url)!r}, tasks_key={self.tasks_key!r})>"
