"""The overview's live figures: exams, roleplays, the scorecard funnel and the outbox.

Each product is counted with one aggregate query of conditional counts, so the overview costs
the same few queries whatever the amount of data. "Today" and "the last 7 days" are calendar
days in the configured TIME_ZONE (the last 7 days are today and the 6 days before it), taken
from `timezone.now()`.
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import Count, Q
from django.utils import timezone

from integrations.models import Delivery
from portal.exams.models import Quiz
from portal.roleplays.models import Assessment
from portal.scorecards.models import Visit
from portal.staff.deliveries_selectors import retrying_q

WEEK = 7
DAYS_CHARTED = 14
FUNNEL_DAYS = (7, 30)


@dataclass(frozen=True)
class DailyCount:
    day: date
    count: int


@dataclass(frozen=True)
class CompletionFigures:
    """Completions of one product: today, in the last 7 days, and per day for 14 days."""

    completed_today: int
    completed_week: int
    per_day: tuple[DailyCount, ...]


@dataclass(frozen=True)
class ExamFigures(CompletionFigures):
    in_progress: int
    passed_week: int

    @property
    def pass_rate(self) -> float | None:
        """Percent of the quizzes completed in the last 7 days that passed; None with none."""
        if not self.completed_week:
            return None
        return round(100 * self.passed_week / self.completed_week, 1)


@dataclass(frozen=True)
class RoleplayFigures(CompletionFigures):
    open: int


@dataclass(frozen=True)
class Funnel:
    """Scorecard visits begun in the last `days` days, and how far they got."""

    days: int
    visits: int
    completed: int
    leads: int  # completed with an e-mail address
    qualified: int  # leads qualified for a briefing


@dataclass(frozen=True)
class DeliveryFigures:
    pending: int
    failing: int  # pending, with at least one failed attempt
    dead: int


@dataclass(frozen=True)
class Overview:
    now: datetime
    today: date
    exams: ExamFigures
    roleplays: RoleplayFigures
    funnel: Funnel
    deliveries: DeliveryFigures


def day_start(day: date) -> datetime:
    """Midnight at the start of `day` in the current time zone, as an aware datetime."""
    return timezone.make_aware(datetime.combine(day, time.min))


def _days(today: date) -> list[tuple[date, datetime, datetime]]:
    """The charted days, oldest first: (day, its start, the next day's start)."""
    days = [today - timedelta(days=n) for n in range(DAYS_CHARTED - 1, -1, -1)]
    return [(day, day_start(day), day_start(day + timedelta(days=1))) for day in days]


def _per_day_counts(field: str, done: Q, days) -> dict[str, Count]:
    return {
        f"day{index}": Count("pk", filter=done & Q(**{f"{field}__gte": start, f"{field}__lt": end}))
        for index, (_day, start, end) in enumerate(days)
    }


def _completions(row: dict, days) -> tuple[int, int, tuple[DailyCount, ...]]:
    per_day = tuple(
        DailyCount(day, row[f"day{index}"] or 0) for index, (day, _s, _e) in enumerate(days)
    )
    return per_day[-1].count, sum(d.count for d in per_day[-WEEK:]), per_day


def exam_figures(now: datetime, days) -> ExamFigures:
    completed = Q(state=Quiz.State.COMPLETED)
    week_start = days[-WEEK][1]
    row = Quiz.objects.filter(Q(state=Quiz.State.STARTED) | Q(end_at__gte=days[0][1])).aggregate(
        # A started quiz past its deadline is over, only not yet closed by the periodic task.
        in_progress=Count("pk", filter=Q(state=Quiz.State.STARTED, deadline_at__gt=now)),
        passed_week=Count(
            "pk",
            filter=completed & Q(end_at__gte=week_start, end_at__lt=days[-1][2], is_accept=True),
        ),
        **_per_day_counts("end_at", completed, days),
    )
    today, week, per_day = _completions(row, days)
    return ExamFigures(
        completed_today=today,
        completed_week=week,
        per_day=per_day,
        in_progress=row["in_progress"],
        passed_week=row["passed_week"],
    )


def roleplay_figures(days) -> RoleplayFigures:
    completed = Q(status=Assessment.Status.COMPLETED)
    row = Assessment.objects.filter(
        Q(status=Assessment.Status.IN_PROGRESS) | Q(completed_at__gte=days[0][1])
    ).aggregate(
        open=Count("pk", filter=Q(status=Assessment.Status.IN_PROGRESS)),
        **_per_day_counts("completed_at", completed, days),
    )
    today, week, per_day = _completions(row, days)
    return RoleplayFigures(
        completed_today=today, completed_week=week, per_day=per_day, open=row["open"]
    )


def scorecard_funnel(today: date, days: int) -> Funnel:
    since = day_start(today - timedelta(days=days - 1))
    completed = Q(completed_at__isnull=False)
    lead = completed & ~Q(email="")
    row = Visit.objects.filter(started_at__gte=since).aggregate(
        visits=Count("pk"),
        completed=Count("pk", filter=completed),
        leads=Count("pk", filter=lead),
        qualified=Count("pk", filter=lead & Q(qualified_for_briefing=True)),
    )
    return Funnel(days=days, **row)


def delivery_figures() -> DeliveryFigures:
    row = Delivery.objects.filter(
        status__in=(Delivery.Status.PENDING, Delivery.Status.DEAD)
    ).aggregate(
        pending=Count("pk", filter=Q(status=Delivery.Status.PENDING)),
        failing=Count("pk", filter=retrying_q()),
        dead=Count("pk", filter=Q(status=Delivery.Status.DEAD)),
    )
    return DeliveryFigures(**row)


def overview(*, funnel_days: int = FUNNEL_DAYS[0], now: datetime | None = None) -> Overview:
    """Every figure of the overview, as of `now` (default: timezone.now()); four queries."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    days = _days(today)
    return Overview(
        now=now,
        today=today,
        exams=exam_figures(now, days),
        roleplays=roleplay_figures(days),
        funnel=scorecard_funnel(today, funnel_days),
        deliveries=delivery_figures(),
    )
