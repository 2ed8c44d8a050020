"""Outbound deliveries: the transactional outbox, its attempts, retries and replay.

A caller writes its own rows and `enqueue_delivery()` in one transaction; the Huey task
`deliver` (integrations.tasks, handed to this module by `use_task()` when the app is ready)
is enqueued only once that transaction commits, and the per-minute sweep re-enqueues
anything due whose task was lost (Redis down, a consumer killed mid-task), so nothing is lost.
`Delivery.queued_at` says when a delivery's task is ready on the queue (written by the same
statements that make it due); the sweep leaves alone a due delivery whose task is queued,
and takes it once its task is missing or older than TASK_LEASE.

Success, failure and a permanent refusal are the transport's to judge (for a webhook: a 2xx
with `"success": true` when required; 410 Gone and a refused URL stop at once; see
integrations.transports.webhook).

Schedule: 8 attempts over about a day. Attempt 1 is sent at once; after failed attempt n the
next waits RETRY_GAPS[n - 1], each ±10 % jitter, so attempts land about

    attempt   1    2      3      4       5     6     7      8
    at        0    1 min  5 min  30 min  2 h   6 h   12 h   24 h   after creation.

A 429 or 503 with Retry-After (seconds or an HTTP date, capped at 24 h) waits at least that
long. After the 8th failure the delivery is dead. Gaps are counted from the end of the last
attempt, so a backlog after an outage doesn't fire several attempts back to back.

Every attempt is a DeliveryAttempt row. A worker claims a delivery with one conditional
UPDATE (`locked_until`, settings.DELIVERY_CLAIM_SECONDS), so two workers never send it at
once; an attempt left "sending" by a worker that died is marked "interrupted" by the next one.
`replay_delivery()` sends a delivered or dead delivery again: same webhook-id, same bytes, a
fresh series of 8 attempts.

Routes: a webhook with a `route` (integrations.routes, e.g. "partner:7:results") takes its
target URL, signing secrets and allowed hosts from its owner's settings at each attempt, so a
fixed URL or a rotated secret applies to queued deliveries, retries and replays. Each attempt
records the URL it went to, and the delivery's `target_url` follows the last one.

Groups: deliveries that carry the state of one thing (a cluster's metadata for one partner)
share a `group_key`; with the same `kind` and `route` they form a group, ordered by id. A
newer one supersedes the older ones: those still pending become "superseded" and are never
sent (nor replayed, like the older delivered or dead ones), so a retry can't deliver stale data
after fresh. An older one a worker is sending at that moment finishes its attempt first: no
delivery of a group is claimed while an older one of it is held, and the worker checks under
its claim, before sending, that it has not been superseded.

Transports: `Delivery.transport` says how a delivery is sent — a signed webhook, a HubSpot
sync or an e-mail, declared in integrations.transports. Each is a Transport whose `send()`
returns an AttemptResult or raises TransportError(message, permanent=...); claims, attempts,
the schedule and replay are the same for all and live here. A transport with several steps
keeps its progress in `Delivery.state` (saved at once with integrations.transports.base's
`save_state()`, and again with the attempt), so a retry skips what is already done.
"""

import json
import logging
import random
import time
from collections.abc import Iterable
from contextlib import nullcontext
from dataclasses import replace
from datetime import datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING, ClassVar, NotRequired, TypedDict, cast

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, connection, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import F, Q
from django.utils import timezone

from integrations import routes, signing
from integrations.models import Delivery, DeliveryAttempt, JSONObject
from integrations.transports import TRANSPORTS, transport_for
from integrations.transports.base import AttemptResult, TransportError
from portal.db import Columns, hot_cursor
from portal.text import shown_control_characters

if TYPE_CHECKING:
    from huey.api import TaskWrapper

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
# Wait after failed attempt n (1-based) is RETRY_GAPS[n - 1]; see the module docstring.
RETRY_GAPS = (
    timedelta(minutes=1),
    timedelta(minutes=4),
    timedelta(minutes=25),
    timedelta(minutes=90),
    timedelta(hours=4),
    timedelta(hours=6),
    timedelta(hours=12),
)
JITTER = 0.10
# A due delivery whose task has been ready on the queue this long without a worker taking it
# is presumed lost (Redis lost it, its consumer was killed) and is enqueued again by the sweep.
# Longer than a backlog takes to drain, so a backlog is not queued twice; a duplicate task
# would only find nothing to claim.
TASK_LEASE = timedelta(minutes=5)

Outcome = DeliveryAttempt.Outcome
Status = Delivery.Status


def dispatch(delivery: Delivery) -> AttemptResult:
    """One attempt through the delivery's transport, its TransportError as a result."""
    try:
        return transport_for(delivery).send(delivery)
    except TransportError as error:
        return error.result()


def delivery_status(delivery: Delivery | None) -> str:
    """The portal's word for a delivery: "synced"/"sent" (its transport's), "pending",
    "failed" or "skipped" (there is none)."""
    if delivery is None:
        return "skipped"
    if delivery.status == Status.DELIVERED:
        transport = TRANSPORTS.get(delivery.transport)
        return transport.done_status if transport else "delivered"
    if delivery.status == Status.DEAD:
        return "failed"
    if delivery.status == Status.SUPERSEDED:
        return "superseded"
    return "pending"


def delivery_status_by_key(dedupe_key: str | None) -> str:
    """delivery_status() of the delivery recorded under `dedupe_key` ("skipped" if none)."""
    if not dedupe_key:
        return "skipped"
    return delivery_status(Delivery.objects.filter(dedupe_key=dedupe_key).first())


def serialise_payload(payload: JSONObject) -> str:
    """The exact JSON text sent (compact, UTF-8; dates, decimals and UUIDs as Django does)."""
    return json.dumps(payload, cls=DjangoJSONEncoder, ensure_ascii=False, separators=(",", ":"))


def enqueue_delivery(
    *,
    kind: str,
    target_url: str,
    payload: JSONObject,
    signing_secret: str = "",
    allowed_hosts: Iterable[str] = (),
    require_success_flag: bool = True,
    dedupe_key: str | None = None,
    transport: str = Delivery.Transport.WEBHOOK,
    route: str = "",
    group_key: str = "",
) -> Delivery:
    """Record a delivery in the caller's transaction; it is sent once that transaction commits.

    Must run inside `transaction.atomic()` together with the writes it reports. With a
    `dedupe_key` already used, returns the existing delivery and enqueues nothing.

    A `route` ("partner:7:results", see integrations.routes) makes each attempt take its
    target URL, secrets and hosts from the owner's settings of that moment; the values given
    here are kept as the fallback (and shown until the first attempt).

    A `group_key` (e.g. "cluster:b4bf406c-4f9") makes this delivery supersede the older ones
    of the same kind, route and group key (see the module docstring): only the latest state
    is worth sending.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError(
            "enqueue_delivery() must run inside transaction.atomic(), with the writes it reports"
        )
    if signing_secret:
        signing.secret_key(signing_secret)  # a malformed secret is a bug: fail now, not later
    dedupe_key = dedupe_key or None
    if dedupe_key is not None:
        existing = Delivery.objects.filter(dedupe_key=dedupe_key).first()
        if existing is not None:
            return existing
    try:
        with transaction.atomic():
            delivery = Delivery.objects.create(
                queued_at=timezone.now(),  # its task is enqueued on commit
                kind=kind,
                target_url=target_url,
                payload=serialise_payload(payload),
                signing_secret=signing_secret,
                allowed_hosts=sorted({host.strip().lower() for host in allowed_hosts}),
                require_success_flag=require_success_flag,
                dedupe_key=dedupe_key,
                transport=transport,
                route=route,
                group_key=group_key,
            )
    except IntegrityError:
        # Another transaction recorded the same event first.
        existing = Delivery.objects.filter(dedupe_key=dedupe_key).first() if dedupe_key else None
        if existing is None:
            raise
        return existing
    if group_key:
        supersede_older(delivery)
    transaction.on_commit(partial(enqueue_task, delivery.pk))
    return delivery


def group_of(delivery: Delivery) -> Q:
    """The deliveries of the delivery's group (itself included): same kind, route, group key."""
    return Q(kind=delivery.kind, route=delivery.route, group_key=delivery.group_key)


def supersede_older(delivery: Delivery) -> int:
    """Mark the older deliveries of the delivery's group as replaced by it; return how many
    pending ones will now never be sent. One still held by a worker keeps its claim: it is
    finishing an attempt, and the newer one waits for it (see attempt_delivery)."""
    older = Delivery.objects.filter(
        group_of(delivery), pk__lt=delivery.pk, superseded_by__isnull=True
    )
    superseded = older.filter(status=Status.PENDING).update(
        status=Status.SUPERSEDED,
        superseded_by=delivery,
        next_attempt_at=None,
        last_error=f"Superseded by #{delivery.pk}, a newer {delivery.kind} of the same group.",
    )
    # Delivered and dead ones stay as they are, but are never replayed after the newer one.
    older.update(superseded_by=delivery)
    return superseded


# The Huey task that sends one attempt (see use_task()).
_deliver: "TaskWrapper | None" = None


def use_task(task: "TaskWrapper") -> None:
    """Send deliveries with `task`, the Huey task that makes one attempt (integrations.tasks
    `deliver`, handed over by IntegrationsConfig.ready(): the tasks module builds on this one,
    so this one does not import it)."""
    global _deliver
    _deliver = task


def enqueue_task(delivery_id: int, *, eta: datetime | None = None) -> bool:
    """Put a `deliver` task on the queue; False (logged) if the queue is unreachable.

    The caller has set the delivery's `queued_at` (to now, or to `eta`) in its own statement;
    a task that can't be enqueued clears it, so the next sweep sends the delivery. A task lost
    later costs only time: the sweep takes it once TASK_LEASE has passed.
    """
    try:
        if _deliver is None:
            raise RuntimeError("No delivery task: the integrations app is not ready")
        if eta is None:
            _deliver(delivery_id)
        else:
            _deliver.schedule((delivery_id,), eta=eta)
    except Exception:
        logger.warning(
            "Could not enqueue delivery %s; the sweep will send it", delivery_id, exc_info=True
        )
        Delivery.objects.filter(pk=delivery_id).update(queued_at=None)
        return False
    return True


def task_lost_q(now: datetime) -> Q:
    """Deliveries with no task known to be on the queue, or one queued longer than the lease."""
    return Q(queued_at__isnull=True) | Q(queued_at__lt=now - TASK_LEASE)


def sweep_deliveries(*, limit: int = 1000) -> int:
    """Enqueue every delivery that is due, unclaimed and without a live task (the safety net);
    return how many. A backlog waiting on the queue is not queued again."""
    now = timezone.now()
    lost = Delivery.objects.due(now).filter(task_lost_q(now))
    pks = list(lost.order_by("next_attempt_at", "pk").values_list("pk", flat=True)[:limit])
    if not pks:
        return 0
    lost.filter(pk__in=pks).update(queued_at=now)
    return sum(enqueue_task(pk) for pk in pks)


def attempt_delivery(delivery_id: int) -> str:
    """Send one attempt of a delivery if it is due and nobody holds it; return the outcome.

    Returns "skipped" when the delivery is not due, not pending, claimed by another worker, or
    waiting for a worker that holds an older delivery of its group; "superseded" when a newer
    delivery of its group replaced it between the claim and the attempt row (on SQLite, where
    they are two statements; nothing is sent).

    Its statements are written by hand (_AttemptSql), once per process: building them with the
    ORM cost three times the HTTP request. A first attempt is the claim, the attempt row and
    the ending: on PostgreSQL two statements (the claim and the attempt row are one), on
    SQLite four (the ending is two, in a transaction). A routed delivery reads its route
    besides (integrations.routes): on PostgreSQL in the claim's statement, when its resolver
    names the owner's row.
    """
    sql = _AttemptSql.of(connection)
    now = timezone.now()
    claim = now + timedelta(seconds=settings.DELIVERY_CLAIM_SECONDS)
    adapt = connection.ops.adapt_datetimefield_value
    params = {"id": delivery_id, "now": adapt(now), "claim": adapt(claim)}
    # One cursor for the attempt's own statements, before and after sending.
    with hot_cursor() as cursor:
        if sql.claim_and_start:
            # Claimed and its attempt row written at one instant: nothing can supersede it
            # in between, and a claim that fails writes nothing.
            cursor.execute(sql.claim_and_start, params)
            rows = cursor.fetchall()
            if not rows:
                return "skipped"
            delivery, attempt_id = sql.claimed_and_started(connection, rows[0])
        else:
            # Due, unheld, pending, no older delivery of its group held (_AttemptSql.CLAIM),
            # and its task taken: until this attempt schedules the next one, none is queued.
            cursor.execute(sql.claim, params)
            # Every row fetched: SQLite finishes (and commits) a statement with RETURNING
            # only then.
            rows = cursor.fetchall()
            if not rows:
                return "skipped"
            delivery = sql.delivery(connection, rows[0])
            if delivery.attempt_count > 1:
                # Only a claim that was not the first since creation or replay can find an
                # attempt left "sending" (every attempt that ends records its outcome), so a
                # first attempt saves the statement.
                cursor.execute(sql.interrupt, params)
            # Written before sending, so an attempt cut short by a dying worker still shows;
            # and only while the claim is ours and the delivery pending: superseded since the
            # claim (before anything was sent), nothing is written and nothing is sent.
            cursor.execute(sql.start, params)
            rows = cursor.fetchall()
            if not rows:
                # Give the claim back and wake the newer delivery, which was waiting for it.
                released = _release_superseded(delivery, claim, attempted=False)
                return "superseded" if released else "skipped"
            attempt_id = rows[0][0]
        started = time.monotonic()
        try:
            result = dispatch(delivery)
        except Exception as error:  # a bug must not leave the delivery claimed and unrecorded
            logger.exception("Delivery %s: unexpected error while sending", delivery_id)
            result = AttemptResult(Outcome.FAILED, error=f"Internal error: {error!r}")
        # The one place an attempt's text is stored from (the attempt row, the delivery's
        # last_error, the log line): a partner's reply may hold any character, PostgreSQL
        # refuses a NUL in text, and an attempt that cannot be written stays "sending" and
        # crashes again on every retry. Shown as U+FFFD, as the console shows them.
        result = replace(
            result,
            excerpt=shown_control_characters(result.excerpt),
            error=shown_control_characters(result.error),
        )
        duration_ms = round((time.monotonic() - started) * 1000)
        changes = _after(delivery.attempt_count, result, timezone.now())
        # A retry's task is scheduled for its next attempt (on commit, below).
        next_at = changes["next_attempt_at"]
        field = Delivery._meta.get_field
        params |= {
            "attempt": attempt_id,
            "attempt_url": result.target_url or delivery.target_url,
            "duration_ms": duration_ms,
            "status_code": result.status_code,
            "excerpt": result.excerpt,
            "error": result.error,
            "outcome": result.outcome,
            "status": changes["status"],
            "delivered_at": adapt(changes.get("delivered_at")),
            "next_attempt_at": adapt(next_at),
            "last_error": changes["last_error"],
            # get_field("state") is the JSONField (the stubs allow a relation for any name).
            "state": field("state").get_db_prep_save(delivery.state, connection),  # type: ignore[union-attr]
            # Lists show where the delivery goes now, not where it was first meant to go.
            "target_url": result.target_url or None,
        }
        # One transaction: the attempt's outcome and the delivery's new state are written together.
        # On PostgreSQL that is one statement, atomic on its own.
        with transaction.atomic() if len(sql.end) > 1 else nullcontext():
            for statement in sql.end:
                cursor.execute(statement, params)
            # Only the holder of this claim may move the delivery on.
            still_ours = bool(cursor.fetchall())
            if still_ours and changes["status"] == Status.PENDING:
                transaction.on_commit(partial(enqueue_task, delivery_id, eta=next_at))
            superseded = not still_ours and _release_superseded(
                delivery, claim, attempted=True, delivered=result.outcome == Outcome.DELIVERED
            )
    if superseded:
        logger.info("Delivery %s was superseded while it was being sent", delivery_id)
    elif not still_ours:
        logger.warning("Delivery %s: the claim ran out while sending", delivery_id)
    _log_attempt(delivery, result, changes if still_ours else None)
    return result.outcome


class _AttemptSql:
    """A delivery attempt's statements for one database, built once per process from the
    models' tables and columns, and the claimed row back into a Delivery as the ORM makes it
    (the backend's and the fields' converters, then Model.from_db)."""

    # The claim: Delivery.objects.due() (pending, due, unheld), looked up by its key, and no
    # older delivery of its group held by a worker (that one goes first, so a partner never
    # gets the older state after the newer one). It returns the row (FIELDS): no SELECT after.
    CLAIM = """
        UPDATE {delivery} AS d SET {locked_until} = %(claim)s,
            {attempt_count} = {attempt_count} + 1, {queued_at} = NULL
        WHERE d.{id} = %(id)s AND d.{status} = {pending} AND d.{next_attempt_at} <= %(now)s
          AND (d.{locked_until} IS NULL OR d.{locked_until} <= %(now)s)
          AND (d.{group_key} = '' OR NOT EXISTS (
              SELECT 1 FROM {delivery} AS o
              WHERE o.{kind} = d.{kind} AND o.{route} = d.{route}
                AND o.{group_key} = d.{group_key} AND o.{id} < d.{id}
                AND o.{locked_until} > %(now)s))
        RETURNING {columns}
    """
    # The attempt's two writes for the delivery just claimed: the attempt a stopped worker
    # left "sending" is marked interrupted, then a new attempt row is written. {of_claimed}
    # and {claimed} name that delivery: alone, by its id and claim (CLAIMED); in
    # CLAIM_AND_START, as the CTE's claimed row.
    INTERRUPT = """
        UPDATE {attempt} SET {outcome} = {interrupted},
            {error} = 'The worker stopped before this attempt finished.'
        WHERE {delivery_id} {of_claimed} AND {outcome} = {sending}
    """
    START = """
        INSERT INTO {attempt} ({delivery_id}, {started_at}, {target_url}, {response_excerpt},
            {error}, {outcome})
        SELECT {id}, %(now)s, {target_url}, '', '', {sending} FROM {claimed}
        RETURNING {id}
    """
    CLAIMED = """
        {delivery} WHERE {id} = %(id)s AND {locked_until} = %(claim)s AND {status} = {pending}
    """
    # PostgreSQL: the claim, the "interrupted" mark and the attempt row as one statement (a
    # data-modifying CTE); the delivery's row and then the attempt's id come back. Its parts
    # see the same snapshot, so the mark never touches the attempt row written beside it.
    # START's RETURNING gains the lazy commit (below).
    CLAIM_AND_START = """
        WITH claimed AS ({claim}), interrupted AS ({interrupt}),
            started AS ({start}, {lazy_commit})
        SELECT claimed.*, started.{id}{owner_columns} FROM claimed CROSS JOIN started
        {owner_joins}
    """
    # PostgreSQL: the row of the route's owner, for each resolver that names one
    # (routes.OwnerRow), joined by the route's prefix and its owner id when that can be a key
    # (routes.owner_key's rule).
    OWNER_JOIN = """
        LEFT JOIN {table} AS {alias} ON left(claimed.{route}, {length}) = '{prefix}:'
          AND {alias}.{key} = CASE WHEN {owner_id} ~ '^[0-9]{{1,{digits}}}$'
              THEN {owner_id}::bigint END
    """
    # PostgreSQL: an attempt's two writes are committed without waiting for the WAL to reach
    # the disk (synchronous_commit off for that statement's transaction only; a function call,
    # so no statement is added). Every session sees them at once, as any commit; only a crash
    # of the database server itself can forget the last fraction of a second of them, and
    # then those deliveries are sent again (same webhook-id, which receivers deduplicate) —
    # never lost: the delivery was written, durably, by its cause's own transaction. SQLite
    # makes the same trade for every commit (synchronous=NORMAL). Two disk flushes per
    # attempt were the consumer's longest waits on a busy disk.
    LAZY_COMMIT = "set_config('synchronous_commit', 'off', true)"
    END_ATTEMPT = """
        UPDATE {attempt} SET {target_url} = %(attempt_url)s, {duration_ms} = %(duration_ms)s,
            {status_code} = %(status_code)s, {response_excerpt} = %(excerpt)s,
            {error} = %(error)s, {outcome} = %(outcome)s
        WHERE {id} = %(attempt)s
    """
    END_DELIVERY = """
        UPDATE {delivery} SET {status} = %(status)s,
            {delivered_at} = COALESCE(%(delivered_at)s, {delivered_at}),
            {next_attempt_at} = %(next_attempt_at)s, {queued_at} = %(next_attempt_at)s,
            {locked_until} = NULL, {last_error} = %(last_error)s, {state} = %(state)s,
            {target_url} = COALESCE(%(target_url)s, {target_url})
        WHERE {id} = %(id)s AND {locked_until} = %(claim)s AND {status} = {pending}
        RETURNING {id}
    """

    # What an attempt and the transports read of the claimed delivery: the claim returns only
    # these, the others are left deferred (read from the database should anything use one).
    # Fewer columns to convert: a datetime read from SQLite is parsed from its text.
    FIELDS = (
        "webhook_id",
        "kind",
        "transport",
        "target_url",
        "route",
        "payload",
        "signing_secret",
        "allowed_hosts",
        "require_success_flag",
        "status",
        "attempt_count",
        "locked_until",
        "group_key",
        "state",
    )

    _built: ClassVar[dict[str, "_AttemptSql"]] = {}

    def __init__(self, connection: BaseDatabaseWrapper) -> None:
        name = connection.ops.quote_name
        names = {
            field.attname: name(cast(str, field.column))  # a concrete field has a column
            for model in (Delivery, DeliveryAttempt)
            for field in model._meta.concrete_fields
        }
        tables = {
            "delivery": name(Delivery._meta.db_table),
            "attempt": name(DeliveryAttempt._meta.db_table),
        }

        # The statuses and outcomes the statements name, as SQL literals.
        literals = {
            str(word): f"'{word}'"
            for word in (Status.PENDING, Outcome.SENDING, Outcome.INTERRUPTED)
        }

        def sql(text: str, **more: str) -> str:
            return " ".join(text.format(**names, **tables, **literals, **more).split())

        # The claimed row comes back (its FIELDS), and into a Delivery as the ORM makes it.
        self.columns = Columns(Delivery, None, connection, only=self.FIELDS)
        self.claim = sql(self.CLAIM, columns=self.columns.sql)
        self.interrupt = sql(self.INTERRUPT, of_claimed="= %(id)s")
        self.start = sql(self.START, claimed=sql(self.CLAIMED))
        self.claim_and_start = ""
        # Where each owner row the claim reads stands in its row: (prefix, first, count).
        self.owners: list[tuple[str, int, int]] = []
        if connection.vendor == "postgresql":
            # Data-modifying CTEs: claim and attempt row in one statement, the ending in one.
            owner_columns, owner_joins = [], []
            first = self.columns.count + 1  # after the delivery's columns and the attempt's id
            for number, (prefix, owner) in enumerate(sorted(routes.owner_rows().items())):
                alias = f"owner{number}"
                owner_columns += [f", {alias}.{name(c)}" for c in (owner.key, *owner.columns)]
                owner_joins.append(
                    self.OWNER_JOIN.format(
                        table=name(owner.table),
                        alias=alias,
                        route=names["route"],
                        length=len(prefix) + 1,
                        prefix=prefix.replace("'", "''"),
                        key=name(owner.key),
                        owner_id=f"split_part(claimed.{names['route']}, ':', 2)",
                        digits=routes.OWNER_KEY_DIGITS,
                    )
                )
                self.owners.append((prefix, first, 1 + len(owner.columns)))
                first += 1 + len(owner.columns)
            self.claim_and_start = sql(
                self.CLAIM_AND_START,
                claim=self.claim,
                interrupt=sql(self.INTERRUPT, of_claimed=sql("IN (SELECT {id} FROM claimed)")),
                start=sql(self.START, claimed="claimed"),
                lazy_commit=self.LAZY_COMMIT,
                owner_columns="".join(owner_columns),
                owner_joins=" ".join(owner_joins),
            )
            end_attempt = f"{sql(self.END_ATTEMPT)} RETURNING {self.LAZY_COMMIT}"
            end = f"WITH a AS ({end_attempt}) {sql(self.END_DELIVERY)}"
            self.end: tuple[str, ...] = (end,)
        else:
            self.end = (sql(self.END_ATTEMPT), sql(self.END_DELIVERY))

    @classmethod
    def of(cls, connection: BaseDatabaseWrapper) -> "_AttemptSql":
        built = cls._built.get(connection.vendor)
        if built is None:
            built = cls._built[connection.vendor] = cls(connection)
        return built

    def delivery(self, connection: BaseDatabaseWrapper, row: tuple[object, ...]) -> Delivery:
        return self.columns.build(connection, row)

    def claimed_and_started(
        self, connection: BaseDatabaseWrapper, row: tuple[object, ...]
    ) -> tuple[Delivery, int]:
        """The delivery and the attempt's id from CLAIM_AND_START's row, the delivery given
        its route owner's row when the claim read it (Delivery.owner_row)."""
        delivery = self.delivery(connection, row[: self.columns.count])
        for prefix, first, count in self.owners:
            if delivery.route.startswith(f"{prefix}:"):  # as OWNER_JOIN matches it
                key, *values = row[first : first + count]
                delivery.owner_row = None if key is None else tuple(values)
        return delivery, cast(int, row[self.columns.count])


def _log_attempt(delivery: Delivery, result: AttemptResult, changes: "_Changes | None") -> None:
    """One line per attempt (docs/operations.md, "Logs"), under the id of the request that
    enqueued it: delivered at INFO; failed, retried or dead at WARNING, with the reason."""
    status = changes["status"] if changes else ""
    next_at = changes.get("next_attempt_at") if changes else None
    if status == Status.DEAD:
        then = "dead, no more attempts"
    elif next_at is not None:
        then = f"next attempt at {next_at.isoformat(timespec='seconds')}"
    else:
        then = "done"
    delivered = result.outcome == Outcome.DELIVERED
    logger.log(
        logging.INFO if delivered else logging.WARNING,
        "Delivery %s (%s) attempt %s: %s%s; %s",
        delivery.pk,
        delivery.kind,
        delivery.attempt_count,
        result.outcome,
        "" if delivered else f" ({result.error or result.status_code})",
        then,
        extra={
            "delivery_id": delivery.pk,
            "kind": delivery.kind,
            "attempt": delivery.attempt_count,
            "outcome": result.outcome,
            "next_attempt_at": next_at.isoformat() if next_at else "",
        },
    )


def _release_superseded(
    delivery: Delivery, claim: datetime, *, attempted: bool, delivered: bool = False
) -> bool:
    """Let go of a delivery superseded while this worker held it; False if it was not (or the
    claim is no longer ours). One that was sent and delivered meanwhile is recorded as
    delivered (it arrived before the newer one, which waited); otherwise it stays superseded,
    never to be retried. The newer delivery is woken up: it waited for this claim."""
    held = Delivery.objects.filter(pk=delivery.pk, locked_until=claim, status=Status.SUPERSEDED)
    changes: dict[str, object] = {"locked_until": None, "next_attempt_at": None, "queued_at": None}
    if not attempted:
        changes["attempt_count"] = F("attempt_count") - 1  # no attempt was made after all
    elif delivered:
        changes |= {"status": Status.DELIVERED, "delivered_at": timezone.now()}
    newer = held.values_list("superseded_by_id", flat=True).first()
    if not held.update(**changes):
        return False
    if newer is not None:
        transaction.on_commit(partial(enqueue_task, newer))
    return True


def retry_delay(attempts_made: int, retry_after: timedelta | None = None) -> timedelta:
    """How long to wait after failed attempt number `attempts_made` (1-based), with jitter."""
    gap = RETRY_GAPS[min(attempts_made, len(RETRY_GAPS)) - 1]
    delay = gap * random.uniform(1 - JITTER, 1 + JITTER)
    return max(delay, retry_after) if retry_after else delay


def replay_delivery(delivery: Delivery) -> bool:
    """Send a delivered or dead delivery again now (same webhook-id and body); False otherwise,
    and for one a newer delivery of its group superseded (it would deliver stale data).

    The transport decides what progress the replay keeps (HubSpot: the contact and deal ids,
    so a resync updates the contact and never creates a second deal).
    """
    with transaction.atomic():
        # The progress as stored, not as the caller's copy has it.
        current = (
            Delivery.objects.select_for_update().filter(replayable_q(), pk=delivery.pk).first()
        )
        state = None
        if current is not None:
            try:
                state = transport_for(current).replay_state(dict(current.state))
            except TransportError:
                state = current.state
        replayed = Delivery.objects.filter(replayable_q(), pk=delivery.pk).update(
            state=state or {},
            status=Status.PENDING,
            attempt_count=0,
            next_attempt_at=timezone.now(),
            queued_at=timezone.now(),  # its task is enqueued on commit
            locked_until=None,
            delivered_at=None,
            last_error="",
        )
        if replayed:
            transaction.on_commit(partial(enqueue_task, delivery.pk))
    if replayed:
        delivery.refresh_from_db()
    return bool(replayed)


def replayable_q() -> Q:
    """Deliveries a replay may send again: delivered or dead, and not superseded."""
    return Q(status__in=[Status.DELIVERED, Status.DEAD], superseded_by__isnull=True)


def send_now(delivery: Delivery) -> bool:
    """Send a delivery at once: a pending one (even one waiting for its next retry) is made due
    now; a delivered or dead one is replayed. False when a worker is sending it right now."""
    now = timezone.now()
    with transaction.atomic():
        hurried = (
            Delivery.objects.filter(pk=delivery.pk, status=Status.PENDING)
            .filter(Q(locked_until__isnull=True) | Q(locked_until__lte=now))
            .update(next_attempt_at=now, locked_until=None, queued_at=now)
        )
        if hurried:
            transaction.on_commit(partial(enqueue_task, delivery.pk))
    if hurried:
        delivery.refresh_from_db()
        return True
    return replay_delivery(delivery)


class _Changes(TypedDict):
    """A delivery's new state after an attempt, as _after() decides it."""

    status: str
    delivered_at: NotRequired[datetime]
    next_attempt_at: datetime | None
    locked_until: None
    last_error: str


def _after(attempts_made: int, result: AttemptResult, now: datetime) -> _Changes:
    """The delivery's new state after attempt number `attempts_made` came to `result`."""
    if result.outcome == Outcome.DELIVERED:
        return {
            "status": Status.DELIVERED,
            "delivered_at": now,
            "next_attempt_at": None,
            "locked_until": None,
            "last_error": "",
        }
    if result.outcome == Outcome.REFUSED or attempts_made >= MAX_ATTEMPTS:
        error = result.error
        if result.outcome != Outcome.REFUSED:
            error = f"{error} (gave up after {attempts_made} attempts)"
        return {
            "status": Status.DEAD,
            "next_attempt_at": None,
            "locked_until": None,
            "last_error": error,
        }
    return {
        "status": Status.PENDING,
        "next_attempt_at": now + retry_delay(attempts_made, result.retry_after),
        "locked_until": None,
        "last_error": result.error,
    }
