"""Admin pieces shared by the apps' admin modules (portal itself is not an app)."""

from django.contrib import admin
from django.http import HttpRequest


class RecordInline(admin.TabularInline):
    """Rows that record what happened (a quiz's answers, a launch, an attempt): shown beside
    their parent for reading, never added, changed or deleted by hand, since the services
    that write them keep invariants a hand edit would break. Set `model` and `fields`."""

    extra = 0
    can_delete = False

    def get_readonly_fields(self, request: HttpRequest, obj=None):
        return self.fields

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False
