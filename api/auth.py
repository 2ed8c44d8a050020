"""Client-token authentication of the exam contract (seed 001)."""

from dataclasses import dataclass

from django.http import HttpRequest
from ninja.errors import AuthenticationError
from ninja.security import APIKeyHeader

from portal.customers.models import ClientToken, hash_token, parse_client_token


@dataclass(frozen=True)
class UncheckedToken:
    """A well-formed client token not looked up yet: its SHA-256, for a view that checks it in
    the same statement as its own work (the answer autosave), and `authenticate` otherwise."""

    token_hash: str


def _unchecked(raw: str | None) -> UncheckedToken | None:
    canonical = parse_client_token(raw)
    return UncheckedToken(hash_token(canonical)) if canonical else None


class ClientTokenHeader(APIKeyHeader):
    """`X-Client-Token: <uuid>` — the seed's recommended header."""

    param_name = "X-Client-Token"

    def __init__(self, *, unchecked: bool = False) -> None:
        # Unchecked: only parsed here (the OpenAPI document names the class, so it is the same).
        self.unchecked = unchecked
        super().__init__()

    def authenticate(
        self, request: HttpRequest, key: str | None
    ) -> ClientToken | UncheckedToken | None:
        if self.unchecked:
            return _unchecked(key)
        return ClientToken.authenticate(key)


class ClientTokenAuthorization(APIKeyHeader):
    """`Authorization: Token <uuid>` — the seed's alternative header."""

    param_name = "Authorization"

    def __init__(self, *, unchecked: bool = False) -> None:
        self.unchecked = unchecked
        super().__init__()

    def authenticate(
        self, request: HttpRequest, key: str | None
    ) -> ClientToken | UncheckedToken | None:
        scheme, _, value = (key or "").partition(" ")
        if scheme.lower() != "token":
            return None
        if self.unchecked:
            return _unchecked(value)
        return ClientToken.authenticate(value)


client_token_auth = [ClientTokenHeader(), ClientTokenAuthorization()]
# The same two headers, only parsed: the view looks the token up (or calls `authenticate`).
unchecked_client_token_auth = [
    ClientTokenHeader(unchecked=True),
    ClientTokenAuthorization(unchecked=True),
]


def authenticate(request: HttpRequest) -> ClientToken:
    """What `client_token_auth` does before a view, for a view behind the unchecked auth:
    the token (touched) as `request.auth`, or AuthenticationError, which the API answers as it
    answers a failed auth (401 INVALID_TOKEN in the exam contract)."""
    for check in client_token_auth:
        token = check(request)
        if token:
            request.auth = token
            return token
    raise AuthenticationError()
