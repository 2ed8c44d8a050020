"""Answers the console's views share: a secret shown once after a redirect, a form pressed
twice, the htmx answer to an action (updated partials and the messages, out of band), and a
list's page or its results region."""

import secrets
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.core.cache import cache
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


# --- pressed once: a form whose action makes a secret (rotate, issue a token) carries a key of
# its own (the `once_field` tag), and only its first press acts. A double click sent two POSTs
# at once: each rotated, the session kept the secret of whichever saved last, and the page could
# show a secret the next rotation had already replaced.
ONCE_FIELD = "once"
ONCE_KEPT = timedelta(days=1)  # longer than a form stays open


def once_key() -> str:
    """A new key for one rendering of a one-shot form."""
    return secrets.token_urlsafe(16)


def first_press(request: HttpRequest) -> bool:
    """Whether this POST is the first with its form's key (a form without one acts, as forms
    rendered before the key existed did). The cache's `add` is atomic on both backends."""
    key = request.POST.get(ONCE_FIELD, "")
    if not key:
        return True
    return cache.add(f"staff-once:{key[:64]}", 1, timeout=int(ONCE_KEPT.total_seconds()))


def pressed_again(request: HtmxHttpRequest, back: Callable[[], HttpResponse]) -> HttpResponse:
    """The answer to a second press of a one-shot form, which does nothing: htmx keeps what the
    first press put on the page (204, no swap); a plain request goes back to the page, which
    shows the first press's secret."""
    return HttpResponse(status=204) if request.htmx else back()


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
