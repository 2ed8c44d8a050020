"""The request as the portal's middleware and decorators leave it, for view annotations.

Django's `HttpRequest` does not know the attributes that middleware adds. These classes only
declare them for the type checker: a view still receives Django's own request object. Annotate
a view with the narrowest one that holds what it reads (`request.htmx`, `request.rights`, ...).
"""

from typing import TYPE_CHECKING

from django.http import HttpRequest
from django_htmx.middleware import HtmxDetails

if TYPE_CHECKING:
    from portal.customers.models import ClientToken
    from portal.ratelimit import RateLimitState
    from portal.staff.access import Rights


class HtmxHttpRequest(HttpRequest):
    """django-htmx's documented annotation: HtmxMiddleware sets `htmx` on every request."""

    htmx: HtmxDetails


class PortalRequest(HtmxHttpRequest):
    """A request that went through portal.settings.MIDDLEWARE."""

    request_id: str  # RequestIdMiddleware, on every request
    # Set on some requests only; readers that may see others use getattr():
    rate_limit: "RateLimitState"  # portal.ratelimit.check, on a counted request
    scorecard_session_id: str  # portal.scorecards.visitor, once a live session was read


class StaffRequest(PortalRequest):
    """A request inside a console view: portal.staff.access.staff_view set its `rights`."""

    rights: "Rights"


class ClientTokenRequest(PortalRequest):
    """An exam-contract endpoint's request: Ninja puts what api.auth authenticated on `auth`."""

    auth: "ClientToken"
