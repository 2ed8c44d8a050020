"""The one place that builds outbound HTTP clients: one timeout, no redirects followed."""

import httpx
from django.conf import settings


def client(**kwargs) -> httpx.Client:
    options = {"timeout": settings.HTTP_TIMEOUT_SECONDS, "follow_redirects": False}
    return httpx.Client(**(options | kwargs))
