"""Standard Webhooks signing of outbound requests (webhook-id, -timestamp, -signature)."""

import base64
import secrets


def new_webhook_secret() -> str:
    """A fresh "whsec_<base64>" secret, as the Standard Webhooks libraries expect."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()
