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
sent by the sweep (integrations.deliveries), which reads the database, not the queue. A worker
takes a task with one statement (DELETE … RETURNING) where Huey's takes a transaction of four.

A task that runs often and uses the database is declared with this module's `db_task`, not
djhuey's. djhuey closes old connections around each task the way Django does around each
request, which also asks for a health check before the next query: a `SELECT 1` round trip on
PostgreSQL per task (settings: CONN_HEALTH_CHECKS). This one keeps the rest of that tidying
(a connection past CONN_MAX_AGE, one left in a transaction, one whose error made it unusable
is closed) and drops the health check: a task whose connection turns out broken (the server
restarted, a proxy dropped it) fails with OperationalError on its first statement, before it
has done anything, and is run once more on a new connection.

The consumer's workers are processes (settings.HUEY), forked from its main process: the main
process's database connections are closed before they are forked (PortalConsumer), and each
ends with the main process, also when that is killed outright (PortalProcessEnvironment).
"""

import ctypes
import functools
import logging
import os
import signal
import sys
from collections.abc import Callable
from typing import Any, NoReturn

from django.db import InterfaceError, OperationalError, connections
from huey import RedisHuey, SqliteHuey
from huey.api import Task, TaskWrapper
from huey.consumer import Consumer, ProcessEnvironment
from huey.storage import SqliteStorage

from portal.request_id import current_request_id

KWARG = "_request_id"

logger = logging.getLogger(__name__)


class PortalProcessEnvironment(ProcessEnvironment):
    """Huey's process workers (settings.HUEY: one interpreter lock per worker, so the consumer
    uses every core), each of which ends with the consumer's main process. Huey's stop with
    it when it stops, but a main process that is killed outright would leave them running,
    orphans that go on taking tasks and enqueuing periodic ones beside the consumer started
    in its place. On Linux each asks the kernel to kill it when its parent dies (an attempt
    cut short is sent again: its claim runs out, integrations.deliveries)."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.parent = os.getpid()  # made in the main process, before it forks

    def init_child(self, process: Any) -> None:
        if sys.platform.startswith("linux"):
            pr_set_pdeathsig = 1
            ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL)
            if os.getppid() != self.parent:  # the parent died before the request was made
                os._exit(1)
        super().init_child(process)


class PortalConsumer(Consumer):
    def start(self) -> None:
        if self.environment.forks:
            # A connection the main process opened before (a system check's, a command's own)
            # would be shared by every worker forked from it.
            connections.close_all()
        super().start()

    def get_environment(self, worker_type: str) -> Any:
        if worker_type == "process":
            return PortalProcessEnvironment(self._graceful_sig, self._interrupt_sig)
        return super().get_environment(worker_type)


class PortalHueyMixin:
    """Adds the current request id to each task it enqueues and restores it when the task runs;
    no revocation (see the module docstring); its consumer's process workers end with it."""

    def create_consumer(self, **options: Any) -> Consumer:
        return PortalConsumer(self, **options)

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
    """Huey's SQLite storage, committing without an fsync each (see the module docstring), and
    taking a task off the queue with one statement."""

    # The oldest task of the highest priority, taken in one statement (atomic on its own);
    # Huey's is a transaction of four (BEGIN EXCLUSIVE, SELECT, DELETE, COMMIT).
    DEQUEUE = (
        "delete from task where id = (select id from task where queue = ? "
        "order by priority desc, id limit 1) returning data"
    )

    def _create_connection(self) -> Any:
        connection = super()._create_connection()
        if self._journal_mode == "wal" and self._fsync is None:
            connection.execute("pragma synchronous=NORMAL")
        return connection

    def dequeue(self) -> bytes | None:
        # As Huey does: a read first, so an idle worker's poll never takes the write lock.
        waiting = "select 1 from task where queue = ? limit 1"
        if not self.sql(waiting, (self.name,), results=True):
            return None
        rows = self.sql(self.DEQUEUE, (self.name,), results=True)
        return rows[0][0] if rows else None


class PortalSqliteHuey(PortalHueyMixin, SqliteHuey):
    storage_class = PortalSqliteStorage


class QuietTasks(logging.Filter):
    """Leaves out Huey's lines for each run ("Enqueueing periodic task …", "Executing …",
    "… executed in …") of a task declared with `logs_itself=True`: such a task writes a line of
    its own when there is something to say (a delivery attempt's names the delivery, its outcome
    and what comes next; a routine task's what it did, see `routine`). With LOG_LEVEL=DEBUG
    they are kept, as DEBUG lines. Huey's warnings and errors about a task always pass. Named
    in settings.LOGGING, on the console handler (the scheduler's line comes from a logger of
    its own, below Huey's)."""

    PER_RUN = frozenset({"Enqueueing periodic task %s.", "Executing %s", "%s executed in %0.3fs"})

    def filter(self, record: logging.LogRecord) -> bool:
        if record.msg not in self.PER_RUN or not isinstance(record.args, tuple):
            return True
        if not getattr(record.args[0], "logs_itself", False):
            return True
        record.levelno, record.levelname = logging.DEBUG, logging.getLevelName(logging.DEBUG)
        return logging.getLogger(record.name).isEnabledFor(logging.DEBUG)


def routine(
    schedule: Callable[[Any], bool], *, did: str = "", uses_db: bool = True
) -> Callable[[Callable[[], Any]], TaskWrapper]:
    """A periodic task that says for itself what it did. Most run every minute and mostly find
    nothing to do (closing what is overdue, sweeping up lost tasks, the heartbeat): Huey's
    three lines a run are left out (QuietTasks), and when the task's result (a count) is not
    zero it logs `did % result`, on its module's logger — "quizzes past their deadline
    finished: 3" when it happens, rather than a dozen lines a minute of "Executing …". Without
    `did` the task logs what it wants itself (the daily pruning) or nothing (the heartbeat).
    `uses_db`: djhuey's db_periodic_task (connections tidied around each run), else its
    periodic_task."""
    from huey.contrib.djhuey import db_periodic_task, periodic_task

    declare = db_periodic_task if uses_db else periodic_task

    def decorator(fn: Callable[[], Any]) -> TaskWrapper:
        log = logging.getLogger(fn.__module__)

        @functools.wraps(fn)
        def run() -> Any:
            result = fn()
            if did and result:
                log.info(did, result)
            return result

        return declare(schedule, logs_itself=True)(run)

    return decorator


def db_task(*args: Any, **kwargs: Any) -> Callable[[Callable], TaskWrapper]:
    """A Huey task that uses the database: djhuey's `db_task` without a health check per task
    (see the module docstring). The function must be safe to run twice after a database error:
    it is, when its first statement claims its work (as a delivery attempt's does).
    `logs_itself=True` (like the other options, an attribute of the task) leaves out Huey's
    own lines for each run (QuietTasks)."""
    from huey.contrib.djhuey import HUEY  # not at import: djhuey builds HUEY from this module

    def decorator(fn: Callable) -> TaskWrapper:
        wrapper = HUEY.task(*args, **kwargs)(_with_connection(fn, HUEY))
        wrapper.call_local = fn
        return wrapper

    return decorator


def _with_connection(fn: Callable, huey: Any) -> Callable:
    @functools.wraps(fn)
    def inner(*args: Any, **kwargs: Any) -> Any:
        if huey.immediate:  # run in the caller's thread, on the caller's connection
            return fn(*args, **kwargs)
        tidy_connections()
        try:
            try:
                return fn(*args, **kwargs)
            except (OperationalError, InterfaceError) as error:
                # Never keep a broken connection: a new one, and the task once more.
                logger.warning("%s: %s; retrying once on a new connection", fn.__name__, error)
                for connection in connections.all(initialized_only=True):
                    connection.close()
                return fn(*args, **kwargs)
        finally:
            tidy_connections()

    return inner


def tidy_connections() -> None:
    """Django's close_old_connections() without the health check it asks for: connections that
    outlived CONN_MAX_AGE, were left outside autocommit, or are unusable after an error are
    closed; the others are used as they are."""
    for connection in connections.all(initialized_only=True):
        connection.close_if_unusable_or_obsolete()
        if connection.connection is not None:
            # Django's own flag (BaseDatabaseWrapper, since 4.1), missing from django-stubs.
            connection.health_check_done = True  # type: ignore[attr-defined]
