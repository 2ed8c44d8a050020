"""E-mail through the outbox: a rendered message (text and HTML) recorded as one delivery.

One delivery (transport "email") per message, rendered by the caller and stored whole, so
every attempt sends the same bytes. The sending (Django's default mailer, which SMTP replies
are permanent, the guard against sending twice) is the e-mail transport's:
integrations.transports.email.
"""

from collections.abc import Iterable

from django.conf import settings

from integrations.deliveries import enqueue_delivery
from integrations.models import Delivery


def enqueue_email(
    *,
    to: str | Iterable[str],
    subject: str,
    text: str,
    html: str = "",
    dedupe_key: str | None,
    from_email: str | None = None,
) -> Delivery:
    """Record an e-mail in the caller's transaction; it is sent once that transaction commits.

    `text` is the plain-text body, `html` the HTML alternative (optional). With a
    `dedupe_key` already used, returns the existing delivery and records nothing.
    """
    recipients = [to] if isinstance(to, str) else list(to)
    recipients = [address.strip() for address in recipients if address and address.strip()]
    if not recipients or any("@" not in address for address in recipients):
        raise ValueError("an e-mail needs at least one recipient address")
    if not subject.strip() or "\n" in subject or "\r" in subject:
        raise ValueError("an e-mail needs a subject on one line")
    return enqueue_delivery(
        kind="email",
        transport=Delivery.Transport.EMAIL,
        target_url="mailto:" + ",".join(recipients),
        payload={
            "from": from_email or settings.DEFAULT_FROM_EMAIL,
            "to": recipients,
            "subject": subject,
            "text": text,
            "html": html,
        },
        require_success_flag=False,
        dedupe_key=dedupe_key,
    )
