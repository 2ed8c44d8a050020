"""The `deliver` task as the consumer runs it (portal.queue's db_task): no health check per
task, but never a broken connection kept: a task whose connection broke runs once more on a new
one and sends once; and one log line per attempt, not Huey's two more."""

import logging
import time

import psycopg
import pytest
from django.db import OperationalError, connection, transaction
from huey.contrib.djhuey import HUEY

from integrations.deliveries import enqueue_delivery
from integrations.models import Delivery, DeliveryAttempt
from tests.integrations.conftest import PAYLOAD

# Real commits: the consumer's task runs outside any transaction, as it does in production.
pytestmark = pytest.mark.django_db(transaction=True)


def queued(url: str) -> Delivery:
    with transaction.atomic():
        return enqueue_delivery(kind="results_submission", target_url=url, payload=PAYLOAD)


def run_next_task(queue) -> None:
    """What a consumer's worker does with the next task on the queue."""
    queue.execute(queue.dequeue())


def fails_first_statements(count: int):
    """An execute wrapper: the first `count` statements fail as a dropped connection does."""
    failed = []

    def wrapper(execute, sql, params, many, context):
        if len(failed) < count:
            failed.append(sql)
            raise OperationalError("server closed the connection unexpectedly")
        return execute(sql, params, many, context)

    return wrapper


def test_a_task_whose_connection_broke_runs_once_more_and_sends_once(
    queue, partner, outbound, caplog
):
    delivery = queued(partner.url("/ok"))

    with connection.execute_wrapper(fails_first_statements(1)):
        run_next_task(queue)

    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.DELIVERED and delivery.attempt_count == 1
    assert len(partner.received()) == 1
    assert "retrying once on a new connection" in caplog.text


def test_a_task_that_fails_twice_gives_up_and_leaves_the_delivery_to_the_sweep(
    queue, partner, outbound
):
    delivery = queued(partner.url("/ok"))

    with connection.execute_wrapper(fails_first_statements(2)):
        run_next_task(queue)  # Huey logs the error; the consumer carries on

    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.PENDING and delivery.attempt_count == 0
    assert partner.received() == []
    assert delivery.queued_at is not None  # the sweep takes it once its lease runs out


def test_a_connection_the_server_dropped_is_replaced(queue, partner, outbound):
    """PostgreSQL ends our session between two tasks (a restart, an idle timeout): the next
    task finds out on its first statement, and is run again on a new connection."""
    if connection.vendor != "postgresql":
        pytest.skip("a server that ends sessions: PostgreSQL")
    first, second = queued(partner.url("/ok")), queued(partner.url("/ok"))
    run_next_task(queue)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        [pid] = cursor.fetchone()
    ours = connection.settings_dict
    with psycopg.connect(
        host=ours["HOST"], port=ours["PORT"], user=ours["USER"], dbname=ours["NAME"]
    ) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", [pid])
    time.sleep(0.1)

    run_next_task(queue)

    assert {d.status for d in Delivery.objects.filter(pk__in=[first.pk, second.pk])} == {
        Delivery.Status.DELIVERED
    }
    assert len(partner.received()) == 2


def test_a_connection_past_its_age_is_closed_after_the_task(queue, partner, outbound):
    queued(partner.url("/ok"))
    connection.ensure_connection()

    def aged(execute, sql, params, many, context):
        connection.close_at = time.monotonic() - 1  # CONN_MAX_AGE ran out meanwhile
        return execute(sql, params, many, context)

    with connection.execute_wrapper(aged):
        run_next_task(queue)

    assert connection.connection is None


@HUEY.task()
def plain_task() -> None:
    """A task declared as Huey's are by default: it logs nothing of its own."""


class Printed(logging.Handler):
    """The lines Huey's logger prints on the console as settings.LOGGING sets it up (its
    filters), at `level`."""

    def __init__(self, level: int = logging.INFO) -> None:
        super().__init__()
        self.lines: list[str] = []
        self.level_of_huey = level
        for console in logging.getLogger("huey").handlers:
            for log_filter in console.filters:
                self.addFilter(log_filter)

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(f"{record.levelname} {record.getMessage()}")

    def __enter__(self) -> "Printed":
        huey_logger = logging.getLogger("huey")
        self.was = huey_logger.level
        huey_logger.setLevel(self.level_of_huey)
        huey_logger.addHandler(self)
        return self

    def __exit__(self, *exc: object) -> None:
        logging.getLogger("huey").removeHandler(self)
        logging.getLogger("huey").setLevel(self.was)


def test_one_log_line_per_attempt_and_huey_s_own_only_for_tasks_that_do_not_log(
    queue, partner, outbound, caplog
):
    """Huey writes two lines for each task it runs; a delivery attempt's own line says more
    (delivery, kind, outcome, what next), and the minute's sweep says what it swept when it
    swept anything, so Huey's are left out for them; a task that logs nothing keeps them."""
    from integrations.tasks import sweep_deliveries

    with Printed() as printed:
        delivery = queued(partner.url("/ok"))
        run_next_task(queue)
        queue.execute(sweep_deliveries.s())
        queue.execute(plain_task.s())

    assert DeliveryAttempt.objects.get(delivery=delivery).outcome == "delivered"
    assert [r.getMessage() for r in caplog.records if r.name == "integrations.deliveries"] == [
        f"Delivery {delivery.pk} (results_submission) attempt 1: delivered; done"
    ]
    assert [line.split(":")[0] for line in printed.lines] == [
        "INFO Executing test_delivery_task.plain_task",
        "INFO test_delivery_task.plain_task",
    ]
    assert not [r for r in caplog.records if r.name == "integrations.tasks"]  # nothing swept


def test_the_sweep_says_what_it_queued_again_and_debug_shows_huey_s_lines(
    queue, partner, outbound, caplog
):
    """A delivery whose task was lost is queued again by the sweep, which says so in one line;
    with LOG_LEVEL=DEBUG, Huey's lines for each run are there too, as DEBUG lines."""
    from integrations.tasks import sweep_deliveries

    caplog.set_level(logging.INFO, logger="integrations.tasks")
    delivery = queued(partner.url("/ok"))
    queue.flush()  # its task is lost (Redis was down, a consumer was killed)
    Delivery.objects.filter(pk=delivery.pk).update(queued_at=None)

    with Printed(logging.DEBUG) as printed:
        assert queue.execute(sweep_deliveries.s()) == 1

    assert [r.getMessage() for r in caplog.records if r.name == "integrations.tasks"] == [
        "due deliveries whose task was lost, queued again: 1"
    ]
    assert [line.split(":")[0] for line in printed.lines if "sweep_deliveries" in line] == [
        "DEBUG Executing integrations.tasks.sweep_deliveries",
        "DEBUG integrations.tasks.sweep_deliveries",
    ]
    run_next_task(queue)
    assert len(partner.received()) == 1


def test_only_an_attempts_own_writes_skip_the_wait_for_the_disk(queue, partner, outbound):
    """On PostgreSQL an attempt's claim and ending commit without waiting for the WAL flush;
    the setting lives only as long as each of those statements, so the next transaction on the
    same connection (a HubSpot step saved, a periodic task) commits as durably as ever."""
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL's synchronous_commit")
    queued(partner.url("/ok"))

    run_next_task(queue)

    with connection.cursor() as cursor:
        cursor.execute("SHOW synchronous_commit")
        assert cursor.fetchone() == ("on",)
    assert Delivery.objects.get().status == Delivery.Status.DELIVERED
