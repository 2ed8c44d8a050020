"""The console's permissions. Roles (portal.staff.roles) are Django groups that grant them."""

from django.db import models


class Console(models.Model):
    """No table: the holder of the three permissions the console checks."""

    class Meta:
        managed = False
        default_permissions = ()
        permissions = [
            ("view_console", "Can read everything in the staff console"),
            ("operate", "Can send and replay deliveries, re-sync leads, manage partners"),
            ("author", "Can edit exams, clusters and scorecard content"),
        ]
