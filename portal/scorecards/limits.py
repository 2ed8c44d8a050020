"""The scorecard's rate limits, declared once: the API (api/scorecards.py, seed 002's table)
and the visitor's pages (portal/scorecards/views.py) count on the same names, so a page and
the API share one allowance where they do the same thing."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest

from portal import ratelimit
from portal.http import PortalRequest
from portal.scorecards import visitor


def visitor_scope(request: HttpRequest) -> str:
    """Per session, for a cookie naming a live one; otherwise per IP (so made-up cookies can't
    buy fresh allowances or flood the counters)."""
    session_id = visitor.live_session_id(request)
    return f"visitor:{session_id}" if session_id else ratelimit.ip_scope(request)


@dataclass(frozen=True)
class Limit:
    """At most `limit` requests per `window` seconds for each `scope`, counted under `name`."""

    scope: ratelimit.Scope
    limit: int
    window: int
    name: str

    def rate_limit(self) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """The decorator of an API operation (the seed's 429 envelope when over)."""
        return ratelimit.rate_limit(self.scope, self.limit, self.window, name=self.name)

    def check(self, request: PortalRequest) -> ratelimit.RateLimitState:
        """Count this request (a page decides itself what to answer when over)."""
        return ratelimit.check(request, self.scope, self.limit, self.window, name=self.name)


# Seed 002's table: the API's endpoints, and the pages that do the same thing.
START = Limit("ip", 10, 3600, "scorecard-start")
SAVE = Limit(visitor_scope, 100, 3600, "scorecard-save")
SUBMIT = Limit("ip", 5, 3600, "scorecard-submit")
RESULTS = Limit("ip", 50, 3600, "scorecard-results")
RESUME = Limit("ip", 20, 3600, "scorecard-resume")
HEALTH = Limit("ip", 100, 60, "health")
# The step page saves each choice as it is made (htmx): a visitor who changes their mind a few
# times per question would exhaust SAVE's 100, so the per-choice saves have their own, generous
# allowance. A step's Next or Back still counts on SAVE, as the API's save-progress does.
CHOICE = Limit(visitor_scope, 600, 3600, "scorecard-choice")
