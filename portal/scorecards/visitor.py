"""The scorecard visitor of a request: the session its `assessment-session` cookie names, read
once per request (the rate limit's scope and the view both need it).

The API (api/scorecards.py), the pages (views.py) and the rate limit's scope (limits.py) ask
here; portal.scorecards.services, which these call, takes plain values (a session id, an
address, a user agent). A session read here is marked on the request, so that
portal.middleware.ScorecardCookieMiddleware sends the browser its cookie again.
"""

from django.http import HttpRequest

from portal.http import PortalRequest
from portal.ratelimit import client_ip
from portal.scorecards import services
from portal.scorecards.models import VisitorSession
from portal.scorecards.services import COOKIE

_READ = "_scorecard_live_session"


def _cookie(request: HttpRequest) -> str:
    return request.COOKIES.get(COOKIE, "")


def live_session_id(request: HttpRequest) -> str | None:
    """The cookie's session id when it names a live session (no side effects). Read with its
    open visit: this is the rate limit's scope of save-progress, which needs that next."""
    if _READ in request.__dict__:
        session = request.__dict__[_READ]
    else:
        session = services.live_session(_cookie(request), with_visit=True)
        request.__dict__[_READ] = session
    return session.session_id if session is not None else None


def current_session(request: PortalRequest) -> VisitorSession | None:
    """The visitor's live session from the cookie, its expiry extended by this activity (at
    most once a minute: services.keep_alive)."""
    if _READ not in request.__dict__:
        request.__dict__[_READ] = services.live_session(_cookie(request))
    session = request.__dict__[_READ]
    if session is not None:
        services.keep_alive(session)
        request.scorecard_session_id = session.session_id
    return session


def session_lost(request: PortalRequest) -> bool:
    """Whether the browser holds a session cookie naming no live session: it had one, and it
    expired (or was ended) — what it sends now cannot be kept."""
    return bool(_cookie(request)) and current_session(request) is None


def require_session(request: PortalRequest) -> VisitorSession:
    """The live session, or the seed's 401 SESSION_EXPIRED."""
    session = current_session(request)
    if session is None:
        raise services.session_expired()
    return session


def open_session(request: PortalRequest) -> VisitorSession:
    """The live session, or a new one (marked, as a live one is, for the cookie middleware)."""
    session = current_session(request)
    if session is not None:
        return session
    session = services.create_session(
        ip_address=client_ip(request), user_agent=request.headers.get("User-Agent", "")
    )
    request.__dict__[_READ] = session
    return session


def end_session(request: HttpRequest) -> bool:
    """End the cookie's session on the server (services.end_session); True if one ended."""
    ended = services.end_session(_cookie(request))
    request.__dict__.pop(_READ, None)
    return ended
