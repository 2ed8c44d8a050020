from django.apps import AppConfig


class RoleplaysConfig(AppConfig):
    name = "portal.roleplays"
    label = "roleplays"
    verbose_name = "Roleplay clusters"

    def ready(self) -> None:
        from django.core import checks

        from portal.roleplays.checks import (
            check_outbound_loopback,
            check_partner_jwt_secrets,
            check_partner_secrets_are_distinct,
        )

        checks.register(check_partner_jwt_secrets)
        checks.register(check_partner_secrets_are_distinct)
        checks.register(check_outbound_loopback, deploy=True)
