"""Answers the console's views share: a secret shown once after a redirect, and the htmx
answer to an action (updated partials and the messages, out of band)."""

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string

# --- shown once: a new secret or token travels from the POST to the page after the redirect in
# the session, and is taken out as it is shown, so a reload no longer has it.
ONCE_KEY = "staff_shown_once"


def show_once(request: HttpRequest, key: str, value: Any) -> None:
    """Keep `value` for the next page that asks for `key`, once."""
    pending = dict(request.session.get(ONCE_KEY, {}))
    pending[key] = value
    request.session[ONCE_KEY] = pending


def take_once(request: HttpRequest, key: str) -> Any:
    """The value kept under `key`, removed from the session (None when there is none)."""
    pending = dict(request.session.get(ONCE_KEY, {}))
    if key not in pending:
        return None
    value = pending.pop(key)
    request.session[ONCE_KEY] = pending
    return value


def partial_response(request: HttpRequest, *parts: tuple[str, dict]) -> HttpResponse:
    """An htmx answer to an action: the updated partials (the second and later ones swapped out
    of band, so they carry hx-swap-oob), and the messages, also out of band."""
    html = "".join(render_to_string(template, context, request) for template, context in parts)
    html += render_to_string("staff/includes/messages.html", {"oob": True}, request)
    return HttpResponse(html)
