from django.apps import AppConfig


class HousekeepingConfig(AppConfig):
    name = "portal.housekeeping"
    label = "housekeeping"
    verbose_name = "Housekeeping"
