"""One store, built as the reference shows (its constructor keywords, or an alias with options),
runs a task by reference. Which store: ``STORE`` (memory, file, sqlalchemy, redis, mongo) and
where: ``STORE_URL`` / ``STORE_NAME``, set by the test."""

import asyncio
import os
from urllib.parse import urlsplit

from asyncz.events.constants import TASK_EXECUTED
from asyncz.schedulers import AsyncIOScheduler
from asyncz.stores.file import FileStore
from asyncz.stores.memory import MemoryStore
from asyncz.stores.mongo import MongoDBStore
from asyncz.stores.redis import RedisStore
from asyncz.stores.sqlalchemy import SQLAlchemyStore

kind, url, name = os.environ["STORE"], os.environ.get("STORE_URL", ""), os.environ.get("STORE_NAME", "")
form = os.environ.get("STORE_FORM", "instance")
if kind == "memory":
    store, options = MemoryStore(), {"type": "memory"}
elif kind == "file":
    store, options = FileStore(directory=name), {"type": "file", "directory": name}
elif kind == "sqlalchemy":
    store = SQLAlchemyStore(database=url, tablename=name)
    options = {"type": "sqlalchemy", "database": url, "tablename": name}
elif kind == "redis":
    parts = urlsplit(url)
    database = int(parts.path.strip("/") or 0)
    keys = {"tasks_key": f"{name}.tasks", "run_times_key": f"{name}.run_times"}
    store = RedisStore(database=database, host=parts.hostname, port=parts.port, **keys)
    options = {"type": "redis", "database": database, "host": parts.hostname, "port": parts.port, **keys}
elif kind == "mongo":
    store = MongoDBStore(host=url, database="asyncz_test", collection=name)
    options = {"type": "mongo", "host": url, "database": "asyncz_test", "collection": name}
else:
    raise SystemExit(f"unknown store {kind}")


async def main():
    if form == "instance":
        scheduler = AsyncIOScheduler(timezone="UTC", stores={"default": store})
    else:
        scheduler = AsyncIOScheduler(timezone="UTC", stores={"default": options})
    executed = []
    scheduler.add_listener(executed.append, TASK_EXECUTED)
    scheduler.start()
    scheduler.add_task("tests.compat.asyncz_jobs:tick", "interval", seconds=0.2, id="tick", args=[kind])
    await asyncio.sleep(0.9)
    info = scheduler.get_task_info("tick")
    assert info is not None and info.store_alias == "default" and info.submitted
    scheduler.remove_all_tasks(None)
    scheduler.shutdown()
    assert len(executed) >= 2 and executed[0].return_value == "tick", executed


asyncio.run(main())
print("OK")
