"""Client-token authentication of the exam contract (seed 001)."""

from django.http import HttpRequest
from ninja.security import APIKeyHeader

from portal.customers.models import ClientToken


class ClientTokenHeader(APIKeyHeader):
    """`X-Client-Token: <uuid>` — the seed's recommended header."""

    param_name = "X-Client-Token"

    def authenticate(self, request: HttpRequest, key: str | None) -> ClientToken | None:
        return ClientToken.authenticate(key)


class ClientTokenAuthorization(APIKeyHeader):
    """`Authorization: Token <uuid>` — the seed's alternative header."""

    param_name = "Authorization"

    def authenticate(self, request: HttpRequest, key: str | None) -> ClientToken | None:
        scheme, _, value = (key or "").partition(" ")
        if scheme.lower() != "token":
            return None
        return ClientToken.authenticate(value)


client_token_auth = [ClientTokenHeader(), ClientTokenAuthorization()]
