"""The console's front page: live figures of the three products and the outbox."""

import jdatetime
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils.translation import gettext as _

from portal.http import StaffRequest
from portal.staff import figures
from portal.staff.access import staff_view
from portal.staff.templatetags.staff import in_persian, persian


def day_label(day) -> str:
    """A charted day's tick: its day of the month, in the reader's calendar and digits."""
    if in_persian():
        return persian(str(jdatetime.date.fromgregorian(date=day).day))
    return str(day.day)


def chart(per_day) -> list[tuple[str, int]]:
    return [(day_label(d.day), d.count) for d in per_day]


@staff_view()
def overview(request: StaffRequest) -> HttpResponse:
    try:
        days = int(request.GET.get("days", ""))
    except ValueError:
        days = figures.FUNNEL_DAYS[0]
    if days not in figures.FUNNEL_DAYS:
        days = figures.FUNNEL_DAYS[0]
    data = figures.overview(funnel_days=days)
    funnel = data.funnel
    context = {
        "figures": data,
        "funnel_days": figures.FUNNEL_DAYS,
        "exam_chart": chart(data.exams.per_day),
        "roleplay_chart": chart(data.roleplays.per_day),
        "funnel_chart": [
            (_("Visits"), funnel.visits),
            (_("Completed"), funnel.completed),
            (_("Leads"), funnel.leads),
            (_("Qualified for a briefing"), funnel.qualified, "ok"),
        ],
    }
    template = "staff/overview.html#figures" if request.htmx else "staff/overview.html"
    return render(request, template, context)


urlpatterns = [path("", overview, name="overview")]
