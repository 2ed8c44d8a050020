"""The id of the request being served, for responses, error envelopes and every log line."""

import logging
import re
import secrets
from contextvars import ContextVar

from django.http import HttpRequest

HEADER = "X-Request-ID"
# An id from a client or proxy is echoed in logs and headers: only short, plain tokens are kept,
# so it cannot forge log lines or smuggle markup; anything else gets a fresh id.
_SANE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")

current_request_id: ContextVar[str | None] = ContextVar("current_request_id", default=None)


def new_request_id() -> str:
    return f"req_{secrets.token_hex(8)}"


def request_id_for(request: HttpRequest) -> str:
    """The incoming X-Request-ID when it is sane, else a new `req_<random>` id."""
    incoming = request.headers.get(HEADER, "").strip()
    return incoming if _SANE.fullmatch(incoming) else new_request_id()


def get_request_id(request: HttpRequest | None = None) -> str:
    """The id of `request` (or of the request being served), made up when there is none."""
    found = getattr(request, "request_id", None) or current_request_id.get()
    return found or new_request_id()


class RequestIdFilter(logging.Filter):
    """Puts `request_id` on every record: the served request's id, or "-" outside a request.
    Django logs a 4xx/5xx response after the middleware has returned, with the request on the
    record, so that request's id is used."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(record, "request_id", None):
            request = getattr(record, "request", None)
            record.request_id = (
                getattr(request, "request_id", None) or current_request_id.get() or "-"
            )
        return True
