"""Reading scorecard content for the quiz and results, scoring a visitor's answers with it, and
reading leads (completed visits) for the staff console."""

from collections.abc import Mapping, Sequence

from django.db import connections, router
from django.db.models import Prefetch, Q, QuerySet, prefetch_related_objects

from integrations.models import Delivery
from portal.db import Columns
from portal.scorecards import rows
from portal.scorecards.models import (
    Choice,
    Question,
    Recommendation,
    Scorecard,
    Section,
    Visit,
)
from scoring import scorecard as scoring


def active_scorecard() -> Scorecard | None:
    """The active version with all its content (one query when this process has it in memory,
    seven when not), or None if none is."""
    return _active_row()


_ACTIVE_SQL: dict[str, tuple[str, Columns]] = {}


def _active_row() -> Scorecard | None:
    """The active version's row, as Scorecard.objects.filter(is_active=True).first() reads it
    (the model's ordering: newest first), with its content: in a statement written once (every
    start reads it, and the ORM's building of it cost more than the statement)."""
    connection = connections[router.db_for_read(Scorecard)]
    prepared = _ACTIVE_SQL.get(connection.alias)
    if prepared is None:
        name = connection.ops.quote_name
        columns = Columns(Scorecard, None, connection)
        table = name(Scorecard._meta.db_table)
        sql = f"SELECT {columns.sql} FROM {table} {rows.active_version(connection, table)}"
        prepared = _ACTIVE_SQL[connection.alias] = (sql, columns)
    sql, columns = prepared
    with rows.cursor(connection) as cursor:
        cursor.execute(sql, [])
        row = cursor.fetchone()
    return None if row is None else content_of_row(columns, connection, row)


def scorecard_by_id(pk: int) -> Scorecard:
    """A version (the one a visit was started on) with all its content."""
    return with_content(Scorecard.objects.get(pk=pk))


# Each process keeps each version's content (~150 instances) in memory, by id: a request reads
# the version's row (often joined to what it reads anyway) and gets the content loaded for that
# very row, or loads it again. Any change to the row, and any edit of its content (which draws
# a new content_version, portal.scorecards.models), makes the row differ: content is never
# served stale. The instances are shared by requests: read them, never change them.
_CONTENT: dict[int, Scorecard] = {}
_ROW_FIELDS = tuple(field.attname for field in Scorecard._meta.concrete_fields)


def with_content(row: Scorecard) -> Scorecard:
    """`row`'s version with all its content prefetched: from memory when the version's row is
    unchanged since it was loaded, else loaded now (six queries) and kept."""
    cached = _CONTENT.get(row.pk)
    if cached is row or (
        cached is not None
        and all(getattr(cached, name) == getattr(row, name) for name in _ROW_FIELDS)
    ):
        return cached
    prefetch_related_objects([row], *_content_lookups())
    row.content_steps = tuple(
        tuple(q.qid for q in section.questions.all()) for section in row.sections.all()
    )
    _CONTENT[row.pk] = row
    return row


def content_of_row(columns: Columns, connection, values: Sequence) -> Scorecard:
    """with_content() of a version row read by hand (`values`, as the database returned them):
    when they are the very values the content in memory was loaded for, not even the row is
    built (every request of the flow reads it)."""
    raw = (connection.alias, tuple(values))
    cached = _CONTENT.get(raw[1][columns.pk_index])
    if cached is not None and cached.__dict__.get("content_raw_row") == raw:
        return cached
    row = columns.build(connection, raw[1])
    assert isinstance(row, Scorecard)  # `columns` are Scorecard's
    scorecard = with_content(row)
    scorecard.content_raw_row = raw
    return scorecard


def _content_lookups() -> list:
    return [
        Prefetch(
            "sections",
            Section.objects.order_by("step").prefetch_related(
                Prefetch(
                    "questions",
                    Question.objects.order_by("position", "id").prefetch_related(
                        Prefetch("choices", Choice.objects.order_by("letter"))
                    ),
                )
            ),
        ),
        "bands",
        Prefetch(
            "recommendations",
            # section_id → key without a join: the sections are prefetched already.
            Recommendation.objects.order_by("position", "id"),
        ),
        "resources",
    ]


def definition(scorecard: Scorecard) -> scoring.Definition:
    """The scorecard's content as the scoring module's plain dataclasses."""
    if (ready := scorecard.__dict__.get("content_definition")) is not None:
        return ready
    built = _definition(scorecard)
    if "content_steps" in scorecard.__dict__:  # content kept in memory: built once
        scorecard.content_definition = built
    return built


def _definition(scorecard: Scorecard) -> scoring.Definition:
    sections = list(scorecard.sections.all())
    keys = {section.pk: section.key for section in sections}
    return scoring.Definition(
        sections=tuple(
            scoring.Section(
                key=section.key,
                api_key=section.api_key,
                weight=float(section.weight),
                questions=tuple(
                    scoring.Question(
                        qid=question.qid,
                        choices=tuple(
                            scoring.Choice(letter=c.letter, points=c.points)
                            for c in question.choices.all()
                        ),
                    )
                    for question in section.questions.all()
                ),
            )
            for section in sections
        ),
        bands=tuple(
            scoring.Band(key=b.key, name=b.name, min_score=b.min_score, description=b.description)
            for b in scorecard.bands.all()
        ),
        rules=tuple(
            scoring.Rule(
                section=keys[rule.section_id],
                min_score=rule.min_score,
                max_score=rule.max_score,
                priority=rule.priority,
                title=rule.title,
                description=rule.description,
                action_items=tuple(rule.action_items),
                estimated_impact=rule.estimated_impact,
                time_to_implement=rule.time_to_implement,
            )
            for rule in scorecard.recommendations.all()
        ),
        briefing_total_below=scorecard.briefing_total_below,
        briefing_section_below=scorecard.briefing_section_below,
    )


def score_answers(
    scorecard: Scorecard,
    answers: Mapping[str, str],
    *,
    email: str | None = None,
    contact: Mapping[str, str | None] | None = None,
) -> scoring.ScorecardResult:
    """Score {"value_assurance_1": "A", ...}. `contact` is the contract's contactInfo
    ({"firstName", "lastName", "company", "phone"}); unknown ids or letters raise ValueError."""
    contact = contact or {}
    return scoring.score_scorecard(
        definition(scorecard),
        answers,
        scoring.Contact(
            email=email or "",
            first_name=contact.get("firstName") or "",
            last_name=contact.get("lastName") or "",
            company=contact.get("company") or "",
        ),
    )


def score_visit(scorecard: Scorecard, visit: Visit) -> scoring.ScorecardResult:
    """Score a visit's answers with the contact it gave (its company first from the visit)."""
    contact = {"company": visit.company, **visit.contact_info}
    return score_answers(scorecard, visit.responses, email=visit.email, contact=contact)


# ---------------------------------------------------------------------------------------------
# Leads, for the staff console: completed visits and their deliveries' states


def completed_visits() -> QuerySet[Visit]:
    """Every completed visit (a lead), with its two deliveries joined (their bodies left out:
    a results e-mail's HTML is large and no list needs it)."""
    return (
        Visit.objects.filter(completed_at__isnull=False)
        .select_related("hubspot_delivery", "email_delivery")
        .defer("hubspot_delivery__payload", "email_delivery__payload")
    )


def delivery_status_filter(field: str, status: str) -> Q:
    """Visits whose delivery `field` ("hubspot_delivery", "email_delivery") is in the portal's
    status `status` (integrations.deliveries.delivery_status: synced/sent, pending, failed,
    skipped)."""
    if status == "skipped":
        return Q(**{f"{field}__isnull": True})
    states = {
        "synced": Delivery.Status.DELIVERED,
        "sent": Delivery.Status.DELIVERED,
        "delivered": Delivery.Status.DELIVERED,
        "pending": Delivery.Status.PENDING,
        "failed": Delivery.Status.DEAD,
    }
    if status not in states:
        raise ValueError(f"unknown delivery status {status!r}")
    return Q(**{f"{field}__status": states[status]})


def contact_name(visit: Visit) -> str:
    """The lead's first and last name as they gave them ("" when they gave neither)."""
    contact = visit.contact_info or {}
    return " ".join(p for p in (contact.get("firstName"), contact.get("lastName")) if p)
