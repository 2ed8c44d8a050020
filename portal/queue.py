"""The portal's Huey classes: a task carries the id of the request that enqueued it.

A delivery attempt's log line then names the request that caused it (docs/operations.md,
"Logs"): the id travels in the task's message and is the current request id while the task
runs. A task enqueued outside a request (a periodic sweep) runs under an id of its own.
settings.HUEY["huey_class"] names one of these.
"""

from typing import Any

from huey import RedisHuey, SqliteHuey
from huey.api import Task

from portal.request_id import current_request_id

KWARG = "_request_id"


class RequestIdMixin:
    """Adds the current request id to each task it enqueues and restores it when the task runs."""

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


class PortalRedisHuey(RequestIdMixin, RedisHuey):
    pass


class PortalSqliteHuey(RequestIdMixin, SqliteHuey):
    pass
