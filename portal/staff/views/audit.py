"""The audit log: every change staff made, filterable by who, what, target and date."""

from django import forms
from django.http import HttpResponse
from django.urls import path
from django.utils.translation import gettext_lazy as _

from portal.audit.models import AuditEntry
from portal.db import column_length
from portal.http import StaffRequest
from portal.staff.access import staff_view
from portal.staff.listing import Column, DateRangeFilters, Listing


class AuditFilters(DateRangeFilters):
    date_field = "at"
    actor = forms.CharField(
        label=_("Who"), required=False, max_length=column_length(AuditEntry, "actor_label")
    )
    action = forms.CharField(
        label=_("Action"), required=False, max_length=column_length(AuditEntry, "action")
    )
    target_type = forms.CharField(
        label=_("Target type"), required=False, max_length=column_length(AuditEntry, "target_type")
    )
    target_id = forms.CharField(
        label=_("Target id"), required=False, max_length=column_length(AuditEntry, "target_id")
    )
    lookups = {
        "actor": "actor_label__iexact",
        "action": "action__startswith",
        "target_type": "target_type",
        "target_id": "target_id",
    }


LISTING = Listing(
    columns=(
        Column("at", _("When"), order_by="at"),
        Column("actor", _("Who"), "actor_label", order_by="actor_label"),
        Column("action", _("Action"), order_by="action"),
        Column("target", _("Target"), lambda e: f"{e.target_type} {e.target_label}".strip()),
        Column("changes", _("Changes"), lambda e: e.changes),
        Column("note", _("Note")),
    ),
    default_sort="-at",
    search_fields=("action", "actor_label", "target_label", "note"),
    filter_form=AuditFilters,
)


@staff_view()
def audit_log(request: StaffRequest) -> HttpResponse:
    return LISTING.respond(request, AuditEntry.objects.all(), "staff/audit.html", "audit-log")


urlpatterns = [path("audit/", audit_log, name="audit")]
