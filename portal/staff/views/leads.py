"""Scorecard leads: every completed AI Reality Check with its scores and the state of its HubSpot
sync and results e-mail; re-sync and re-send, for one lead or a filtered set."""

from collections import Counter

from django import forms
from django.contrib import messages
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import path, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from integrations.deliveries import delivery_status
from portal.http import StaffRequest
from portal.scorecards import leads as lead_services
from portal.scorecards import results, selectors
from portal.scorecards.leads import LeadOutcome
from portal.scorecards.models import Visit
from portal.staff import roles
from portal.staff.access import staff_view
from portal.staff.listing import (
    ANY,
    Column,
    DateRangeFilters,
    Listing,
    carried_query,
    refused,
    wants_export,
    with_query,
)
from portal.staff.responses import render_results
from portal.staff.templatetags.staff import num

CATEGORIES = {
    "champion": _("Champion"),
    "builder": _("Builder"),
    "risk_zone": _("Risk zone"),
    "alert": _("Alert"),
    "crisis": _("Crisis"),
}
LEAD_QUALITIES = {
    "executive_briefing_qualified": _("Executive briefing"),
    "enhanced": _("Enhanced"),
    "basic": _("Basic"),
    "none": _("None"),
}
HUBSPOT_STATUSES = {
    "synced": _("synced"),
    "pending": _("pending"),
    "failed": _("failed"),
    "skipped": _("skipped"),
}
EMAIL_STATUSES = {
    "sent": _("sent"),
    "pending": _("pending"),
    "failed": _("failed"),
    "skipped": _("skipped"),
}
# The stored breakdown's keys (the contract's scoreBreakdown), in the quiz's order.
AREAS = (
    ("value_assurance", "valueAssurance", _("Value assurance")),
    ("customer_safe", "customerSafe", _("Customer-safe")),
    ("risk_compliance", "riskCompliance", _("Risk & compliance")),
    ("governance", "governance", _("Governance")),
)


class LeadFilters(DateRangeFilters):
    date_field = "completed_at"
    category = forms.ChoiceField(
        label=_("Category"), required=False, choices=ANY + list(CATEGORIES.items())
    )
    lead_quality = forms.ChoiceField(
        label=_("Lead quality"), required=False, choices=ANY + list(LEAD_QUALITIES.items())
    )
    qualified = forms.ChoiceField(
        label=_("Qualified for briefing"),
        required=False,
        choices=ANY + [("yes", _("Yes")), ("no", _("No"))],
    )
    hubspot_status = forms.ChoiceField(
        label=_("HubSpot"), required=False, choices=ANY + list(HUBSPOT_STATUSES.items())
    )
    email_status = forms.ChoiceField(
        label=_("E-mail"), required=False, choices=ANY + list(EMAIL_STATUSES.items())
    )
    lookups = {"category": "score_category"}

    def filter(self, queryset, data):
        queryset = super().filter(queryset, data)
        if "lead_quality" in data:
            quality = data["lead_quality"]
            queryset = queryset.filter(lead_quality="" if quality == "none" else quality)
        if "qualified" in data:
            queryset = queryset.filter(qualified_for_briefing=data["qualified"] == "yes")
        if "hubspot_status" in data:
            queryset = queryset.filter(
                selectors.delivery_status_filter("hubspot_delivery", data["hubspot_status"])
            )
        if "email_status" in data:
            queryset = queryset.filter(
                selectors.delivery_status_filter("email_delivery", data["email_status"])
            )
        return queryset


def _contact(key: str):
    return lambda visit: (visit.contact_info or {}).get(key, "")


def _area(api_key: str):
    return lambda visit: (visit.breakdown or {}).get(api_key)


def hubspot_status(visit: Visit) -> str:
    return delivery_status(visit.hubspot_delivery)


def email_status(visit: Visit) -> str:
    return delivery_status(visit.email_delivery)


AREA_COLUMNS = tuple(
    Column(key, label, _area(api_key), order_by=f"breakdown__{api_key}")
    for key, api_key, label in AREAS
)
LISTING = Listing(
    columns=(
        Column("contact", _("Contact"), "email", order_by="email"),
        Column("company", _("Company"), order_by="company"),
        Column("total", _("Total"), "total_score", order_by="total_score"),
        *AREA_COLUMNS,
        # A category is a band of the total: sorting by it is sorting by the total.
        Column("category", _("Category"), "score_category", order_by="total_score"),
        Column("lead_quality", _("Lead quality"), order_by="lead_quality"),
        Column(
            "qualified",
            _("Qualified for briefing"),
            "qualified_for_briefing",
            order_by="qualified_for_briefing",
        ),
        Column("hubspot", _("HubSpot"), hubspot_status, order_by="hubspot_delivery__status"),
        Column("email_status", _("E-mail"), email_status, order_by="email_delivery__status"),
        Column("completed", _("Completed"), "completed_at", order_by="completed_at"),
    ),
    export_columns=(
        Column("assessment_id", _("Assessment")),
        Column("first_name", _("First name"), _contact("firstName")),
        Column("last_name", _("Last name"), _contact("lastName")),
        Column("email", _("E-mail address")),
        Column("phone", _("Phone"), _contact("phone")),
        Column("company", _("Company")),
        Column("total", _("Total"), "total_score"),
        *AREA_COLUMNS,
        Column("category", _("Category"), "score_category"),
        Column("lead_quality", _("Lead quality")),
        Column("qualified", _("Qualified for briefing"), "qualified_for_briefing"),
        Column("hubspot", _("HubSpot"), hubspot_status),
        Column("email_status", _("E-mail"), email_status),
        Column("completed", _("Completed"), "completed_at"),
    ),
    default_sort="-completed",
    search_fields=(
        "email",
        "company",
        "contact_info__firstName",
        "contact_info__lastName",
        "assessment_id",
    ),
    filter_form=LeadFilters,
)


def _list_url(request: StaffRequest) -> str:
    query = carried_query(request.GET)
    return with_query(reverse("staff:leads"), query)


def shown(visit: Visit) -> Visit:
    """The visit with what its row and page show, worked out here, not in the template."""
    visit.name = selectors.contact_name(visit)
    visit.phone = (visit.contact_info or {}).get("phone", "")
    visit.category_label = CATEGORIES.get(visit.score_category, visit.score_category)
    quality = visit.lead_quality or "none"
    visit.quality_label = LEAD_QUALITIES.get(quality, quality)
    # (channel, delivery, status, its label) of each, as the row and the page show them.
    synced, mailed = hubspot_status(visit), email_status(visit)
    visit.deliveries = [
        (
            lead_services.HUBSPOT,
            visit.hubspot_delivery,
            synced,
            HUBSPOT_STATUSES.get(synced, synced),
        ),
        (lead_services.EMAIL, visit.email_delivery, mailed, EMAIL_STATUSES.get(mailed, mailed)),
    ]
    visit.scores = [
        (key, label, (visit.breakdown or {}).get(api_key)) for key, api_key, label in AREAS
    ]
    return visit


def _bulk_url(request: StaffRequest) -> str:
    query = carried_query(request.GET)
    return with_query(reverse("staff:leads_bulk"), query)


def _list_context(request: StaffRequest) -> dict:
    listing = LISTING.page(request, selectors.completed_visits())
    for visit in listing.rows:  # the page's rows, evaluated once and kept by its queryset
        shown(visit)
    return {
        "listing": listing,
        "back": _list_url(request),
        "bulk_url": _bulk_url(request),
    }


@staff_view()
def leads(request: StaffRequest) -> HttpResponse:
    if wants_export(request):
        return LISTING.export(request, selectors.completed_visits(), "scorecard-leads")
    return render_results(request, "staff/leads/list.html", _list_context(request))


def _lead_or_404(pk: int) -> Visit:
    visit = selectors.completed_visits().select_related("scorecard").filter(pk=pk).first()
    if visit is None:
        raise Http404("No completed scorecard visit has this id.")
    return visit


def _lead_context(visit: Visit) -> dict:
    return {"lead": shown(visit)}


@staff_view()
def lead(request: StaffRequest, pk: int) -> HttpResponse:
    visit = _lead_or_404(pk)
    context = _lead_context(visit) | {
        "review": results.visit_review(visit),
        "back": _safe_next(request, request.GET.get("back", "")),
        "here": request.get_full_path(),
    }
    return render(request, "staff/leads/lead.html", context)


# ---------------------------------------------------------------------------------------------
# Actions (operators): one lead, or the list's filtered set


def _who(visit: Visit) -> str:
    name = selectors.contact_name(visit)
    return f"{name} <{visit.email}>" if name and visit.email else (visit.email or name or "—")


def _one_message(channel: str, outcome: str, who: str) -> tuple[int, str]:
    hubspot = channel == lead_services.HUBSPOT
    words: dict[str, str] = {
        LeadOutcome.SENT: (
            gettext("%(who)s: the HubSpot sync is being sent now.")
            if hubspot
            else gettext("%(who)s: the results e-mail is being sent now.")
        ),
        LeadOutcome.CREATED: (
            gettext(
                "%(who)s: HubSpot was not configured when they submitted; a sync was created "
                "now and is being sent."
            )
            if hubspot
            else gettext("%(who)s: a results e-mail was created now and is being sent.")
        ),
        LeadOutcome.BUSY: gettext(
            "%(who)s: a worker is sending it at this very moment, so nothing was changed."
        ),
        LeadOutcome.NO_EMAIL: (
            gettext("%(who)s left no e-mail address, so the lead can't be synced to HubSpot.")
            if hubspot
            else gettext("%(who)s left no e-mail address, so there is nowhere to send it.")
        ),
        LeadOutcome.NOT_CONFIGURED: gettext(
            "%(who)s: HubSpot is not configured (HUBSPOT_ACCESS_TOKEN is not set); nothing was "
            "synced."
        ),
    }
    good = outcome in (LeadOutcome.SENT, LeadOutcome.CREATED)
    return (messages.SUCCESS if good else messages.WARNING), words[outcome] % {"who": who}


def _count_phrase(outcome: str, n: int) -> str:
    shown = {"n": num(n)}
    if outcome == LeadOutcome.SENT:
        return ngettext("%(n)s sent now", "%(n)s sent now", n) % shown
    if outcome == LeadOutcome.CREATED:
        return ngettext("%(n)s created and sent", "%(n)s created and sent", n) % shown
    if outcome == LeadOutcome.BUSY:
        return (
            ngettext(
                "%(n)s already being sent by a worker", "%(n)s already being sent by a worker", n
            )
            % shown
        )
    if outcome == LeadOutcome.NO_EMAIL:
        return (
            ngettext("%(n)s without an e-mail address", "%(n)s without an e-mail address", n)
            % shown
        )
    return (
        ngettext(
            "%(n)s not synced: HubSpot is not configured",
            "%(n)s not synced: HubSpot is not configured",
            n,
        )
        % shown
    )


def _set_message(channel: str, counts: Counter) -> tuple[int, str]:
    total = sum(counts.values())
    if channel == lead_services.HUBSPOT:
        head = ngettext(
            "Re-sync to HubSpot of %(n)s lead:", "Re-sync to HubSpot of %(n)s leads:", total
        )
    else:
        head = ngettext(
            "Results e-mail re-sent for %(n)s lead:",
            "Results e-mail re-sent for %(n)s leads:",
            total,
        )
    parts = [_count_phrase(outcome, counts[outcome]) for outcome in LeadOutcome if counts[outcome]]
    if not parts:
        parts.append(gettext("nothing to do"))
    good = counts[LeadOutcome.SENT] + counts[LeadOutcome.CREATED] > 0
    text = head % {"n": num(total)} + " " + ", ".join(parts) + "."
    return (messages.SUCCESS if good else messages.WARNING), text


def _safe_next(request: StaffRequest, target: str) -> str:
    if target and url_has_allowed_host_and_scheme(
        target, {request.get_host()}, request.is_secure()
    ):
        return target
    return reverse("staff:leads")


SINGLE = {
    lead_services.HUBSPOT: lead_services.lead_resync_hubspot,
    lead_services.EMAIL: lead_services.lead_resend_email,
}
BULK = {
    lead_services.HUBSPOT: lead_services.leads_resync_hubspot,
    lead_services.EMAIL: lead_services.leads_resend_email,
}
ACTIONS = {"resync_hubspot": lead_services.HUBSPOT, "resend_email": lead_services.EMAIL}


def _act_on_one(request: StaffRequest, pk: int, channel: str) -> HttpResponse:
    visit = _lead_or_404(pk)
    outcome = SINGLE[channel](visit=visit, actor=request.user)
    level, text = _one_message(channel, outcome, _who(visit))
    messages.add_message(request, level, text)
    back = _safe_next(request, request.POST.get("next", ""))
    if not request.htmx:
        return HttpResponseRedirect(back)
    fresh = _lead_or_404(pk)
    if request.POST.get("partial") == "row":
        context = {"lead": shown(fresh), "back": back, "row_messages": True}
        return render(request, "staff/leads/list.html#row", context)
    context = _lead_context(fresh) | {"here": back, "oob_messages": True}
    return render(request, "staff/leads/lead.html#deliveries", context)


@staff_view(roles.OPERATE)
@require_POST
def lead_resync(request: StaffRequest, pk: int) -> HttpResponse:
    return _act_on_one(request, pk, lead_services.HUBSPOT)


@staff_view(roles.OPERATE)
@require_POST
def lead_resend(request: StaffRequest, pk: int) -> HttpResponse:
    return _act_on_one(request, pk, lead_services.EMAIL)


@staff_view(roles.OPERATE)
@require_POST
def leads_bulk(request: StaffRequest) -> HttpResponse:
    """Re-sync or re-send the leads the list's query string selects (the query is the POST
    URL's): first a confirmation that says how many, then the action."""
    channel = ACTIONS.get(request.POST.get("action", ""))
    if channel is None:
        messages.error(request, gettext("Choose re-sync to HubSpot or re-send the e-mail."))
        return HttpResponseRedirect(_list_url(request))
    queryset, problems = LISTING.selected(request, selectors.completed_visits())
    if problems:
        text = gettext("A filter is not valid: nothing was re-synced or re-sent.")
        return refused(request, _list_url(request), text, problems)
    if request.POST.get("confirmed") != "yes":
        context = {
            "count": queryset.count(),
            "action": request.POST["action"],
            "channel": channel,
            "bulk_url": _bulk_url(request),
            "back": _list_url(request),
            "inline": bool(request.htmx),
        }
        template = (
            "staff/leads/confirm.html#confirm" if request.htmx else "staff/leads/confirm.html"
        )
        return render(request, template, context)
    counts = BULK[channel](queryset=queryset, actor=request.user)
    level, text = _set_message(channel, counts)
    messages.add_message(request, level, text)
    if not request.htmx:
        return HttpResponseRedirect(_list_url(request))
    context = _list_context(request) | {"oob_messages": True}
    return render(request, "staff/leads/list.html#results", context)


urlpatterns = [
    path("leads/", leads, name="leads"),
    path("leads/bulk/", leads_bulk, name="leads_bulk"),
    path("leads/<int:pk>/", lead, name="lead"),
    path("leads/<int:pk>/resync/", lead_resync, name="lead_resync"),
    path("leads/<int:pk>/resend/", lead_resend, name="lead_resend"),
]
