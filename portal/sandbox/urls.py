"""The sandbox's pages: a fake customer and a fake roleplay partner, for demos and trials.

Mounted only when settings.SANDBOX_ENABLED (default: with DEBUG, and `make run`): it mints
launch tokens with the demo partner's secret, so in production every page of it is a 404.
"""

from functools import wraps

from django.conf import settings
from django.http import Http404
from django.urls import path

from portal.sandbox import q3, views


def sandbox_only(view):
    """404 while the sandbox is off (checked per request, so a setting change takes effect)."""

    @wraps(view)
    def gated(request, *args, **kwargs):
        if not settings.SANDBOX_ENABLED:
            raise Http404("The sandbox is off.")
        return view(request, *args, **kwargs)

    return gated


app_name = "sandbox"
urlpatterns = [
    path("", sandbox_only(views.index), name="index"),
    path("exams/<int:eurl>/", sandbox_only(views.exam_intro), name="exam_intro"),
    path("exams/<int:eurl>/start/", sandbox_only(views.exam_start), name="exam_start"),
    path("exams/callback/", sandbox_only(views.exam_callback), name="exam_callback"),
    path("q3/", sandbox_only(q3.dashboard), name="q3_dashboard"),
    path("q3/attempt/", sandbox_only(q3.attempt), name="q3_attempt"),
    path(
        "q3/api/receive-cluster-metadata",
        sandbox_only(q3.receive_cluster_metadata),
        name="q3_metadata",
    ),
    path(
        "q3/api/receive-assessment-results",
        sandbox_only(q3.receive_assessment_results),
        name="q3_results",
    ),
]
