from django.apps import AppConfig


class RoleplaysConfig(AppConfig):
    name = "portal.roleplays"
    label = "roleplays"
    verbose_name = "Roleplay clusters"
