"""The partners app; at start-up it tells the outbox how to route a partner's deliveries."""

from django.apps import AppConfig


class PartnersConfig(AppConfig):
    name = "portal.partners"
    label = "partners"
    verbose_name = "Roleplay partners"

    def ready(self) -> None:
        from integrations import routes
        from portal.partners.models import resolve_route, route_owner_row

        routes.register("partner", resolve_route, owner_row=route_owner_row())
