"""Roleplay results in the staff console: clusters and their assessments (filter, sort, search,
export with the marks sent), one assessment's roleplays scored, and re-sending its results."""

from dataclasses import replace
from datetime import timedelta

from django import forms
from django.contrib import messages
from django.db.models import QuerySet
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from integrations.models import Delivery
from portal import outbox
from portal.http import StaffRequest
from portal.partners.models import Partner
from portal.roleplays import selectors
from portal.roleplays.models import Assessment, Cluster, Competency
from portal.staff import figures, roles
from portal.staff.access import staff_view
from portal.staff.listing import (
    ANY,
    Column,
    DateRangeFilters,
    FilterForm,
    Listing,
    model_choice,
    wants_export,
)
from portal.staff.responses import render_results

STATES = (
    *ANY,
    (Assessment.Status.IN_PROGRESS, gettext_lazy("In progress")),
    (Assessment.Status.COMPLETED, gettext_lazy("Completed")),
)
RESULTS_STATES = (
    *ANY,
    (Delivery.Status.DELIVERED, gettext_lazy("Delivered")),
    (Delivery.Status.PENDING, gettext_lazy("Pending")),
    (selectors.RETRYING, gettext_lazy("Retrying")),
    (Delivery.Status.DEAD, gettext_lazy("Dead")),
    ("none", gettext_lazy("Not queued yet")),
)


class AssessmentFilters(DateRangeFilters):
    """Filters of the assessments list; the date range is the launch date."""

    date_field = "created_at"
    field_order = ("cluster", "partner", "state", "results", "since", "until")

    cluster: forms.ModelChoiceField | None = model_choice(  # None in a subclass: no field
        gettext_lazy("Cluster"), Cluster.objects.order_by("cluster_name")
    )
    partner = model_choice(gettext_lazy("Partner"), Partner.objects.order_by("name"))
    state = forms.ChoiceField(label=gettext_lazy("State"), choices=STATES, required=False)
    results = forms.ChoiceField(
        label=gettext_lazy("Results delivery"), choices=RESULTS_STATES, required=False
    )
    lookups = {"cluster": "cluster", "partner": "partner", "state": "status"}

    def filter(self, queryset, data):
        queryset = super().filter(queryset, data)
        if "results" in data:
            queryset = selectors.filter_by_results_state(queryset, data["results"])
        return queryset


class ClusterAssessmentFilters(AssessmentFilters):
    """On a cluster's page the cluster is given."""

    cluster = None


COLUMNS = (
    Column("candidate", gettext_lazy("Candidate"), "user_id", order_by="user_id"),
    Column("cluster", gettext_lazy("Cluster"), "cluster.cluster_name", "cluster__cluster_name"),
    Column("partner", gettext_lazy("Partner"), "partner.name", order_by="partner__name"),
    Column("state", gettext_lazy("State"), "status", order_by="status"),
    Column("created", gettext_lazy("Launched"), "created_at", order_by="created_at"),
    Column("started", gettext_lazy("Started"), "started_at", order_by="started_at"),
    Column("completed", gettext_lazy("Completed"), "completed_at", order_by="completed_at"),
    Column("results", gettext_lazy("Results delivery"), "results_state", "results_state"),
)
EXPORT_COLUMNS = (
    Column("id", "assessment_id", "pk"),
    Column("user_id", "user_id"),
    Column("user_name", "user_name"),
    Column("cluster_id", "cluster_id", "cluster.cluster_id"),
    Column("cluster_name", "cluster_name", "cluster.cluster_name"),
    Column("partner", "partner", "partner.name"),
    Column("state", "state", "status"),
    Column("created", "launched_at", "created_at"),
    Column("started", "started_at", "started_at"),
    Column("completed", "completed_at", "completed_at"),
    Column("results", "results_delivery", "results_state"),
)
SEARCH_FIELDS = ("user_id", "user_name", "cluster__cluster_name", "cluster__cluster_id")


def _listing(filters: type[FilterForm]) -> Listing:
    return Listing(
        columns=COLUMNS,
        default_sort="-created",
        search_fields=SEARCH_FIELDS,
        filter_form=filters,
        export_columns=EXPORT_COLUMNS,
    )


LISTING = _listing(AssessmentFilters)
CLUSTER_LISTING = _listing(ClusterAssessmentFilters)


def _sent(roleplay_id: str, key: str):
    def value(row: Assessment):
        found = selectors.sent_results(row).get(roleplay_id, {}).get(key)
        return int(found) if key == "stakeholders" and found not in (None, "") else found

    return value


def _mark(roleplay_id: str, code: str):
    return lambda row: selectors.sent_mark(row, roleplay_id, code)


def result_columns(competencies: list[Competency]) -> list[Column]:
    """Export columns of the marks sent to the partner: per roleplay its stakeholders met and
    time taken, then one column per competency (16PF traits as stens)."""
    columns: list[Column] = []
    seen: set[int] = set()
    for competency in competencies:
        roleplay = competency.roleplay
        prefix = f"{roleplay.roleplay_name} ({roleplay.roleplay_id})"
        if roleplay.pk not in seen:
            seen.add(roleplay.pk)
            columns.append(
                Column(
                    f"{roleplay.roleplay_id}:stakeholders",
                    f"{prefix}: stakeholders",
                    _sent(roleplay.roleplay_id, "stakeholders"),
                )
            )
            columns.append(
                Column(
                    f"{roleplay.roleplay_id}:time",
                    f"{prefix}: time_taken (min)",
                    _sent(roleplay.roleplay_id, "time_taken"),
                )
            )
        unit = (
            " (sten)"
            if competency.kind == Competency.Kind.PF16
            else f" (/{competency.max_score:g})"
        )
        columns.append(
            Column(
                f"{roleplay.roleplay_id}:{competency.code}",
                f"{prefix}: {competency.code}{unit}",
                _mark(roleplay.roleplay_id, competency.code),
            )
        )
    return columns


def _export(request: StaffRequest, listing: Listing, queryset: QuerySet, filename: str):
    """The filtered assessments, one row each, with the marks their results delivery carries
    (read from its JSON body in the row, so no query per row)."""
    filtered, _form, _q = listing.filtered(request, queryset)
    competencies = selectors.competencies_of_clusters(filtered.values("cluster_id"))
    columns = EXPORT_COLUMNS + tuple(result_columns(competencies))
    return replace(listing, export_columns=columns).export(request, queryset, filename)


def _list_response(
    request: StaffRequest, listing: Listing, queryset: QuerySet, template: str, context: dict
) -> HttpResponse:
    page = listing.page(request, queryset)
    context = context | {"listing": page, "search_hint": _("Candidate id or name, cluster")}
    return render_results(request, template, context)


@staff_view()
def roleplays(request: StaffRequest) -> HttpResponse:
    """Every assessment, any cluster; the clusters above it with their counts."""
    if wants_export(request):
        assessments = selectors.assessments(with_payload=True)
        return _export(request, LISTING, assessments, "roleplay-results")
    since = figures.day_start(timezone.localdate() - timedelta(days=figures.WEEK - 1))
    return _list_response(
        request,
        LISTING,
        selectors.assessments(),
        "staff/roleplays/list.html",
        {"clusters": selectors.clusters_with_counts(since=since)},
    )


@staff_view()
def roleplay_cluster(request: StaffRequest, pk: int) -> HttpResponse:
    """One cluster: its roleplays and competencies, and its assessments."""
    cluster = get_object_or_404(Cluster, pk=pk)
    if wants_export(request):
        assessments = selectors.assessments(with_payload=True).filter(cluster=cluster)
        return _export(
            request, CLUSTER_LISTING, assessments, f"roleplay-results-{cluster.cluster_id}"
        )
    return _list_response(
        request,
        CLUSTER_LISTING,
        selectors.assessments().filter(cluster=cluster),
        "staff/roleplays/cluster.html",
        {
            "cluster": cluster,
            "roleplays": cluster.roleplays.prefetch_related("competencies", "stakeholders"),
        },
    )


def _delivery_context(assessment: Assessment) -> dict:
    delivery = selectors.results_delivery(assessment)
    state = selectors.delivery_state(delivery.status, delivery.attempt_count) if delivery else ""
    return {"assessment": assessment, "delivery": delivery, "delivery_state": state}


def _assessment(pk: int) -> Assessment:
    return get_object_or_404(Assessment.objects.select_related("partner", "cluster"), pk=pk)


@staff_view()
def assessment(request: StaffRequest, pk: int) -> HttpResponse:
    """One assessment: its roleplays with marks, stakeholders met and time taken, and the
    delivery of its results."""
    found = _assessment(pk)
    if request.htmx:  # the results delivery region polling while it is being sent
        return render(request, "staff/roleplays/assessment.html#delivery", _delivery_context(found))
    context = _delivery_context(found) | {"roleplays": selectors.assessment_results(found)}
    return render(request, "staff/roleplays/assessment.html", context)


@staff_view(roles.OPERATE)
@require_POST
def assessment_resend(request: StaffRequest, pk: int) -> HttpResponse:
    """Send the assessment's results to the partner again, now (audited)."""
    found = _assessment(pk)
    delivery = selectors.results_delivery(found)
    if delivery is None:
        messages.error(
            request, _("There are no results to send yet: the assessment is not complete.")
        )
    elif outbox.delivery_send_now(delivery=delivery, actor=request.user):
        messages.success(request, _("The results are being sent again now."))
    else:
        messages.warning(
            request, _("The results are being sent at this moment; look again in a minute.")
        )
    if request.htmx:
        context = _delivery_context(found)
        return render(request, "staff/roleplays/assessment.html#delivery", context)
    return redirect("staff:assessment", pk=found.pk)


urlpatterns = [
    path("roleplays/", roleplays, name="roleplays"),
    path("roleplays/clusters/<int:pk>/", roleplay_cluster, name="roleplay_cluster"),
    path("roleplays/assessments/<int:pk>/", assessment, name="assessment"),
    path("roleplays/assessments/<int:pk>/resend/", assessment_resend, name="assessment_resend"),
]
