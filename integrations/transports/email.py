"""The e-mail transport: one stored message sent through Django's default mailer.

The message was rendered by the caller and stored whole (integrations.email), so every attempt
sends the same subject, text and HTML, with one Message-ID (`<webhook-id@sender's domain>`)
that mail clients can use to drop a duplicate. It goes out through settings.MAILERS["default"]
(built from the environment's EMAIL_HOST, EMAIL_PORT, EMAIL_HOST_USER, EMAIL_HOST_PASSWORD,
EMAIL_USE_TLS, EMAIL_TIMEOUT): SMTP, or the console in development.

An SMTP refusal with a 5xx code (a refused recipient or sender, 554 on the data, a failed
login) is permanent: the delivery is dead at once. A 4xx ("try later"), a refused or dropped
connection and a timeout are retried on the outbox's schedule.

At-least-once, with one guard: once the server has taken the message, `sent_at` is written to
`Delivery.state` at once, and an attempt that finds it there sends nothing. A message is sent
twice only if the worker dies between the server's "250 OK" and that write (or the server
takes the message but the reply is lost). A replay is an explicit "send it again": it clears
`sent_at`.
"""

import json
import smtplib
from email.utils import parseaddr

from django.core.mail import EmailMultiAlternatives, mailers
from django.utils import timezone

from integrations.models import Delivery, JSONObject
from integrations.transports.base import (
    AttemptResult,
    Outcome,
    Transport,
    TransportError,
    save_state,
)


class EmailTransport(Transport):
    """One message through Django's configured e-mail backend."""

    done_status = "sent"

    def send(self, delivery: Delivery) -> AttemptResult:
        if delivery.state.get("sent_at"):
            # Taken by the server before, but that attempt's end was never recorded.
            return AttemptResult(
                Outcome.DELIVERED,
                excerpt=f"Already sent at {delivery.state['sent_at']}; not sent again.",
            )
        message = _message(delivery)
        try:
            sent = mailers.default.send_messages([message])
        except smtplib.SMTPRecipientsRefused as error:
            codes = {code for code, _ in error.recipients.values()}
            detail = "; ".join(
                f"{address}: {code} {_text(reply)}"
                for address, (code, reply) in error.recipients.items()
            )
            raise TransportError(
                f"SMTP refused the recipients ({detail})",
                permanent=all(500 <= code < 600 for code in codes),
                status_code=min(codes) if codes else None,
            ) from error
        except smtplib.SMTPResponseException as error:
            # Sender refused, data refused, login failed, a 4xx/5xx greeting.
            raise TransportError(
                f"SMTP {type(error).__name__}: {error.smtp_code} {_text(error.smtp_error)}",
                permanent=500 <= error.smtp_code < 600,
                status_code=error.smtp_code,
            ) from error
        except (smtplib.SMTPException, OSError) as error:
            # Refused or dropped connection, timeout, TLS trouble: the server may be back later.
            raise TransportError(f"SMTP {type(error).__name__}: {error}") from error
        if not sent:
            raise TransportError("The e-mail backend sent nothing")
        delivery.state["sent_at"] = timezone.now().isoformat()
        save_state(delivery)
        return AttemptResult(
            Outcome.DELIVERED,
            excerpt=json.dumps({"message_id": message.extra_headers["Message-ID"]}),
        )

    def replay_state(self, state: JSONObject) -> JSONObject:
        # A replay means "send it again".
        return {key: value for key, value in state.items() if key != "sent_at"}


def _message(delivery: Delivery) -> EmailMultiAlternatives:
    payload = json.loads(delivery.payload)
    sender = payload["from"]
    domain = parseaddr(sender)[1].rpartition("@")[2] or "localhost"
    message = EmailMultiAlternatives(
        subject=payload["subject"],
        body=payload["text"],
        from_email=sender,
        to=payload["to"],
        headers={"Message-ID": f"<{delivery.webhook_id}@{domain}>"},
    )
    if payload.get("html"):
        message.attach_alternative(payload["html"], "text/html")
    return message


def _text(reply: bytes | str) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
