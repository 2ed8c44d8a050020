"""The results e-mail through the outbox, to a real SMTP server (aiosmtpd) on 127.0.0.1.

Text and HTML parts arrive; a 5xx refusal is dead at once, a 4xx or a server that is down is
retried and then delivered; a message the server took is not sent again; a replay sends again.
"""

import os
import subprocess
import sys
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from django.db import transaction
from django.utils import timezone

from integrations.deliveries import attempt_delivery, delivery_status, replay_delivery
from integrations.email import enqueue_email
from integrations.models import Delivery, DeliveryAttempt

pytestmark = pytest.mark.django_db

Outcome = DeliveryAttempt.Outcome
Status = Delivery.Status
ROOT = Path(__file__).resolve().parent.parent.parent

TEXT = "Hi John,\n\nYour AI Reality Check score is 78/100 (AI Ready).\n"
HTML = "<p>Hi John,</p><p>Your AI Reality Check score is <strong>78/100</strong>.</p>"


def results_email(dedupe_key: str = "results-email:assess_789xyz012") -> Delivery:
    with transaction.atomic():
        return enqueue_email(
            to="john.doe@acme.example",
            subject="Your AI Reality Check results",
            text=TEXT,
            html=HTML,
            dedupe_key=dedupe_key,
        )


def make_due(delivery: Delivery) -> None:
    Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())


def test_the_email_arrives_with_text_and_html_parts(mail_server, queue):
    delivery = results_email()
    assert delivery.transport == "email" and delivery_status(delivery) == "pending"

    assert attempt_delivery(delivery.pk) == Outcome.DELIVERED

    [mail] = mail_server.received
    assert mail.mail_from == "results@scorecard.example"
    assert mail.rcpt_tos == ["john.doe@acme.example"]
    message = message_from_bytes(mail.content, policy=policy.default)
    assert message["Subject"] == "Your AI Reality Check results"
    assert message["From"] == "AI Reality Check <results@scorecard.example>"
    assert message["To"] == "john.doe@acme.example"
    assert message["Message-ID"] == f"<{delivery.webhook_id}@scorecard.example>"
    assert message.get_content_type() == "multipart/alternative"
    # On the wire every line ends in CRLF.
    assert message.get_body(("plain",)).get_content().replace("\r\n", "\n") == TEXT
    assert message.get_body(("html",)).get_content().strip() == HTML
    delivery.refresh_from_db()
    assert delivery.status == Status.DELIVERED and delivery_status(delivery) == "sent"
    assert "sent_at" in delivery.state


def test_a_refused_recipient_is_dead_at_once(mail_server):
    mail_server.refuse_with = "550 5.1.1 No such user here"
    delivery = results_email()

    assert attempt_delivery(delivery.pk) == Outcome.REFUSED

    delivery.refresh_from_db()
    assert delivery.status == Status.DEAD and delivery_status(delivery) == "failed"
    assert "550" in delivery.last_error and "No such user" in delivery.last_error
    assert delivery.attempts.get().status_code == 550
    assert mail_server.received == []


def test_a_temporary_refusal_is_retried(mail_server):
    mail_server.refuse_with = "451 4.3.0 Try again later"
    delivery = results_email()

    assert attempt_delivery(delivery.pk) == Outcome.FAILED

    delivery.refresh_from_db()
    assert delivery.status == Status.PENDING and "451" in delivery.last_error

    mail_server.refuse_with = None
    make_due(delivery)
    assert attempt_delivery(delivery.pk) == Outcome.DELIVERED
    assert len(mail_server.received) == 1


def test_a_server_that_is_down_is_retried_then_the_email_is_delivered(mail_server):
    mail_server.stop()
    delivery = results_email()

    assert attempt_delivery(delivery.pk) == Outcome.FAILED

    delivery.refresh_from_db()
    assert delivery.status == Status.PENDING and delivery_status(delivery) == "pending"
    assert "ConnectionRefusedError" in delivery.last_error
    assert delivery.next_attempt_at > timezone.now()

    mail_server.start()
    make_due(delivery)
    assert attempt_delivery(delivery.pk) == Outcome.DELIVERED

    delivery.refresh_from_db()
    assert delivery_status(delivery) == "sent" and delivery.attempt_count == 2
    assert len(mail_server.received) == 1


def test_a_message_the_server_took_is_not_sent_again_by_a_retry(mail_server):
    delivery = results_email()
    # The server took it, then the worker died before recording the attempt's end: the
    # delivery is still pending, but its progress says it was sent.
    Delivery.objects.filter(pk=delivery.pk).update(state={"sent_at": "2025-08-12T10:30:00Z"})

    assert attempt_delivery(delivery.pk) == Outcome.DELIVERED

    assert mail_server.received == []
    assert "not sent again" in delivery.attempts.get().response_excerpt


def test_a_replay_sends_it_again(mail_server, queue):
    delivery = results_email()
    attempt_delivery(delivery.pk)

    assert replay_delivery(delivery)
    assert attempt_delivery(delivery.pk) == Outcome.DELIVERED

    assert len(mail_server.received) == 2
    ids = {message_from_bytes(m.content)["Message-ID"] for m in mail_server.received}
    assert ids == {f"<{delivery.webhook_id}@scorecard.example>"}  # one message, twice


def test_the_same_dedupe_key_records_one_email(mail_server):
    assert results_email().pk == results_email().pk
    assert Delivery.objects.count() == 1


def test_an_email_needs_a_recipient_and_a_one_line_subject(mail_server):
    with pytest.raises(ValueError), transaction.atomic():
        enqueue_email(to=[], subject="Results", text=TEXT, html=HTML, dedupe_key=None)
    with pytest.raises(ValueError), transaction.atomic():
        enqueue_email(to="a@b.example", subject="A\nBcc: x@y", text=TEXT, html="", dedupe_key=None)


@pytest.mark.parametrize(
    ("environment", "backend"),
    [
        ({"DEBUG": "true"}, "django.core.mail.backends.console.EmailBackend"),
        ({"DEBUG": "false"}, "django.core.mail.backends.smtp.EmailBackend"),
        ({"DEBUG": "true", "EMAIL_HOST": "smtp.example"}, "django.core.mail.backends.smtp"),
    ],
)
def test_development_without_an_smtp_host_prints_emails_on_the_console(environment, backend):
    env = {k: v for k, v in os.environ.items() if not k.startswith("EMAIL_")}
    env |= environment | {"DJANGO_SETTINGS_MODULE": "portal.settings"}
    code = (
        "import django; django.setup(); from django.conf import settings;"
        "print(settings.MAILERS['default']['BACKEND'])"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().startswith(backend)
