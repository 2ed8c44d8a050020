"""The only code that changes a candidate's roleplay state: start a roleplay, answer a turn,
rate Likert items, finish (by the candidate or the deadline), complete the assessment and put
its results in the outbox; and the cluster metadata push.

The candidate's position is never stored: it is derived from the responses (which option was
chosen at each turn), so a reload, a second tab or a lost connection always resumes exactly.
"""

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from integrations.deliveries import enqueue_delivery
from portal.jsonformat import plain_number
from portal.partners.models import ROUTE_METADATA, ROUTE_RESULTS, ROUTE_URL
from portal.roleplays import payloads
from portal.roleplays.models import (
    Assessment,
    Cluster,
    Competency,
    LikertItem,
    LikertResponse,
    Option,
    Roleplay,
    RoleplayAttempt,
    Stakeholder,
    Turn,
    TurnResponse,
)
from scoring import roleplays as roleplay_scoring

logger = logging.getLogger(__name__)


# Where the browser's Django session keeps its assessment's id: written by the start URL
# (api/roleplays.py) once the launch ticket is spent, read by the candidate's pages.
SESSION_KEY = "roleplay_assessment_id"

# An assessment left this long without activity is completed as it stands (see below).
ABANDONED_AFTER = timedelta(hours=24)


def record_activity(assessment_id: int) -> None:
    """Note a sign of life of the candidate (a launch, the browser's start, a roleplay begun,
    an answer): an assessment is abandoned only a day after the last one."""
    Assessment.objects.filter(pk=assessment_id, status=Assessment.Status.IN_PROGRESS).update(
        last_activity_at=timezone.now()
    )


class RoleplayError(Exception):
    """A refusal the candidate can understand; `code` is stable for tests and logs."""

    def __init__(self, message: str, *, code: str) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


# ---------------------------------------------------------------------------------------------
# Reading: the content of a roleplay, loaded once, and where the candidate stands in it


@dataclass
class RoleplayContent:
    roleplay: Roleplay
    stakeholders: list[Stakeholder]
    turns: dict[int, list[Turn]]  # stakeholder id → turns in order
    options: dict[int, list[Option]]  # turn id → options in order
    competencies: list[Competency]
    likert_items: list[LikertItem]

    @classmethod
    def load(cls, roleplay: Roleplay) -> "RoleplayContent":
        stakeholders = list(roleplay.stakeholders.all())
        turns = list(Turn.objects.filter(stakeholder__roleplay=roleplay))
        options = list(Option.objects.filter(turn__stakeholder__roleplay=roleplay))
        competencies = list(roleplay.competencies.all())
        likert = list(LikertItem.objects.filter(competency__roleplay=roleplay))
        by_stakeholder: dict[int, list[Turn]] = {s.pk: [] for s in stakeholders}
        for turn in turns:
            by_stakeholder[turn.stakeholder_id].append(turn)
        by_turn: dict[int, list[Option]] = {t.pk: [] for t in turns}
        for option in options:
            by_turn[option.turn_id].append(option)
        return cls(roleplay, stakeholders, by_stakeholder, by_turn, competencies, likert)


@dataclass
class Exchange:
    """One turn of a conversation as the candidate lived it."""

    turn: Turn
    chosen: Option | None = None


@dataclass
class Conversation:
    stakeholder: Stakeholder
    exchanges: list[Exchange] = field(default_factory=list)
    finished: bool = False


@dataclass
class Progress:
    """Where the candidate is in a roleplay, derived from their responses."""

    conversations: list[Conversation]
    current_turn: Turn | None
    current_stakeholder: Stakeholder | None
    likert_pending: bool
    likert_answers: dict[int, int]

    @property
    def stakeholders_met(self) -> int:
        return sum(1 for c in self.conversations if c.exchanges and c.exchanges[0].chosen)

    @property
    def done(self) -> bool:
        return self.current_turn is None and not self.likert_pending


def progress(content: RoleplayContent, attempt: RoleplayAttempt) -> Progress:
    chosen = {
        r.turn_id: r.option_id
        for r in TurnResponse.objects.filter(attempt=attempt).only("turn_id", "option_id")
    }
    likert = dict(LikertResponse.objects.filter(attempt=attempt).values_list("item_id", "value"))
    conversations: list[Conversation] = []
    current_turn = current_stakeholder = None
    for stakeholder in content.stakeholders:
        conversation = Conversation(stakeholder)
        conversations.append(conversation)
        turns = content.turns[stakeholder.pk]
        turn = turns[0] if turns else None
        seen: set[int] = set()
        while turn is not None and turn.pk not in seen:
            seen.add(turn.pk)
            options = {o.pk: o for o in content.options[turn.pk]}
            option_id = chosen.get(turn.pk)
            option = options.get(option_id) if option_id is not None else None
            conversation.exchanges.append(Exchange(turn, option))
            if option is None:
                if current_turn is None:
                    current_turn, current_stakeholder = turn, stakeholder
                break
            turn = next((t for t in turns if t.pk == option.next_turn_id), None)
        else:
            conversation.finished = True
        if current_turn is not None and current_stakeholder is not stakeholder:
            # Later stakeholders are not met yet; keep them listed but empty.
            conversation.exchanges = []
    likert_pending = current_turn is None and any(
        item.pk not in likert for item in content.likert_items
    )
    return Progress(conversations, current_turn, current_stakeholder, likert_pending, likert)


# ---------------------------------------------------------------------------------------------
# Assessment and roleplay attempts


def roleplays_of(assessment: Assessment) -> list[Roleplay]:
    return list(assessment.cluster.roleplays.all())


def attempts_of(assessment: Assessment) -> dict[int, RoleplayAttempt]:
    return {a.roleplay_id: a for a in RoleplayAttempt.objects.filter(assessment=assessment)}


def next_roleplay(assessment: Assessment) -> Roleplay | None:
    """The first roleplay not finished yet: the candidate takes them in order."""
    attempts = attempts_of(assessment)
    for roleplay in roleplays_of(assessment):
        attempt = attempts.get(roleplay.pk)
        if attempt is None or not attempt.is_finished:
            return roleplay
    return None


def start_roleplay(*, assessment: Assessment, roleplay: Roleplay) -> RoleplayAttempt:
    """Start (or return the already started) attempt; the clock is the server's."""
    if assessment.status != Assessment.Status.IN_PROGRESS:
        raise RoleplayError("This assessment is already complete.", code="assessment_complete")
    if roleplay.cluster_id != assessment.cluster_id:
        raise RoleplayError("This roleplay is not part of your assessment.", code="not_found")
    upcoming = next_roleplay(assessment)
    if upcoming is None or upcoming.pk != roleplay.pk:
        existing = RoleplayAttempt.objects.filter(assessment=assessment, roleplay=roleplay).first()
        if existing is not None:
            return existing
        raise RoleplayError("Please finish the roleplays in order.", code="out_of_order")
    now = timezone.now()
    try:
        with transaction.atomic():
            attempt, _ = RoleplayAttempt.objects.get_or_create(
                assessment=assessment,
                roleplay=roleplay,
                defaults={
                    "started_at": now,
                    "deadline_at": now + timedelta(minutes=roleplay.total_time_minutes),
                },
            )
    except IntegrityError:  # a double click raced us; the other request created it
        attempt = RoleplayAttempt.objects.get(assessment=assessment, roleplay=roleplay)
    if assessment.started_at is None:
        Assessment.objects.filter(pk=assessment.pk, started_at__isnull=True).update(started_at=now)
    record_activity(assessment.pk)
    return attempt


def _open_attempt(attempt_id: int) -> RoleplayAttempt:
    """Lock the attempt for this transaction; refuse when finished or past its deadline."""
    attempt = (
        RoleplayAttempt.objects.select_for_update(of=("self",))
        .select_related("roleplay", "assessment")
        .get(pk=attempt_id)
    )
    if attempt.is_finished:
        raise RoleplayError("This roleplay is already finished.", code="roleplay_finished")
    if attempt.deadline_at <= timezone.now():
        raise RoleplayError("Time is up for this roleplay.", code="time_up")
    return attempt


def response_given(attempt: RoleplayAttempt, *, turn_id: int, option_id: int) -> bool:
    """Whether this very answer to this turn is already recorded (and so counted)."""
    return TurnResponse.objects.filter(
        attempt=attempt, turn_id=turn_id, option_id=option_id
    ).exists()


def ratings_given(attempt: RoleplayAttempt, values: dict[int, int]) -> bool:
    """Whether every one of these ratings is already recorded as it is (and so counted)."""
    stored = dict(
        LikertResponse.objects.filter(attempt=attempt, item_id__in=values).values_list(
            "item_id", "value"
        )
    )
    return all(stored.get(item_id) == value for item_id, value in values.items())


def _stale_option() -> RoleplayError:
    return RoleplayError(
        "That answer is not one of the options of this turn "
        "(the page may be out of date: it has been refreshed).",
        code="stale_option",
    )


def respond(
    *, attempt: RoleplayAttempt, option_id: int, turn_id: int | None = None
) -> RoleplayAttempt:
    """Choose an option at the current turn. Choosing again at the same turn changes nothing:
    given `turn_id` (the turn the page answered), the option already chosen there again (a
    double click, two requests at once) is a no-op, never checked against the turn that came
    next; any other answer to a turn that is not the current one is stale."""
    try:
        with transaction.atomic():
            locked = _open_attempt(attempt.pk)
            if turn_id is not None and response_given(locked, turn_id=turn_id, option_id=option_id):
                return attempt
            content = RoleplayContent.load(locked.roleplay)
            state = progress(content, locked)
            if state.current_turn is None:
                raise RoleplayError("There is nothing to answer now.", code="no_turn")
            options = {o.pk: o for o in content.options[state.current_turn.pk]}
            if option_id not in options or turn_id not in (None, state.current_turn.pk):
                raise _stale_option()
            TurnResponse.objects.create(
                attempt=locked, turn=state.current_turn, option=options[option_id]
            )
            record_activity(locked.assessment_id)
            _finish_if_done(locked, content)
    except RoleplayError as error:
        _finish_if_overdue(attempt, error)
        raise
    return attempt


def rate(*, attempt: RoleplayAttempt, values: dict[int, int]) -> int:
    """Save Likert ratings (1..5) of 16PF statements; return how many are still unrated.

    What was rated is kept even when some are missing, so nothing is lost; the roleplay
    finishes when every statement is rated.
    """
    try:
        with transaction.atomic():
            locked = _open_attempt(attempt.pk)
            content = RoleplayContent.load(locked.roleplay)
            items = {item.pk for item in content.likert_items}
            if set(values) - items:
                raise RoleplayError("Unknown statements in the answer.", code="unknown_item")
            if any(not 1 <= v <= 5 for v in values.values()):
                raise RoleplayError("Each rating is from 1 to 5.", code="invalid_rating")
            for item_id, value in values.items():
                LikertResponse.objects.update_or_create(
                    attempt=locked, item_id=item_id, defaults={"value": value}
                )
            record_activity(locked.assessment_id)
            rated = set(
                LikertResponse.objects.filter(attempt=locked).values_list("item_id", flat=True)
            )
            missing = len(items - rated)
            if not missing:
                _finish_if_done(locked, content)
    except RoleplayError as error:
        _finish_if_overdue(attempt, error)
        raise
    return missing


def _finish_if_done(attempt: RoleplayAttempt, content: RoleplayContent) -> None:
    if progress(content, attempt).done:
        finish_roleplay(attempt.pk, finished_by="candidate")


def _finish_if_overdue(attempt: RoleplayAttempt, error: RoleplayError) -> None:
    if error.code == "time_up":
        finish_roleplay(attempt.pk, finished_by="deadline")


def finish_roleplay(attempt_id: int, *, finished_by: str) -> bool:
    """Close the attempt once (time taken is the server's); complete the assessment after the
    last roleplay. Returns False when it was already finished."""
    with transaction.atomic():
        attempt = (
            RoleplayAttempt.objects.select_for_update(of=("self",))
            .select_related("assessment")
            .get(pk=attempt_id)
        )
        if attempt.is_finished:
            return False
        now = timezone.now()
        if attempt.deadline_at <= now:
            finished_by = "deadline"
        attempt.finished_at = min(now, attempt.deadline_at)
        attempt.finished_by = finished_by
        attempt.save(update_fields=["finished_at", "finished_by"])
        if next_roleplay(attempt.assessment) is None:
            complete_assessment(attempt.assessment)
    return True


def finish_overdue_roleplays() -> int:
    """Close every roleplay past its deadline (run periodically by Huey)."""
    due = RoleplayAttempt.objects.filter(finished_at__isnull=True, deadline_at__lte=timezone.now())
    return sum(
        finish_roleplay(pk, finished_by="deadline") for pk in due.values_list("pk", flat=True)
    )


def complete_abandoned_assessments(*, idle: timedelta = ABANDONED_AFTER) -> int:
    """Complete assessments whose candidate has shown no sign of life for `idle` (no launch,
    start, roleplay begun or answer: see record_activity) and has no roleplay open, so the
    partner still gets results: roleplays never started score 0. A roleplay left open is
    closed at its deadline by finish_overdue_roleplays, and its last answer was activity."""
    cutoff = timezone.now() - idle
    open_roleplay = RoleplayAttempt.objects.filter(
        assessment=OuterRef("pk"), finished_at__isnull=True
    )
    idle_ones = Assessment.objects.filter(
        status=Assessment.Status.IN_PROGRESS, last_activity_at__lt=cutoff
    ).exclude(Exists(open_roleplay))
    count = 0
    for assessment in idle_ones.select_related("partner", "cluster"):
        # Checked again in the completing UPDATE: a launch between this query and that one
        # keeps the assessment open.
        count += complete_assessment(assessment, idle_since=cutoff)
    return count


def refresh_on_access(attempt: RoleplayAttempt | None) -> None:
    if attempt is not None and not attempt.is_finished and attempt.deadline_at <= timezone.now():
        finish_roleplay(attempt.pk, finished_by="deadline")
        attempt.refresh_from_db()


# ---------------------------------------------------------------------------------------------
# Results


def score_attempt(content: RoleplayContent, attempt: RoleplayAttempt | None):
    """Score one roleplay from what the candidate chose and rated."""
    competencies = [
        roleplay_scoring.Competency(
            code=c.code,
            name=c.name,
            max_score=c.max_score,
            kind=c.kind,
            norms=tuple(c.norm_table or ()),
        )
        for c in content.competencies
    ]
    max_time = content.roleplay.total_time_minutes
    if attempt is None:
        return roleplay_scoring.not_attempted(competencies, max_time_minutes=max_time)
    state = progress(content, attempt)
    codes = {c.pk: c.code for c in content.competencies}
    end = attempt.finished_at or timezone.now()
    return roleplay_scoring.score_roleplay(
        competencies=competencies,
        chosen_marks=[
            exchange.chosen.marks
            for conversation in state.conversations
            for exchange in conversation.exchanges
            if exchange.chosen is not None
        ],
        likert=[
            roleplay_scoring.LikertAnswer(
                competency_code=codes[item.competency_id],
                value=state.likert_answers.get(item.pk),
                reverse=item.reverse,
            )
            for item in content.likert_items
        ],
        stakeholders_met=state.stakeholders_met,
        max_time_minutes=max_time,
        seconds_taken=(end - attempt.started_at).total_seconds(),
    )


@dataclass(frozen=True)
class ScoredRoleplay:
    """One roleplay of an assessment as its results report it: the content, the candidate's
    attempt (None when never started) and the score."""

    content: RoleplayContent
    attempt: RoleplayAttempt | None
    score: roleplay_scoring.RoleplayScore

    @property
    def roleplay(self) -> Roleplay:
        return self.content.roleplay


def scored_roleplays(assessment: Assessment) -> list[ScoredRoleplay]:
    """Every roleplay of the assessment, in order, scored: what the results webhook sends and
    what the staff console shows come from here."""
    attempts = attempts_of(assessment)
    scored = []
    for roleplay in roleplays_of(assessment):
        content = RoleplayContent.load(roleplay)
        attempt = attempts.get(roleplay.pk)
        scored.append(ScoredRoleplay(content, attempt, score_attempt(content, attempt)))
    return scored


def results_payload(assessment: Assessment) -> dict:
    """The seed's results_submission body."""
    cluster = assessment.cluster
    roleplays = []
    for scored in scored_roleplays(assessment):
        roleplay, score = scored.roleplay, scored.score
        roleplays.append(
            {
                "roleplay_id": roleplay.roleplay_id,
                "roleplay_name": roleplay.roleplay_name,
                "stakeholders": score.stakeholders,
                "max_time": score.max_time,
                "time_taken": score.time_taken,
                "competencies": [
                    {
                        "competency_code": c.competency_code,
                        "competency_name": c.competency_name,
                        "max_marks": plain_number(c.max_marks),
                        "marks_obtained": plain_number(c.marks_obtained),
                    }
                    for c in score.competencies
                ],
            }
        )
    return {
        "cluster_id": cluster.cluster_id,
        "cluster_name": cluster.cluster_name,
        "cluster_type": cluster.cluster_type,
        "user_id": assessment.user_id,
        "user_name": assessment.user_name,
        "roleplays": roleplays,
    }


def results_dedupe_key(assessment_pk: int) -> str:
    """The outbox key of an assessment's results (the staff console finds them by it)."""
    return f"results:{assessment_pk}"


def complete_assessment(assessment: Assessment, *, idle_since: datetime | None = None) -> bool:
    """Mark complete and put the results in the outbox, in the same transaction. With
    `idle_since`, only when the candidate has shown no sign of life since then."""
    still_open = Assessment.objects.filter(pk=assessment.pk, status=Assessment.Status.IN_PROGRESS)
    if idle_since is not None:
        still_open = still_open.filter(last_activity_at__lt=idle_since)
    with transaction.atomic():
        changed = still_open.update(status=Assessment.Status.COMPLETED, completed_at=timezone.now())
        if not changed:
            return False
        assessment.refresh_from_db()
        partner = assessment.partner
        # A launch that named no results_url gets the partner's default as it is when the
        # results are sent; a named one stays. Either way the partner's current secrets sign.
        if assessment.results_url_is_default:
            target_url, route = partner.default_results_url(), partner.route(ROUTE_RESULTS)
        else:
            target_url, route = assessment.results_url, partner.route(ROUTE_URL)
        enqueue_delivery(
            kind="results_submission",
            target_url=target_url,
            payload=results_payload(assessment),
            signing_secret=partner.webhook_secret,
            allowed_hosts=partner.hosts,
            dedupe_key=results_dedupe_key(assessment.pk),
            route=route,
        )
    logger.info("assessment %s completed; results queued for %s", assessment.pk, partner)
    return True


def push_cluster_metadata(cluster: Cluster, partners=None) -> int:
    """Queue the cluster's metadata for each partner allowed to launch it (call inside the
    transaction that changed the cluster). Older metadata of the cluster still pending for a
    partner is superseded: never sent."""
    partners = cluster.partners.filter(is_active=True) if partners is None else partners
    payload = payloads.cluster_metadata(cluster)
    count = 0
    for partner in partners:
        enqueue_delivery(
            kind="cluster_metadata_sync",
            target_url=partner.metadata_url(),
            payload=payload,
            signing_secret=partner.webhook_secret,
            allowed_hosts=partner.hosts,
            route=partner.route(ROUTE_METADATA),
            # The newest metadata of a cluster supersedes what is still waiting to be sent to
            # the partner: a retry never lands older metadata after newer.
            group_key=f"cluster:{cluster.cluster_id}",
        )
        count += 1
    return count
