"""Standard Webhooks signatures: secrets, the three webhook-* headers, and their check.

The scheme (https://www.standardwebhooks.com/): `webhook-signature` is
`v1,<base64 HMAC-SHA256 of "{webhook-id}.{webhook-timestamp}.{body}">`, keyed with the bytes
that the base64 after "whsec_" encodes. Any Standard Webhooks library verifies it.
"""

import base64
import binascii
import hashlib
import hmac
import time
from collections.abc import Mapping, Sequence
from secrets import token_bytes

SECRET_PREFIX = "whsec_"
# How far a timestamp may be from now when we verify (the standard's default).
TOLERANCE_SECONDS = 5 * 60


def new_webhook_secret() -> str:
    """A fresh signing secret, "whsec_" + base64 of 32 random bytes, to show a partner once."""
    return SECRET_PREFIX + base64.b64encode(token_bytes(32)).decode("ascii")


def secret_key(secret: str) -> bytes:
    """The HMAC key a "whsec_..." secret stands for; ValueError if it is not one."""
    encoded = secret.removeprefix(SECRET_PREFIX)
    try:
        # Tolerate missing padding, as the reference libraries do.
        key = base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True)
    except (binascii.Error, ValueError) as error:
        raise ValueError("a webhook secret is 'whsec_' followed by base64") from error
    if not key:
        raise ValueError("a webhook secret may not be empty")
    return key


def sign(secret: str, webhook_id: str, timestamp: int, body: bytes) -> str:
    """The `webhook-signature` value of one message: "v1,<base64 HMAC-SHA256>"."""
    message = f"{webhook_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret_key(secret), message, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")


def webhook_headers(
    *,
    webhook_id: str,
    body: bytes,
    secrets: Sequence[str] = (),
    secret: str = "",
    timestamp: int | None = None,
) -> dict[str, str]:
    """`webhook-id` and `webhook-timestamp` always; `webhook-signature` when there is a secret.

    With several secrets (a rotation's grace period: the new one, then the old one) the header
    holds one signature per secret, space-separated, as the standard allows: a receiver that
    knows either secret verifies the message. `secret=` is the one-secret form.
    """
    timestamp = int(time.time()) if timestamp is None else timestamp
    headers = {"webhook-id": webhook_id, "webhook-timestamp": str(timestamp)}
    keys = list(dict.fromkeys(s for s in (*secrets, secret) if s))
    if keys:
        headers["webhook-signature"] = " ".join(
            sign(key, webhook_id, timestamp, body) for key in keys
        )
    return headers


def verify(
    secret: str,
    headers: Mapping[str, str],
    body: bytes,
    *,
    tolerance: int = TOLERANCE_SECONDS,
    now: float | None = None,
) -> bool:
    """Whether a received message carries a valid, fresh signature (for our own receivers)."""
    lowered = {name.lower(): value for name, value in headers.items()}
    webhook_id = lowered.get("webhook-id", "")
    signatures = lowered.get("webhook-signature", "")
    try:
        timestamp = int(lowered.get("webhook-timestamp", ""))
    except ValueError:
        return False
    now = time.time() if now is None else now
    if not webhook_id or abs(now - timestamp) > tolerance:
        return False
    expected = sign(secret, webhook_id, timestamp, body)
    # The header may hold several space-separated signatures (e.g. during a secret rotation).
    return any(hmac.compare_digest(candidate, expected) for candidate in signatures.split())
