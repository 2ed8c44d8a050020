"""Customers and their client tokens (seed 001): list, create, (de)activate, rotate the callback
signing secret; issue, edit and revoke tokens. A new secret or token is shown once.

Viewers read; operators change. Every change goes through portal.customers.services, which
writes the audit row. Without JavaScript each action is a form that posts and redirects back
(confirmations are pages of their own); with htmx the same forms swap the part that changed.
"""

from functools import partial

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Case, IntegerField, Max, OuterRef, QuerySet, Subquery, When
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import path, reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from portal.customers import services
from portal.customers.models import ClientToken, Customer
from portal.customers.validators import normalise_callback_hosts
from portal.exams.models import Exam
from portal.http import StaffRequest
from portal.staff import roles
from portal.staff.access import staff_view
from portal.staff.listing import (
    ActiveFilters,
    Column,
    FilterForm,
    Listing,
    count_per_row,
    wants_export,
)
from portal.staff.responses import (
    answer_shown_once,
    first_press,
    partial_response,
    pressed_again,
    show_once,
    take_once,
)

DETAIL = "staff/customers/detail.html"


# --- forms: ModelForms, so the model's own rules (unique name, field lengths) apply here as in
# the admin; allowed hosts go through the one host rule (portal.customers.validators).


class CustomerForm(forms.ModelForm):
    class Meta:
        model = Customer
        fields = ["name"]
        labels = {"name": _("Name")}
        help_texts = {"name": _("The customer company, as staff will recognise it.")}


class ClientTokenForm(forms.ModelForm):
    class Meta:
        model = ClientToken
        fields = ["label", "allowed_callback_hosts"]
        labels = {"label": _("Label"), "allowed_callback_hosts": _("Allowed callback hosts")}
        help_texts = {
            "label": _("A note on what the token is for, e.g. production or staging."),
            "allowed_callback_hosts": _(
                "Comma-separated host names the launch's callback_url may use, e.g. "
                "lms.example.com. Empty allows any host."
            ),
        }
        widgets = {"allowed_callback_hosts": forms.TextInput()}

    def clean_allowed_callback_hosts(self) -> str:
        return normalise_callback_hosts(self.cleaned_data["allowed_callback_hosts"])


# --- the list of customers


CUSTOMERS = Listing(
    columns=(
        Column("name", _("Name"), order_by="name"),
        Column("active", _("Active"), "is_active", order_by="is_active"),
        Column("usable_tokens", _("Usable tokens"), order_by="usable_tokens"),
        Column("last_token_use", _("Last token use"), order_by="last_token_use"),
        Column("exams", _("Exams"), "exam_count", order_by="exam_count"),
        Column("created", _("Created"), "created_at", order_by="created_at"),
    ),
    default_sort="name",
    search_fields=("name",),
    filter_form=ActiveFilters,
)


def customer_rows() -> QuerySet[Customer]:
    """Customers with their usable tokens, last token use and exams, in one query."""
    tokens = ClientToken.objects.filter(customer=OuterRef("pk"))
    last_use = tokens.order_by().values("customer").annotate(m=Max("last_used_at")).values("m")
    return Customer.objects.annotate(
        usable_tokens=Case(
            When(
                is_active=True,
                then=count_per_row(tokens.filter(revoked_at__isnull=True), "customer"),
            ),
            default=0,
            output_field=IntegerField(),
        ),
        last_token_use=Subquery(last_use),
        exam_count=count_per_row(Exam.objects.filter(customer=OuterRef("pk")), "customer"),
    )


@staff_view()
def customers(request: StaffRequest) -> HttpResponse:
    return CUSTOMERS.respond(request, customer_rows(), "staff/customers/list.html", "customers")


@staff_view(roles.OPERATE)
def customer_create(request: StaffRequest) -> HttpResponse:
    form = CustomerForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            customer = services.customer_create(name=form.cleaned_data["name"], actor=request.user)
        except ValidationError as error:  # the form's own rule: only in a race
            form.add_error(None, error)
        else:
            show_once(request, f"customer:{customer.pk}:signing_secret", customer.signing_secret)
            messages.success(
                request, gettext("Customer %(name)s created.") % {"name": customer.name}
            )
            return HttpResponseRedirect(reverse("staff:customer", args=[customer.pk]))
    return render(request, "staff/customers/new.html", {"form": form})


# --- one customer and its tokens


class TokenFilters(FilterForm):
    state = forms.ChoiceField(
        label=_("State"),
        required=False,
        choices=[("", _("All")), ("usable", _("Not revoked")), ("revoked", _("Revoked"))],
    )

    def filter(self, queryset, data):
        if data.get("state") == "usable":
            queryset = queryset.filter(revoked_at__isnull=True)
        elif data.get("state") == "revoked":
            queryset = queryset.filter(revoked_at__isnull=False)
        return queryset


TOKENS = Listing(
    columns=(
        Column("prefix", _("Token"), lambda t: f"{t.prefix}…", order_by="prefix"),
        Column("label", _("Label"), order_by="label"),
        Column("allowed_hosts", _("Allowed callback hosts"), "allowed_callback_hosts"),
        Column("created", _("Created"), "created_at", order_by="created_at"),
        Column("last_used", _("Last used"), "last_used_at", order_by="last_used_at"),
        Column("revoked", _("Revoked"), "revoked_at", order_by="revoked_at"),
    ),
    default_sort="-created",
    search_fields=("label", "prefix", "allowed_callback_hosts"),
    filter_form=TokenFilters,
    per_page=25,
)


def _detail_context(request: StaffRequest, customer: Customer, **extra) -> dict:
    return {
        "customer": customer,
        "exam_count": customer.exams.count(),
        "listing": TOKENS.page(request, customer.tokens.all()),
        "token_form": ClientTokenForm(),
        **extra,
    }


def _customer_or_404(pk: int) -> Customer:
    return get_object_or_404(Customer, pk=pk)


@staff_view()
def customer(request: StaffRequest, pk: int) -> HttpResponse:
    customer = _customer_or_404(pk)
    if wants_export(request):
        return TOKENS.export(request, customer.tokens.all(), f"client-tokens-{customer.pk}")
    if request.htmx:
        listing = TOKENS.page(request, customer.tokens.all())
        context = {"customer": customer, "listing": listing}
        return render(request, f"{DETAIL}#results", context)
    # What a create, a rotation or an issue just made, shown this once.
    context = _detail_context(
        request,
        customer,
        new_signing_secret=take_once(request, f"customer:{pk}:signing_secret"),
        issued=take_once(request, f"customer:{pk}:token"),
    )
    return render(request, DETAIL, context)


def _back(request: StaffRequest, customer: Customer, tokens: bool = False, **extra) -> HttpResponse:
    """After an action: the customer page again. With htmx: its updated summary, and the
    tokens table too when `tokens` (it changed)."""
    if not request.htmx:
        return HttpResponseRedirect(reverse("staff:customer", args=[customer.pk]))
    context = _detail_context(request, customer, **extra)
    parts = [(f"{DETAIL}#summary", context)]
    if tokens:
        parts.append((f"{DETAIL}#results", context | {"oob": True}))
    return partial_response(request, *parts)


@staff_view(roles.OPERATE)
@require_POST
def customer_set_active(request: StaffRequest, pk: int) -> HttpResponse:
    customer = _customer_or_404(pk)
    active = request.POST.get("is_active") == "true"
    if services.customer_set_active(customer=customer, is_active=active, actor=request.user):
        if active:
            message = gettext("%(name)s is active again: its tokens authenticate.")
        else:
            message = gettext("%(name)s is deactivated: its tokens no longer authenticate.")
        messages.success(request, message % {"name": customer.name})
    return _back(request, customer)


@staff_view(roles.OPERATE)
def customer_rotate_secret(request: StaffRequest, pk: int) -> HttpResponse:
    """GET: ask to confirm; POST: rotate and show the new secret once."""
    customer = _customer_or_404(pk)
    if request.method != "POST":
        return render(
            request,
            "staff/customers/confirm.html",
            {
                "customer": customer,
                "action": "rotate",
                "cancel_url": reverse("staff:customer", args=[pk]),
            },
        )
    if not first_press(request):
        return pressed_again(request, partial(_back, request, customer))
    secret = services.customer_rotate_signing_secret(customer=customer, actor=request.user)
    messages.success(
        request,
        gettext(
            "The callback signing secret of %(name)s was replaced. Give the customer the new "
            "secret now: it is shown once, and results are signed with it from now on."
        )
        % {"name": customer.name},
    )
    return answer_shown_once(
        request,
        partial(_back, request, customer),
        f"customer:{pk}:signing_secret",
        new_signing_secret=secret,
    )


@staff_view(roles.OPERATE)
@require_POST
def token_issue(request: StaffRequest, pk: int) -> HttpResponse:
    customer = _customer_or_404(pk)
    form = ClientTokenForm(request.POST)
    if not form.is_valid():
        context = _detail_context(request, customer, token_form=form)
        if request.htmx:
            return partial_response(request, (f"{DETAIL}#summary", context))
        return render(request, DETAIL, context, status=400)
    if not first_press(request):
        return pressed_again(request, partial(_back, request, customer, tokens=True))
    token, raw = services.client_token_issue(
        customer=customer,
        label=form.cleaned_data["label"],
        allowed_callback_hosts=form.cleaned_data["allowed_callback_hosts"],
        actor=request.user,
    )
    messages.success(
        request, gettext("Client token %(prefix)s… issued.") % {"prefix": token.prefix}
    )
    issued = {"token": raw, "prefix": token.prefix, "label": token.label}
    back = partial(_back, request, customer, tokens=True)
    return answer_shown_once(request, back, f"customer:{pk}:token", issued=issued)


def _token_or_404(pk: int, token_pk: int) -> ClientToken:
    return get_object_or_404(
        ClientToken.objects.select_related("customer"), pk=token_pk, customer=pk
    )


@staff_view(roles.OPERATE)
def token_edit(request: StaffRequest, pk: int, token_pk: int) -> HttpResponse:
    """Edit a token's label and allowed hosts: a page of its own, or (htmx) its row in place."""
    token = _token_or_404(pk, token_pk)
    form = ClientTokenForm(request.POST or None, instance=token)
    context = {"customer": token.customer, "token": token, "form": form}
    if request.method == "POST":
        if request.POST.get("cancel"):
            return _row_or_back(request, token)
        if form.is_valid():
            try:
                services.client_token_update(
                    token=ClientToken.objects.get(pk=token.pk),
                    label=form.cleaned_data["label"],
                    allowed_callback_hosts=form.cleaned_data["allowed_callback_hosts"],
                    actor=request.user,
                )
            except ValidationError as error:  # the same rule as the form: only in a race
                form.add_error("allowed_callback_hosts", error)
            else:
                messages.success(
                    request, gettext("Client token %(prefix)s… saved.") % {"prefix": token.prefix}
                )
                return _row_or_back(request, token)
    if request.htmx:
        return partial_response(request, ("staff/customers/token_edit.html#edit_row", context))
    return render(request, "staff/customers/token_edit.html", context)


def _row_or_back(request: StaffRequest, token: ClientToken) -> HttpResponse:
    if request.htmx:
        token.refresh_from_db()
        context = {"customer": token.customer, "token": token}
        return partial_response(request, (f"{DETAIL}#token_row", context))
    return HttpResponseRedirect(reverse("staff:customer", args=[token.customer_id]))


@staff_view(roles.OPERATE)
def token_revoke(request: StaffRequest, pk: int, token_pk: int) -> HttpResponse:
    """GET: ask to confirm; POST: revoke (it stops authenticating at once)."""
    token = _token_or_404(pk, token_pk)
    if request.method != "POST":
        return render(
            request,
            "staff/customers/confirm.html",
            {
                "customer": token.customer,
                "token": token,
                "action": "revoke",
                "cancel_url": reverse("staff:customer", args=[pk]),
            },
        )
    if services.client_token_revoke(token=token, actor=request.user):
        messages.success(
            request,
            gettext("Client token %(prefix)s… revoked: it no longer authenticates.")
            % {"prefix": token.prefix},
        )
    else:
        messages.info(request, gettext("That token was already revoked."))
    return _row_or_back(request, token)


urlpatterns = [
    path("customers/", customers, name="customers"),
    path("customers/new/", customer_create, name="customer_create"),
    path("customers/<int:pk>/", customer, name="customer"),
    path("customers/<int:pk>/active/", customer_set_active, name="customer_set_active"),
    path(
        "customers/<int:pk>/signing-secret/", customer_rotate_secret, name="customer_rotate_secret"
    ),
    path("customers/<int:pk>/tokens/", token_issue, name="customer_token_issue"),
    path("customers/<int:pk>/tokens/<int:token_pk>/", token_edit, name="customer_token_edit"),
    path(
        "customers/<int:pk>/tokens/<int:token_pk>/revoke/",
        token_revoke,
        name="customer_token_revoke",
    ),
]
