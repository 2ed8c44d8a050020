"""Deliveries in the console: every outbound message and its attempts; send now, replay one,
replay a filtered set (operators)."""

import dataclasses
import json
from urllib.parse import urlsplit

from django import forms
from django.contrib import messages
from django.db.models import Q
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import path, reverse
from django.utils.functional import Promise
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from integrations.models import Delivery, DeliveryAttempt
from portal import htmx, outbox
from portal.db import column_length
from portal.http import StaffRequest
from portal.partners.models import Partner
from portal.staff import deliveries_selectors as selectors
from portal.staff import roles
from portal.staff.access import staff_view
from portal.staff.listing import (
    ANY,
    Column,
    DateRangeFilters,
    Listing,
    carried_query,
    model_choice,
    refused,
    wants_export,
    with_query,
)
from portal.staff.responses import render_results
from portal.staff.templatetags.staff import num
from portal.text import read_json

STATE_LABELS: dict[str, str | Promise] = {
    selectors.Status.PENDING: _("pending"),
    selectors.RETRYING: _("retrying"),
    selectors.Status.DEAD: _("dead"),
    selectors.Status.DELIVERED: _("delivered"),
    selectors.Status.SUPERSEDED: _("superseded"),
}
TRANSPORT_LABELS: dict[str, str | Promise] = {
    Delivery.Transport.WEBHOOK: _("signed webhook"),
    Delivery.Transport.HUBSPOT: _("HubSpot CRM"),
    Delivery.Transport.EMAIL: _("e-mail"),
}
OUTCOME_LABELS: dict[str, str | Promise] = {
    DeliveryAttempt.Outcome.SENDING: _("sending"),
    DeliveryAttempt.Outcome.INTERRUPTED: _("interrupted (the worker stopped)"),
    DeliveryAttempt.Outcome.DELIVERED: _("delivered"),
    DeliveryAttempt.Outcome.FAILED: _("failed"),
    DeliveryAttempt.Outcome.REFUSED: _("failed permanently"),
}
# A bulk replay runs in the request: past this many, ask for a narrower filter.
BULK_LIMIT = 1000


class DeliveryFilters(DateRangeFilters):
    state = forms.ChoiceField(
        label=_("State"),
        required=False,
        choices=[
            *ANY,
            (selectors.Status.PENDING, _("pending (all)")),
            (selectors.RETRYING, _("retrying (failing)")),
            (selectors.Status.DEAD, _("dead")),
            (selectors.Status.DELIVERED, _("delivered")),
            (selectors.Status.SUPERSEDED, _("superseded (a newer one replaced it)")),
        ],
    )
    transport = forms.ChoiceField(
        label=_("Transport"),
        required=False,
        choices=[*ANY, *TRANSPORT_LABELS.items()],
    )
    kind = forms.CharField(
        label=_("Kind"),
        required=False,
        max_length=column_length(Delivery, "kind"),
        widget=forms.TextInput({"list": "delivery-kinds", "autocomplete": "off"}),
    )
    partner = model_choice(_("Partner"), Partner.objects.order_by("name"))
    field_order = ("state", "transport", "kind", "partner", "since", "until")
    lookups = {"transport": "transport", "kind": "kind"}

    def filter(self, queryset, data):
        queryset = super().filter(queryset, data)
        if "state" in data:
            queryset = selectors.with_state(queryset, data["state"])
        if "partner" in data:
            queryset = selectors.of_partner(queryset, data["partner"].pk)
        return queryset


def short_target(url: str) -> str:
    """Host and path of a URL, for a narrow column."""
    parts = urlsplit(url)
    return f"{parts.netloc}{parts.path}" or url


COLUMNS = (
    Column("kind", _("Kind"), order_by="kind"),
    Column("transport", _("Transport"), order_by="transport"),
    Column("target", _("Target"), "target_url", order_by="target_url"),
    Column("partner", _("Partner")),
    Column("state", _("State"), selectors.state_of, order_by="status"),
    Column("attempts", _("Attempts"), "attempt_count", order_by="attempt_count"),
    Column("next_attempt", _("Next attempt"), "next_attempt_at", order_by="next_attempt_at"),
    Column("created", _("Created"), "created_at", order_by="created_at"),
    Column("delivered", _("Delivered"), "delivered_at", order_by="delivered_at"),
)


def export_columns(partner_names: dict[int, str]) -> tuple[Column, ...]:
    """Every column an export writes; never the signing secret."""

    def partner_name(delivery: Delivery) -> str | None:
        partner_id = selectors.partner_id_of(delivery)
        return partner_names.get(partner_id) if partner_id is not None else None

    return (
        Column("id", _("ID"), "pk"),
        Column("created", _("Created"), "created_at"),
        Column("kind", _("Kind")),
        Column("transport", _("Transport")),
        Column("target", _("Target"), "target_url"),
        Column("route", _("Route")),
        Column("partner", _("Partner"), partner_name),
        Column("state", _("State"), selectors.state_of),
        Column("attempts", _("Attempts"), "attempt_count"),
        Column("next_attempt", _("Next attempt"), "next_attempt_at"),
        Column("delivered", _("Delivered"), "delivered_at"),
        Column("last_error", _("Last error")),
        Column("webhook_id", _("Webhook id"), lambda d: str(d.webhook_id)),
        Column("dedupe_key", _("Dedupe key")),
    )


LISTING = Listing(
    columns=COLUMNS,
    default_sort="-created",
    search_fields=("target_url", "kind", "webhook_id", "dedupe_key"),
    filter_form=DeliveryFilters,
)


@dataclasses.dataclass(frozen=True)
class Row:
    """One delivery as the list shows it."""

    delivery: Delivery
    state: str
    state_label: str | Promise
    transport_label: str | Promise
    target: str
    partner_id: int | None
    partner_name: str | None


def list_rows(deliveries: list[Delivery]) -> list[Row]:
    names = selectors.partner_names(deliveries)
    rows = []
    for delivery in deliveries:
        partner_id = selectors.partner_id_of(delivery)
        state = selectors.state_of(delivery)
        rows.append(
            Row(
                delivery=delivery,
                state=state,
                state_label=STATE_LABELS.get(state, state),
                transport_label=TRANSPORT_LABELS.get(delivery.transport, delivery.transport),
                target=short_target(delivery.target_url),
                partner_id=partner_id,
                partner_name=names.get(partner_id) if partner_id is not None else None,
            )
        )
    return rows


@staff_view()
def deliveries(request: StaffRequest) -> HttpResponse:
    queryset = selectors.deliveries_for_list()
    if wants_export(request):
        listing = dataclasses.replace(
            LISTING, export_columns=export_columns(selectors.all_partner_names())
        )
        return listing.export(request, queryset, "deliveries")
    page = LISTING.page(request, queryset)
    context = {
        "listing": page,
        "rows": list_rows(page.rows),
        "kinds": selectors.known_kinds(),
        "bulk_url": _bulk_url(carried_query(request.GET)),
        "search_hint": gettext("URL, kind, webhook id, dedupe key"),
    }
    return render_results(request, "staff/deliveries.html", context)


def _bulk_url(query: str) -> str:
    return with_query(reverse("staff:deliveries_replay"), query)


def pretty_json(text: str | dict) -> str:
    """JSON indented for reading (the text as it is when it isn't JSON)."""
    if isinstance(text, str):
        try:
            value = read_json(text)
        except ValueError:
            return text
    else:
        value = text
    return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=False)


def _detail_context(delivery: Delivery) -> dict:
    partner_id = selectors.partner_id_of(delivery)
    attempts = list(delivery.attempts.all())
    state = selectors.state_of(delivery)
    return {
        "delivery": delivery,
        "state": state,
        "state_label": STATE_LABELS.get(state, state),
        "transport_label": TRANSPORT_LABELS.get(delivery.transport, delivery.transport),
        "destination": selectors.destination(delivery),
        "partner": selectors.partner_of(delivery),
        "partner_id": partner_id,
        # Newest first, each with its number in the whole history (replays included).
        "attempts": [
            (number, attempt, OUTCOME_LABELS.get(attempt.outcome, attempt.outcome))
            for number, attempt in enumerate(attempts, 1)
        ][::-1],
        "payload": pretty_json(delivery.payload),
        "progress": pretty_json(delivery.state) if delivery.state else "",
        "polling": delivery.status == selectors.Status.PENDING,
        "replayable": selectors.is_replayable(delivery),
        # A newer delivery of its group replaced it: it is never sent (again).
        "superseded_by": delivery.superseded_by_id,
    }


@staff_view()
def delivery(request: StaffRequest, pk: int) -> HttpResponse:
    found = selectors.delivery_detail(pk)
    context = _detail_context(found)
    if request.htmx and not request.htmx.boosted:
        return render(request, "staff/delivery.html#progress", context)
    return render(request, "staff/delivery.html", context)


def _after_action(request: StaffRequest, pk: int) -> HttpResponse:
    """Post/redirect/get without JavaScript; with htmx, the refreshed progress and the message."""
    if request.htmx:
        context = _detail_context(selectors.delivery_detail(pk)) | {"with_messages": True}
        return render(request, "staff/delivery.html#progress", context)
    return HttpResponseRedirect(reverse("staff:delivery", args=[pk]))


@staff_view(roles.OPERATE)
@require_POST
def delivery_send_now(request: StaffRequest, pk: int) -> HttpResponse:
    found = get_object_or_404(Delivery, pk=pk)
    was_pending = found.status == selectors.Status.PENDING
    if outbox.delivery_send_now(delivery=found, actor=request.user):
        if was_pending:
            messages.success(request, gettext("Sending it now."))
        else:
            messages.success(request, gettext("Replayed: it is being sent again."))
    elif not _refused_as_superseded(request, pk):
        messages.warning(
            request, gettext("A worker is sending it right now; try again in a moment.")
        )
    return _after_action(request, pk)


def _refused_as_superseded(request: StaffRequest, pk: int) -> bool:
    """Tell why a superseded delivery was not sent; False when it is not superseded."""
    found = list(
        Delivery.objects.filter(selectors.superseded_q(), pk=pk).values_list(
            "superseded_by", flat=True
        )
    )
    if not found:
        return False
    newer = found[0]
    if newer is None:  # the newer one was deleted since
        text = gettext("A newer delivery of the same group replaced it: it is not sent again.")
    else:
        text = gettext(
            "Delivery %(n)s, newer, of the same group replaced it: it is not sent again; "
            "send that one instead."
        ) % {"n": num(newer)}
    messages.warning(request, text)
    return True


@staff_view(roles.OPERATE)
@require_POST
def delivery_replay(request: StaffRequest, pk: int) -> HttpResponse:
    found = get_object_or_404(Delivery, pk=pk)
    if outbox.delivery_replay(delivery=found, actor=request.user):
        messages.success(request, gettext("Replayed: it is being sent again."))
    elif not _refused_as_superseded(request, pk):
        messages.warning(
            request,
            gettext("It is still pending, so there is nothing to replay; use “Send now”."),
        )
    return _after_action(request, pk)


@staff_view(roles.OPERATE)
@require_POST
def deliveries_replay(request: StaffRequest) -> HttpResponse:
    """Replay the list's filtered set (the list's query is this URL's, so it is checked and
    filtered as the list's): first a confirmation of how many, then do it."""
    query = carried_query(request.GET)
    back = with_query(reverse("staff:deliveries"), query)
    if "query" in request.POST:
        # A form of an earlier page carried the list's query in a field, read apart from
        # the request's checks; without it here, it would select every delivery.
        return refused(request, back, gettext("This form is out of date: reload the list."))
    queryset, problems = LISTING.selected(request, selectors.deliveries_for_list())
    if problems:
        return refused(
            request, back, gettext("A filter is not valid: nothing was replayed."), problems
        )
    replayable, pending, superseded = selectors.replay_counts(queryset)
    if request.POST.get("confirm") != "yes" or replayable > BULK_LIMIT:
        context = {
            "bulk_url": _bulk_url(query),
            "back": back,
            "replayable": replayable,
            "pending": pending,
            "superseded": superseded,
            "too_many": replayable > BULK_LIMIT,
            "limit": BULK_LIMIT,
        }
        if request.htmx:
            return render(request, "staff/deliveries/replay_confirm.html#confirm", context)
        return render(request, "staff/deliveries/replay_confirm.html", context)
    # Superseded ones are left out: replaying one would send stale data after the newer one,
    # and the count of those "left alone" below is of pending ones.
    replayed, skipped = outbox.deliveries_replay(
        queryset=queryset.exclude(selectors.superseded_q() & ~Q(status=selectors.Status.PENDING)),
        actor=request.user,
    )
    if skipped:
        text = gettext("Replayed %(replayed)s; %(skipped)s still pending left alone.") % {
            "replayed": num(replayed),
            "skipped": num(skipped),
        }
    else:
        text = ngettext(
            "Replayed %(count)s delivery.", "Replayed %(count)s deliveries.", replayed
        ) % {"count": num(replayed)}
    messages.success(request, text)
    return htmx.redirect(request, back)


urlpatterns = [
    path("deliveries/", deliveries, name="deliveries"),
    path("deliveries/replay/", deliveries_replay, name="deliveries_replay"),
    path("deliveries/<int:pk>/", delivery, name="delivery"),
    path("deliveries/<int:pk>/send-now/", delivery_send_now, name="delivery_send_now"),
    path("deliveries/<int:pk>/replay/", delivery_replay, name="delivery_replay"),
]
