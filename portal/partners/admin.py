"""Roleplay partners in the admin: their launch secret is write-only, their webhook secret shown.

A partner newly allowed to launch a cluster is sent that cluster's metadata (seed 000): that
part is added in portal/roleplays/admin.py, since partners import nothing of roleplays.
Secrets change through portal.partners.secrets, as in the staff console: the old one keeps
working for the default grace period, and the change is written to the audit log.
"""

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.http import HttpRequest

from portal.partners import secrets
from portal.partners.models import Partner, validate_jwt_secret


class PartnerForm(forms.ModelForm):
    """The stored jwt_secret never goes to the browser: staff can only replace or clear it."""

    new_jwt_secret = forms.CharField(
        label="New JWT secret",
        required=False,
        strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text="Set or replace the partner's HS256 launch secret (at least "
        f"{settings.MIN_JWT_SECRET_BYTES} bytes). Leave empty to keep the current one.",
    )
    clear_jwt_secret = forms.BooleanField(
        label="Clear the JWT secret",
        required=False,
        help_text="Use the shared Q3_INTEGRATION_SECRET instead.",
    )

    class Meta:
        model = Partner
        exclude = ("jwt_secret",)

    def clean_new_jwt_secret(self) -> str:
        secret = self.cleaned_data["new_jwt_secret"]
        if secret:
            validate_jwt_secret(secret)  # the rule of Partner.clean and the console
        return secret

    def clean(self) -> dict:
        super().clean()
        data = self.cleaned_data  # what ModelForm.clean() returns
        if data.get("new_jwt_secret") and data.get("clear_jwt_secret"):
            raise forms.ValidationError("Either set a new JWT secret or clear it, not both.")
        return data

    def save(self, commit: bool = True) -> Partner:
        # A new JWT secret is set by PartnerAdmin.save_model through the audited service (with
        # its grace period); clearing it needs no grace: the shared secret takes over at once.
        partner = super().save(commit=False)
        if self.cleaned_data.get("clear_jwt_secret"):
            partner.jwt_secret = ""
        elif not partner.pk and self.cleaned_data.get("new_jwt_secret"):
            partner.jwt_secret = self.cleaned_data["new_jwt_secret"]  # a new partner: no grace
        if commit:
            partner.save()
            self.save_m2m()
        return partner


@admin.action(description="Rotate the webhook secret of selected partners")
def rotate_webhook_secret(modeladmin, request: HttpRequest, queryset) -> None:
    count = 0
    for partner in queryset:
        secrets.partner_rotate_webhook_secret(partner=partner, actor=request.user)
        count += 1
    hours = secrets.WEBHOOK_GRACE.total_seconds() / 3600
    modeladmin.message_user(
        request,
        f"{count} webhook secret(s) rotated: give each partner its new secret (shown on its "
        f"page). The old one keeps signing beside it for {hours:g} hours.",
        messages.WARNING,
    )


@admin.register(Partner)
class PartnerAdmin(admin.ModelAdmin):
    form = PartnerForm
    list_display = ("name", "base_url", "jwt_secret_status", "is_active", "created_at")
    list_filter = ("is_active",)
    search_fields = ("name", "base_url")
    readonly_fields = ("jwt_secret_status", "webhook_secret", "grace_status", "created_at")
    filter_horizontal = ("clusters",)
    actions = [rotate_webhook_secret]
    fieldsets = (
        (None, {"fields": ("name", "is_active", "base_url", "aio_callback_url", "allowed_hosts")}),
        (
            "Launch tokens (HS256 JWT)",
            {"fields": ("jwt_secret_status", "new_jwt_secret", "clear_jwt_secret")},
        ),
        ("Webhooks we send", {"fields": ("webhook_secret", "grace_status")}),
        ("Clusters this partner may launch", {"fields": ("clusters",)}),
        (None, {"fields": ("created_at",)}),
    )

    def save_model(self, request: HttpRequest, obj: Partner, form, change: bool) -> None:
        super().save_model(request, obj, form, change)
        new_secret = form.cleaned_data.get("new_jwt_secret")
        if change and new_secret and new_secret != obj.jwt_secret:
            secrets.partner_set_jwt_secret(partner=obj, actor=request.user, secret=new_secret)

    @admin.display(description="Previous secrets")
    def grace_status(self, obj: Partner) -> str:
        ends = [
            f"the previous {what} secret works until {when:%Y-%m-%d %H:%M %Z}"
            for what, when in (
                ("webhook", obj.webhook_grace_ends_at),
                ("JWT", obj.jwt_grace_ends_at),
            )
            if when
        ]
        return "; ".join(ends) or "none: only the current secrets work"

    @admin.display(description="JWT secret")
    def jwt_secret_status(self, obj: Partner) -> str:
        if obj.jwt_secret:
            return f"set ({len(obj.jwt_secret.encode())} bytes)"
        if settings.Q3_INTEGRATION_SECRET:
            return "not set: uses Q3_INTEGRATION_SECRET"
        return "not set, and Q3_INTEGRATION_SECRET is empty: launches will be refused"
