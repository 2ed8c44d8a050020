"""Reading roleplay results for staff: assessments with their results delivery, clusters with
their counts, and one assessment's roleplays scored as the results webhook scores them."""

import json
from dataclasses import dataclass
from datetime import datetime

from django.db.models import (
    Case,
    CharField,
    Count,
    F,
    Max,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Cast, Concat

from integrations.models import Delivery
from portal.jsonformat import plain_number
from portal.roleplays import services
from portal.roleplays.models import Assessment, Cluster, Competency, RoleplayAttempt

# Delivery states as staff see them: a pending delivery that has failed at least once is
# "retrying" (the deliveries list filters by the same names).
RETRYING = "retrying"


def delivery_state(status: str | None, attempt_count: int | None) -> str:
    """ "delivered", "pending", "retrying", "dead", or "" when there is no delivery."""
    if not status:
        return ""
    if status == Delivery.Status.PENDING and (attempt_count or 0) > 0:
        return RETRYING
    return status


def _results_delivery() -> QuerySet[Delivery]:
    key = Concat(Value("results:"), Cast(OuterRef("pk"), output_field=CharField()))
    # dedupe_key is unique: at most one row, found by its index; no ordering needed.
    return Delivery.objects.filter(dedupe_key=key).order_by()


def assessments(*, with_payload: bool = False) -> QuerySet[Assessment]:
    """Every assessment with its partner and cluster, and its results delivery's id and state
    as staff see it (`results_delivery_id`, `results_state`: see delivery_state; both None
    when none was queued) — one query whatever the number of rows. `with_payload` adds the
    JSON body queued for the partner (`results_payload_text`), for exports."""
    delivery = _results_delivery()
    state = delivery.annotate(
        console_state=Case(
            When(status=Delivery.Status.PENDING, attempt_count__gt=0, then=Value(RETRYING)),
            default=F("status"),
            output_field=CharField(),
        )
    )
    queryset = Assessment.objects.select_related("partner", "cluster").annotate(
        results_delivery_id=Subquery(delivery.values("pk")[:1]),
        results_state=Subquery(state.values("console_state")[:1]),
    )
    if with_payload:
        queryset = queryset.annotate(results_payload_text=Subquery(delivery.values("payload")[:1]))
    return queryset


def filter_by_results_state(queryset: QuerySet[Assessment], state: str) -> QuerySet[Assessment]:
    """Assessments (from `assessments()`) whose results delivery is in `state`: "delivered",
    "pending" (not failed yet), "retrying", "dead", or "none" (not queued yet)."""
    if state == "none":
        # Both are annotations of assessments(): the plugin can't see them on QuerySet[Assessment].
        return queryset.filter(results_delivery_id__isnull=True)  # type: ignore[misc]
    return queryset.filter(results_state=state)  # type: ignore[misc]


def clusters_with_counts(*, since: datetime) -> QuerySet[Cluster]:
    """Clusters that have assessments, each with `open_count`, `completed_count`,
    `recent_count` (completed since `since`) and `last_completed_at`; one query."""
    done = Assessment.Status.COMPLETED
    return (
        Cluster.objects.annotate(
            total_count=Count("assessments"),
            open_count=Count(
                "assessments", filter=Q(assessments__status=Assessment.Status.IN_PROGRESS)
            ),
            completed_count=Count("assessments", filter=Q(assessments__status=done)),
            recent_count=Count(
                "assessments",
                filter=Q(assessments__status=done, assessments__completed_at__gte=since),
            ),
            last_completed_at=Max("assessments__completed_at"),
        )
        .filter(total_count__gt=0)
        .order_by("cluster_name", "pk")
    )


def competencies_of_clusters(cluster_ids: QuerySet | list[int]) -> list[Competency]:
    """The competencies of the given clusters' roleplays, in the order results list them."""
    return list(
        Competency.objects.filter(roleplay__cluster_id__in=cluster_ids)
        .select_related("roleplay", "roleplay__cluster")
        .order_by(
            "roleplay__cluster__cluster_name",
            "roleplay__cluster_id",
            "roleplay__position",
            "roleplay__id",
            "position",
            "id",
        )
    )


def sent_results(assessment: Assessment) -> dict[str, dict]:
    """The results as queued for the partner (the delivery's JSON body), by roleplay_id; empty
    when none were queued. Needs `assessments(with_payload=True)`; parsed once per row."""
    cached = getattr(assessment, "_sent_results", None)
    if cached is None:
        text = getattr(assessment, "results_payload_text", None) or ""
        try:
            body = json.loads(text) if text else {}
        except ValueError:
            body = {}
        roleplays = body.get("roleplays") if isinstance(body, dict) else None
        cached = {r.get("roleplay_id"): r for r in (roleplays or []) if isinstance(r, dict)}
        assessment._sent_results = cached
    return cached


def sent_mark(assessment: Assessment, roleplay_id: str, competency_code: str):
    """The marks obtained in one competency as sent to the partner (None when not sent)."""
    roleplay = sent_results(assessment).get(roleplay_id) or {}
    for competency in roleplay.get("competencies") or []:
        if competency.get("competency_code") == competency_code:
            return competency.get("marks_obtained")
    return None


# ---------------------------------------------------------------------------------------------
# One assessment


@dataclass(frozen=True)
class CompetencyResult:
    code: str
    name: str
    is_sten: bool  # a 16PF trait: marks are a sten 1..10 (0: not measured)
    max_marks: int | float
    marks_obtained: int | float


@dataclass(frozen=True)
class RoleplayResult:
    roleplay_id: str
    roleplay_name: str
    attempt: RoleplayAttempt | None
    stakeholders_met: int
    stakeholders_total: int
    max_time: int
    time_taken: float  # minutes
    competencies: tuple[CompetencyResult, ...]

    @property
    def state(self) -> str:
        if self.attempt is None:
            return "not_started"
        return "finished" if self.attempt.is_finished else "in_progress"


def assessment_results(assessment: Assessment) -> list[RoleplayResult]:
    """Each roleplay of the assessment with its marks, stakeholders met and time taken, scored
    by services.scored_roleplays: the very numbers results_payload sends."""
    results = []
    for scored in services.scored_roleplays(assessment):
        kinds = {c.code: c.kind for c in scored.content.competencies}
        score = scored.score
        results.append(
            RoleplayResult(
                roleplay_id=scored.roleplay.roleplay_id,
                roleplay_name=scored.roleplay.roleplay_name,
                attempt=scored.attempt,
                stakeholders_met=int(score.stakeholders),
                stakeholders_total=len(scored.content.stakeholders),
                max_time=score.max_time,
                time_taken=score.time_taken,
                competencies=tuple(
                    CompetencyResult(
                        code=c.competency_code,
                        name=c.competency_name,
                        is_sten=kinds.get(c.competency_code) == Competency.Kind.PF16,
                        max_marks=plain_number(c.max_marks),
                        marks_obtained=plain_number(c.marks_obtained),
                    )
                    for c in score.competencies
                ),
            )
        )
    return results


def results_delivery(assessment: Assessment) -> Delivery | None:
    """The outbox row that carries (or carried) the assessment's results to the partner."""
    return Delivery.objects.filter(dedupe_key=services.results_dedupe_key(assessment.pk)).first()
