"""Deliveries in the admin: what was sent where, every attempt, and a Replay button."""

import json
from typing import TYPE_CHECKING

from django.contrib import admin, messages
from django.contrib.admin.utils import flatten_fieldsets
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html
from django.views.decorators.http import require_POST

from integrations.deliveries import replay_delivery
from integrations.models import Delivery, DeliveryAttempt
from portal.admin import RecordInline

if TYPE_CHECKING:
    # The stubs' ModelAdmin is generic; Django's own is not subscriptable at run time.
    _DeliveryModelAdmin = admin.ModelAdmin[Delivery]
else:
    _DeliveryModelAdmin = admin.ModelAdmin


class DeliveryAttemptInline(RecordInline):
    model = DeliveryAttempt
    fields = (
        "started_at",
        "target_url",
        "outcome",
        "status_code",
        "duration_ms",
        "error",
        "response_excerpt",
    )

    def has_change_permission(self, request: HttpRequest, obj: Delivery | None = None) -> bool:
        return False


@admin.register(Delivery)
class DeliveryAdmin(_DeliveryModelAdmin):
    list_display = (
        "kind",
        "transport",
        "target_url",
        "status",
        "attempt_count",
        "next_attempt_at",
        "created_at",
    )
    list_filter = ("status", "transport", "kind", "created_at")
    date_hierarchy = "created_at"
    actions = ["replay"]
    search_fields = ("target_url", "kind", "dedupe_key", "route")
    inlines = [DeliveryAttemptInline]
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "kind",
                    "transport",
                    "route",
                    "target_url",
                    "status",
                    "last_error",
                    "group_key",
                    "superseded_by",
                )
            },
        ),
        (
            "Schedule",
            {"fields": ("attempt_count", "next_attempt_at", "locked_until", "created_at")},
        ),
        ("Delivered", {"fields": ("delivered_at",)}),
        (
            "Message",
            {
                "fields": (
                    "webhook_id",
                    "signed",
                    "require_success_flag",
                    "allowed_hosts",
                    "dedupe_key",
                    "pretty_payload",
                    "pretty_state",
                )
            },
        ),
    )
    # The signing secret is never shown: it is the partner's, and signs every attempt.
    # Everything shown is read-only.
    readonly_fields = tuple(flatten_fieldsets(fieldsets))

    class Media:
        # Classes, not style attributes: the CSP (default-src 'self') refuses inline styles.
        css = {"all": ["integrations/delivery_admin.css"]}

    # Deliveries are written by the portal's services only; staff look, and replay.
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Delivery | None = None) -> bool:
        return False

    def has_replay_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("integrations.change_delivery")

    @admin.display(boolean=True, description="signed")
    def signed(self, delivery: Delivery) -> bool:
        return delivery.is_signed

    @admin.display(description="payload")
    def pretty_payload(self, delivery: Delivery) -> str:
        try:
            text = json.dumps(json.loads(delivery.payload), indent=2, ensure_ascii=False)
        except ValueError:
            text = delivery.payload
        return format_html('<pre class="delivery-json">{}</pre>', text)

    @admin.display(description="progress")
    def pretty_state(self, delivery: Delivery) -> str:
        # What a multi-step transport has done, e.g. the HubSpot contact and deal ids.
        text = json.dumps(delivery.state, indent=2, ensure_ascii=False)
        return format_html('<pre class="delivery-json">{}</pre>', text)

    @admin.action(
        description="Replay selected deliveries (delivered or dead)", permissions=["replay"]
    )
    def replay(self, request: HttpRequest, queryset: QuerySet[Delivery]) -> None:
        pending = queryset.filter(status=Delivery.Status.PENDING).count()
        replayed = sum(replay_delivery(delivery) for delivery in queryset)
        superseded = queryset.count() - replayed - pending
        message = f"{replayed} delivery(ies) queued for replay."
        if pending:
            message += f" {pending} still pending were left alone."
        if superseded:
            # Replaying one would send stale data after the newer one of its group.
            message += f" {superseded} superseded by a newer one were left alone."
        self.message_user(request, message, messages.SUCCESS if replayed else messages.WARNING)

    def get_urls(self) -> list[URLPattern]:
        replay = path(
            "<path:object_id>/replay/",
            self.admin_site.admin_view(require_POST(self.replay_view)),
            name="integrations_delivery_replay",
        )
        return [replay, *super().get_urls()]

    def replay_view(self, request: HttpRequest, object_id: str) -> HttpResponseRedirect:
        if not self.has_replay_permission(request):
            raise PermissionDenied
        delivery = get_object_or_404(Delivery, pk=object_id)
        if replay_delivery(delivery):
            self.message_user(request, f"Delivery {delivery.webhook_id} queued for replay.")
        else:
            self.message_user(
                request,
                "Only a delivered or dead delivery that no newer one of its group superseded "
                "can be replayed.",
                messages.WARNING,
            )
        return HttpResponseRedirect(
            reverse("admin:integrations_delivery_change", args=[delivery.pk])
        )

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, object] | None = None,
    ) -> HttpResponse:
        delivery = self.get_object(request, object_id)
        can_replay = (
            delivery is not None
            and delivery.status in (Delivery.Status.DELIVERED, Delivery.Status.DEAD)
            and delivery.superseded_by_id is None
            and self.has_replay_permission(request)
        )
        extra_context = (extra_context or {}) | {"can_replay": can_replay}
        return super().change_view(request, object_id, form_url, extra_context)
