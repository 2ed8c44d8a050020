"""Customers and client tokens in the admin; a new token is shown once, then only its prefix."""

from django.contrib import admin, messages
from django.http import HttpRequest
from django.utils import timezone

from portal.customers.models import ClientToken, Customer, hash_token


class ClientTokenInline(admin.TabularInline):
    model = ClientToken
    extra = 0
    fields = (
        "prefix",
        "label",
        "allowed_callback_hosts",
        "created_at",
        "last_used_at",
        "revoked_at",
    )
    readonly_fields = ("prefix", "created_at", "last_used_at")
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False  # tokens are issued from the token page, where the value is shown once


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ("name", "is_active", "created_at")
    search_fields = ("name",)
    readonly_fields = ("created_at",)
    inlines = [ClientTokenInline]


@admin.action(description="Revoke selected tokens")
def revoke_tokens(modeladmin, request: HttpRequest, queryset) -> None:
    count = queryset.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())
    modeladmin.message_user(request, f"{count} token(s) revoked.")


@admin.register(ClientToken)
class ClientTokenAdmin(admin.ModelAdmin):
    list_display = ("prefix", "customer", "label", "created_at", "last_used_at", "revoked_at")
    list_filter = ("customer", ("revoked_at", admin.EmptyFieldListFilter))
    search_fields = ("prefix", "label", "customer__name")
    readonly_fields = ("prefix", "created_at", "last_used_at")
    fields = (
        "customer",
        "label",
        "allowed_callback_hosts",
        "prefix",
        "created_at",
        "last_used_at",
        "revoked_at",
    )
    actions = [revoke_tokens]

    def save_model(self, request: HttpRequest, obj: ClientToken, form, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        token, raw = ClientToken.issue(
            customer=obj.customer,
            label=obj.label,
            allowed_callback_hosts=obj.allowed_callback_hosts,
        )
        obj.pk, obj.token_hash, obj.prefix = token.pk, hash_token(raw), token.prefix
        messages.warning(
            request,
            f"New client token for {obj.customer}: {raw} — copy it now, it is not stored and "
            "won't be shown again.",
        )
