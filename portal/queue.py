"""The portal's Huey classes: a task carries the id of the request that enqueued it, and each
task costs the queue as little as it can.

A delivery attempt's log line then names the request that caused it (docs/operations.md,
"Logs"): the id travels in the task's message and is the current request id while the task
runs. A task enqueued outside a request (a periodic sweep) runs under an id of its own.
settings.HUEY["huey_class"] names one of these.

Per task, Huey would also ask its storage twice whether the task was revoked (before it runs,
and to clear the mark after): two Redis round trips, or two SQLite statements, for a feature
the portal never uses. Nothing is revoked here: a delivery is cancelled in the database (the
outbox is the truth, the queue only carries wake-ups), so revoking raises instead.

The SQLite queue commits without an fsync each (WAL with synchronous=NORMAL rather than
SQLite's FULL): a commit then costs microseconds instead of a disk flush (about 2 ms, two per
task). A power cut may lose the last tasks, never corrupt the file; a lost `deliver` task is
sent by the sweep (integrations.deliveries), which reads the database, not the queue.
"""

from typing import Any, NoReturn

from huey import RedisHuey, SqliteHuey
from huey.api import Task
from huey.storage import SqliteStorage

from portal.request_id import current_request_id

KWARG = "_request_id"


class PortalHueyMixin:
    """Adds the current request id to each task it enqueues and restores it when the task runs;
    no revocation (see the module docstring)."""

    def enqueue(self, task: Task) -> Any:
        request_id = current_request_id.get()
        if request_id and isinstance(task, Task):
            task.kwargs = {**(task.kwargs or {}), KWARG: request_id}
        return super().enqueue(task)  # type: ignore[misc]

    def execute(self, task: Task, timestamp: Any = None) -> Any:
        request_id = (task.kwargs or {}).get(KWARG) or f"task_{task.id[:8]}"
        token = current_request_id.set(request_id)
        try:
            return super().execute(task, timestamp)  # type: ignore[misc]
        finally:
            current_request_id.reset(token)

    def _execute(self, task: Task, timestamp: Any) -> Any:
        # Only now, when it runs: a task scheduled for later is stored again with the id.
        if task.kwargs:
            task.kwargs.pop(KWARG, None)
        return super()._execute(task, timestamp)  # type: ignore[misc]

    def is_revoked(self, task: Any, timestamp: Any = None, peek: bool = True) -> bool:
        return False

    def delete(self, key: str) -> Any:
        # After each task Huey deletes the task's revocation mark ("r:<id>"): there is none.
        if key.startswith("r:"):
            return False
        return super().delete(key)  # type: ignore[misc]

    def revoke(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise NotImplementedError(
            "The portal's queue does not revoke tasks: change the delivery in the database"
        )

    revoke_all = revoke_by_id = revoke


class PortalRedisHuey(PortalHueyMixin, RedisHuey):
    pass


class PortalSqliteStorage(SqliteStorage):
    """Huey's SQLite storage, committing without an fsync each (see the module docstring)."""

    def _create_connection(self) -> Any:
        connection = super()._create_connection()
        if self._journal_mode == "wal" and self._fsync is None:
            connection.execute("pragma synchronous=NORMAL")
        return connection


class PortalSqliteHuey(PortalHueyMixin, SqliteHuey):
    storage_class = PortalSqliteStorage
