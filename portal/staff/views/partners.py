"""Roleplay partners (seed 000): list, create and edit them (settings, allowed hosts, clusters),
rotate their webhook and JWT secrets with a grace period, and push cluster metadata now.

Operators only change; viewers read. Changes go through portal.roleplays.partners and
portal.partners.secrets, which write the audit rows. A new secret is shown once. Without
JavaScript each action is a form that posts and redirects back; with htmx it swaps the
partner's page body in place.
"""

from datetime import timedelta
from functools import partial
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import CharField, Count, IntegerField, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Cast, Coalesce, Concat
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import path, reverse
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from integrations.models import Delivery
from portal.http import StaffRequest
from portal.partners import secrets
from portal.partners.models import Partner, validate_jwt_secret
from portal.roleplays import partners as partner_services
from portal.roleplays.models import Cluster
from portal.staff import roles
from portal.staff.access import staff_view
from portal.staff.listing import ActiveFilters, Column, Listing
from portal.staff.responses import (
    answer_shown_once,
    first_press,
    partial_response,
    pressed_again,
    show_once,
    take_once,
)
from portal.staff.templatetags.staff import when

DETAIL = "staff/partners/detail.html"
# The grace periods offered, by their length in seconds (a form value), default 24 hours.
GRACE_SECONDS = [(int(grace.total_seconds()), label) for grace, label in secrets.GRACE_CHOICES]
DEFAULT_GRACE = int(secrets.WEBHOOK_GRACE.total_seconds())


# --- forms


class PartnerForm(forms.ModelForm):
    """The partner's settings and clusters. Its secrets are not here: they are generated or
    set by their own actions and shown once. The model's clean() applies as in the admin."""

    class Meta:
        model = Partner
        fields = ["name", "base_url", "aio_callback_url", "allowed_hosts", "is_active", "clusters"]
        labels = {
            "name": _("Name"),
            "base_url": _("Base URL (Q3_BASE_URL)"),
            "aio_callback_url": _("Results URL (AIO_CALLBACK_URL)"),
            "allowed_hosts": _("Allowed hosts"),
            "is_active": _("Active"),
            "clusters": _("Clusters this partner may launch"),
        }
        help_texts = {
            "base_url": _(
                "e.g. https://q3.example.com; cluster metadata goes to "
                "/api/receive-cluster-metadata under it."
            ),
            "aio_callback_url": _(
                "Where results go when a launch names no results_url. Empty: the base URL's "
                "/api/receive-assessment-results."
            ),
            "allowed_hosts": _(
                "Comma-separated hosts return_url and results_url may use; the hosts of the "
                "base and results URLs are always allowed."
            ),
            "clusters": _("A cluster newly given to an active partner is sent its metadata."),
        }
        widgets = {
            "allowed_hosts": forms.TextInput(),
            "clusters": forms.CheckboxSelectMultiple(),
        }

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        clusters = self.fields["clusters"]
        assert isinstance(clusters, forms.ModelMultipleChoiceField)
        clusters.queryset = Cluster.objects.order_by("cluster_name", "pk")

    def values(self) -> dict[str, Any]:
        """The partner's settings, as the services take them."""
        return {name: self.cleaned_data[name] for name in self.Meta.fields}


class GraceForm(forms.Form):
    grace = forms.TypedChoiceField(
        label=_("The old secret keeps working for"),
        choices=GRACE_SECONDS,
        coerce=int,
        initial=DEFAULT_GRACE,
    )

    @property
    def grace_period(self) -> timedelta:
        return timedelta(seconds=self.cleaned_data["grace"])


class WebhookSecretForm(GraceForm):
    prefix = "webhook"


class JwtSecretForm(GraceForm):
    """Paste the partner's secret, or leave it empty to have a strong one generated. The
    length rule is the model's (validate_jwt_secret, which Partner.clean uses too)."""

    prefix = "jwt"
    secret = forms.CharField(
        label=_("New JWT secret"),
        required=False,
        strip=False,
        validators=[validate_jwt_secret],
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
    )
    field_order = ("secret", "grace")

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # Formatted here, in the request's language (a lazy string formatted at import is not).
        self.fields["secret"].help_text = gettext(
            "Leave empty to generate one (shown once). At least %(bytes)s bytes."
        ) % {"bytes": settings.MIN_JWT_SECRET_BYTES}


# --- the list


def jwt_secret_kind(partner: Partner) -> str:
    """ "own", "shared" (Q3_INTEGRATION_SECRET) or "none" (launches are refused)."""
    if partner.jwt_secret:
        return "own"
    return "shared" if settings.Q3_INTEGRATION_SECRET else "none"


def cluster_names(partner: Partner) -> list[str]:
    return [cluster.cluster_name for cluster in partner.clusters.all()]


PARTNERS = Listing(
    columns=(
        Column("name", _("Name"), order_by="name"),
        Column("active", _("Active"), "is_active", order_by="is_active"),
        Column("base_url", _("Base URL"), order_by="base_url"),
        Column("clusters", _("Clusters"), cluster_names),
        Column("jwt_secret", _("JWT secret"), jwt_secret_kind),
        Column("webhook_grace", _("Old webhook secret signs until"), "webhook_grace_ends_at"),
        Column("pending", _("Deliveries pending"), "pending_deliveries", "pending_deliveries"),
        Column("dead", _("Deliveries dead"), "dead_deliveries", "dead_deliveries"),
        Column("created", _("Created"), "created_at", order_by="created_at"),
    ),
    default_sort="name",
    search_fields=("name", "base_url"),
    filter_form=ActiveFilters,
)


def _deliveries(status: str) -> Coalesce:
    """How many of a partner's deliveries are in `status`: a correlated COUNT over its routes
    ("partner:<id>:<target>")."""
    route = Concat(Value("partner:"), Cast(OuterRef("pk"), CharField()), Value(":"))
    counted = (
        Delivery.objects.filter(status=status, route__startswith=route)
        .order_by()
        .values("status")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


def partner_rows() -> QuerySet[Partner]:
    return Partner.objects.prefetch_related("clusters").annotate(
        pending_deliveries=_deliveries(Delivery.Status.PENDING),
        dead_deliveries=_deliveries(Delivery.Status.DEAD),
    )


@staff_view()
def partners(request: StaffRequest) -> HttpResponse:
    return PARTNERS.respond(
        request,
        partner_rows(),
        "staff/partners/list.html",
        "partners",
        shared_secret=_shared_secret(),
    )


def _shared_secret() -> bool:
    return bool(settings.Q3_INTEGRATION_SECRET)


def _saved_message(request: StaffRequest, partner: Partner, queued: int, verb: str) -> None:
    text = verb % {"name": partner.name}
    if queued:
        text += " " + ngettext(
            "Metadata of %(n)s cluster queued for it.",
            "Metadata of %(n)s clusters queued for it.",
            queued,
        ) % {"n": queued}
    messages.success(request, text)


@staff_view(roles.OPERATE)
def partner_create(request: StaffRequest) -> HttpResponse:
    form = PartnerForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            partner = partner_services.partner_create(**form.values(), actor=request.user)
        except ValidationError as error:  # the form's own rule: only in a race
            form.add_error(None, error)
        else:
            show_once(request, f"partner:{partner.pk}:webhook_secret", partner.webhook_secret)
            queued = len(form.cleaned_data["clusters"]) if partner.is_active else 0
            _saved_message(request, partner, queued, gettext("Partner %(name)s created."))
            return HttpResponseRedirect(reverse("staff:partner", args=[partner.pk]))
    return render(request, "staff/partners/form.html", {"form": form, "partner": None})


# --- one partner


def _detail_context(request: StaffRequest, partner: Partner, **extra) -> dict:
    counts = Delivery.objects.filter(route__startswith=f"partner:{partner.pk}:").aggregate(
        pending=Count("pk", filter=Q(status=Delivery.Status.PENDING)),
        dead=Count("pk", filter=Q(status=Delivery.Status.DEAD)),
        delivered=Count("pk", filter=Q(status=Delivery.Status.DELIVERED)),
    )
    return {
        "partner": partner,
        "clusters": list(partner.clusters.order_by("cluster_name", "pk")),
        "jwt_kind": jwt_secret_kind(partner),
        "deliveries": counts,
        "webhook_form": WebhookSecretForm(),
        "jwt_form": JwtSecretForm(),
        **extra,
    }


@staff_view()
def partner(request: StaffRequest, pk: int) -> HttpResponse:
    partner = get_object_or_404(Partner, pk=pk)
    context = _detail_context(
        request,
        partner,
        new_webhook_secret=take_once(request, f"partner:{pk}:webhook_secret"),
        new_jwt_secret=take_once(request, f"partner:{pk}:jwt_secret"),
    )
    return render(request, DETAIL, context)


def _back(request: StaffRequest, partner: Partner, status: int = 200, **extra) -> HttpResponse:
    """After an action: the partner's page (htmx: its updated body, with the messages).

    With `extra` forms carrying errors, the page is rendered rather than redirected to."""
    if request.htmx:
        context = _detail_context(request, partner, **extra)
        return partial_response(request, (f"{DETAIL}#detail", context))
    if status != 200:
        return render(request, DETAIL, _detail_context(request, partner, **extra), status=status)
    return HttpResponseRedirect(reverse("staff:partner", args=[partner.pk]))


@staff_view(roles.OPERATE)
def partner_edit(request: StaffRequest, pk: int) -> HttpResponse:
    partner = get_object_or_404(Partner, pk=pk)
    form = PartnerForm(request.POST or None, instance=partner)
    if request.method == "POST" and form.is_valid():
        try:
            queued = partner_services.partner_update(
                partner=partner, **form.values(), actor=request.user
            )
        except ValidationError as error:  # the form's own rule: only in a race
            form.add_error(None, error)
        else:
            _saved_message(request, partner, queued, gettext("Partner %(name)s saved."))
            return HttpResponseRedirect(reverse("staff:partner", args=[partner.pk]))
    return render(request, "staff/partners/form.html", {"form": form, "partner": partner})


@staff_view(roles.OPERATE)
@require_POST
def partner_rotate_webhook_secret(request: StaffRequest, pk: int) -> HttpResponse:
    partner = get_object_or_404(Partner, pk=pk)
    form = WebhookSecretForm(request.POST)
    if not form.is_valid():
        return _back(request, partner, status=400, webhook_form=form)
    if not first_press(request):
        return pressed_again(request, partial(_back, request, partner))
    secret = secrets.partner_rotate_webhook_secret(
        partner=partner, actor=request.user, grace=form.grace_period
    )
    if partner.webhook_grace_ends_at:
        text = gettext(
            "New webhook secret for %(name)s. Webhooks carry a signature with each secret "
            "until %(until)s; after that only the new one signs."
        ) % {"name": partner.name, "until": when(partner.webhook_grace_ends_at)}
    else:
        text = gettext("New webhook secret for %(name)s. The old one no longer signs.") % {
            "name": partner.name
        }
    messages.success(request, text)
    return answer_shown_once(
        request,
        partial(_back, request, partner),
        f"partner:{pk}:webhook_secret",
        new_webhook_secret=secret,
    )


@staff_view(roles.OPERATE)
@require_POST
def partner_set_jwt_secret(request: StaffRequest, pk: int) -> HttpResponse:
    partner = get_object_or_404(Partner, pk=pk)
    form = JwtSecretForm(request.POST)
    if not form.is_valid():
        return _back(request, partner, status=400, jwt_form=form)
    if not first_press(request):
        return pressed_again(request, partial(_back, request, partner))
    pasted = form.cleaned_data["secret"]
    secret = secrets.partner_set_jwt_secret(
        partner=partner, actor=request.user, secret=pasted, grace=form.grace_period
    )
    if partner.jwt_grace_ends_at:
        text = gettext(
            "New JWT secret for %(name)s. Launch tokens signed with the old one are accepted "
            "until %(until)s."
        ) % {"name": partner.name, "until": when(partner.jwt_grace_ends_at)}
    else:
        text = gettext("New JWT secret for %(name)s.") % {"name": partner.name}
    messages.success(request, text)
    # A pasted secret is known already; a generated one is shown once.
    return answer_shown_once(
        request,
        partial(_back, request, partner),
        f"partner:{pk}:jwt_secret",
        new_jwt_secret="" if pasted else secret,
    )


@staff_view(roles.OPERATE)
@require_POST
def partner_end_grace(request: StaffRequest, pk: int) -> HttpResponse:
    partner = get_object_or_404(Partner, pk=pk)
    secrets.partner_end_grace(partner=partner, actor=request.user)
    messages.success(
        request,
        gettext("The previous secrets of %(name)s no longer work.") % {"name": partner.name},
    )
    return _back(request, partner)


@staff_view(roles.OPERATE)
@require_POST
def partner_push_metadata(request: StaffRequest, pk: int) -> HttpResponse:
    partner = get_object_or_404(Partner, pk=pk)
    queued = partner_services.partner_push_metadata(partner=partner, actor=request.user)
    if queued:
        messages.success(
            request,
            ngettext(
                "Metadata of %(n)s cluster queued for %(name)s.",
                "Metadata of %(n)s clusters queued for %(name)s.",
                queued,
            )
            % {"n": queued, "name": partner.name},
        )
    elif not partner.is_active:
        messages.warning(
            request, gettext("%(name)s is inactive: nothing was sent.") % {"name": partner.name}
        )
    else:
        messages.warning(
            request, gettext("%(name)s has no clusters: nothing was sent.") % {"name": partner.name}
        )
    return _back(request, partner)


urlpatterns = [
    path("partners/", partners, name="partners"),
    path("partners/new/", partner_create, name="partner_create"),
    path("partners/<int:pk>/", partner, name="partner"),
    path("partners/<int:pk>/edit/", partner_edit, name="partner_edit"),
    path(
        "partners/<int:pk>/webhook-secret/",
        partner_rotate_webhook_secret,
        name="partner_rotate_webhook_secret",
    ),
    path("partners/<int:pk>/jwt-secret/", partner_set_jwt_secret, name="partner_set_jwt_secret"),
    path("partners/<int:pk>/end-grace/", partner_end_grace, name="partner_end_grace"),
    path("partners/<int:pk>/push-metadata/", partner_push_metadata, name="partner_push_metadata"),
]
