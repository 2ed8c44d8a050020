"""URL map: the API at /api/, candidate pages, the sandbox, the console, the admin, probes."""

from django.conf import settings
from django.contrib import admin
from django.http import HttpRequest, HttpResponseRedirect
from django.templatetags.static import static
from django.urls import URLPattern, URLResolver, include, path, re_path
from ninja import NinjaAPI

from api.main import api
from api.shortcuts import answer_shortcut, launch_shortcut, save_progress_shortcut
from portal import errors, health, prometheus


def home(request: HttpRequest) -> HttpResponseRedirect:
    """The sandbox when it is on (`make run`), else the staff console."""
    return HttpResponseRedirect("/sandbox/" if settings.SANDBOX_ENABLED else "/staff/")


def favicon(request: HttpRequest) -> HttpResponseRedirect:
    """Browsers ask for /favicon.ico whatever the page says: send them to the static SVG (a
    temporary redirect, since its hashed name changes when the file does)."""
    return HttpResponseRedirect(static("favicon.svg"))


def patterns(partner_api: NinjaAPI) -> list[URLPattern | URLResolver]:
    """The URL map with `partner_api` at /api/: the one api.main built for this process, or in
    a test the development one (tests/development_urls.py)."""
    return [
        # The hottest requests, their common case in front of the API (api/shortcuts.py);
        # first, since Django tries the patterns in order.
        path("api/launch/<str:launch_id>/answer/", answer_shortcut),
        path("api/integration/exams/launch/", launch_shortcut),
        path("api/assessment/save-progress", save_progress_shortcut),
        path("", home),
        path("favicon.ico", favicon),
        # Probes for load balancers (docs/operations.md): never rate-limited, never cached.
        path("healthz", health.healthz, name="healthz"),
        path("readyz", health.readyz, name="readyz"),
        path("metrics", prometheus.metrics_view, name="metrics"),
        path("api/", partner_api.urls),
        # Any other path under /api/: its contract's 404, with DEBUG too (Django's debug 404 page
        # is HTML), and never a redirect to the path with a slash (a partner's POST would
        # not survive it; with DEBUG Django refuses it with an error).
        re_path(r"^api/", errors.not_found),
        path("exam/", include("portal.exams.urls")),
        path("assessment/", include("portal.scorecards.urls")),
        path("roleplay/", include("portal.roleplays.urls")),
        path("sandbox/", include("portal.sandbox.urls")),
        path("staff/", include("portal.staff.urls")),
        path("admin/", admin.site.urls),
    ]


urlpatterns = patterns(api)

# Errors in the format of the contract the path belongs to (JSON under /api/), pages otherwise.
handler400 = "portal.errors.handler400"
handler404 = "portal.errors.handler404"
handler500 = "portal.errors.handler500"
