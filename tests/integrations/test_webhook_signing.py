"""Standard Webhooks signatures, checked independently and with the reference library.

The reference is the `standardwebhooks` package, which is what a partner would use.
"""

import base64
import hashlib
import hmac
import time
from datetime import UTC, datetime

import pytest
from standardwebhooks import Webhook, WebhookVerificationError

from integrations import signing

# The test vector of the Standard Webhooks specification's reference libraries.
VECTOR_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
VECTOR_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
VECTOR_TIMESTAMP = 1614265330
VECTOR_BODY = b'{"test": 2432232314}'
VECTOR_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def independent_signature(secret: str, webhook_id: str, timestamp: int, body: bytes) -> str:
    key = base64.b64decode(secret.split("_", 1)[1])
    digest = hmac.new(key, f"{webhook_id}.{timestamp}.".encode() + body, hashlib.sha256)
    return "v1," + base64.b64encode(digest.digest()).decode()


def test_the_specification_vector():
    signature = signing.sign(VECTOR_SECRET, VECTOR_ID, VECTOR_TIMESTAMP, VECTOR_BODY)
    assert signature == VECTOR_SIGNATURE
    reference = Webhook(VECTOR_SECRET).sign(
        VECTOR_ID, datetime.fromtimestamp(VECTOR_TIMESTAMP, UTC), VECTOR_BODY.decode()
    )
    assert signature == reference


def test_a_new_secret_is_whsec_and_32_random_bytes():
    first, second = signing.new_webhook_secret(), signing.new_webhook_secret()
    assert first.startswith("whsec_") and first != second
    assert len(signing.secret_key(first)) == 32
    Webhook(first)  # the reference library takes it as it is


def test_headers_sign_id_timestamp_and_the_exact_body():
    secret = signing.new_webhook_secret()
    body = '{"user_name":"Jóhn"}'.encode()
    headers = signing.webhook_headers(webhook_id="abc-123", body=body, secret=secret)

    assert headers["webhook-id"] == "abc-123"
    assert abs(int(headers["webhook-timestamp"]) - time.time()) < 5
    timestamp = int(headers["webhook-timestamp"])
    assert headers["webhook-signature"] == independent_signature(secret, "abc-123", timestamp, body)
    assert Webhook(secret).verify(body, headers) == {"user_name": "Jóhn"}
    assert signing.verify(secret, headers, body)


def test_an_unsigned_kind_still_carries_id_and_timestamp():
    headers = signing.webhook_headers(webhook_id="abc", body=b"{}", secret="")
    assert set(headers) == {"webhook-id", "webhook-timestamp"}


def test_tampering_the_body_the_id_or_the_secret_fails_verification():
    secret = signing.new_webhook_secret()
    headers = signing.webhook_headers(webhook_id="abc", body=b'{"a":1}', secret=secret)

    assert not signing.verify(secret, headers, b'{"a":2}')
    assert not signing.verify(secret, headers | {"webhook-id": "abd"}, b'{"a":1}')
    assert not signing.verify(signing.new_webhook_secret(), headers, b'{"a":1}')
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(b'{"a":2}', headers)


def test_a_stale_timestamp_fails_and_any_of_several_signatures_passes():
    secret, old_secret = signing.new_webhook_secret(), signing.new_webhook_secret()
    stale = signing.webhook_headers(
        webhook_id="abc", body=b"{}", secret=secret, timestamp=int(time.time()) - 600
    )
    assert not signing.verify(secret, stale, b"{}")

    fresh = signing.webhook_headers(webhook_id="abc", body=b"{}", secret=secret)
    rotated = signing.sign(old_secret, "abc", int(fresh["webhook-timestamp"]), b"{}")
    both = fresh | {"webhook-signature": f"{rotated} {fresh['webhook-signature']}"}
    assert signing.verify(secret, both, b"{}")
    assert signing.verify(old_secret, both, b"{}")


@pytest.mark.parametrize("bad", ["whsec_", "whsec_not base64!", "whsec_@@@@"])
def test_a_malformed_secret_is_refused(bad):
    with pytest.raises(ValueError):
        signing.secret_key(bad)
