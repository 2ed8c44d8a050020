"""Answers the console's views share: a secret shown once after a redirect, the htmx answer
to an action (updated partials and the messages, out of band), and a list's page or its
results region."""

from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string

from portal.http import HtmxHttpRequest

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


def answer_shown_once(
    request: HtmxHttpRequest, back: Callable[..., HttpResponse], key: str, **shown: Any
) -> HttpResponse:
    """The answer to an action that made a secret to show once (`shown`, one context name and
    its value): htmx gets it in the updated partial, `back(**shown)`; a plain request gets
    `back()`, a redirect, and the secret kept under `key` for the page it leads to. A falsy
    value (nothing new to show) is not kept."""
    if request.htmx:
        return back(**shown)
    ((_name, value),) = shown.items()
    if value:
        show_once(request, key, value)
    return back()


def partial_response(request: HttpRequest, *parts: tuple[str, dict]) -> HttpResponse:
    """An htmx answer to an action: the updated partials (the second and later ones swapped out
    of band, so they carry hx-swap-oob), and the messages, also out of band."""
    html = "".join(render_to_string(template, context, request) for template, context in parts)
    html += render_to_string("staff/includes/messages.html", {"oob": True}, request)
    return HttpResponse(html)


def render_results(request: HtmxHttpRequest, template: str, context: dict) -> HttpResponse:
    """A list's page, or only its `#results` region for an htmx request (a filter, a sort or
    another page asked for in place)."""
    return render(request, f"{template}#results" if request.htmx else template, context)
