"""Scorecard fixtures: the bundled content as a document, loaded, a visitor and a staff
member."""

import json
from pathlib import Path

import pytest
from django.test import Client

from portal.scorecards.content import load_scorecard
from portal.scorecards.models import Scorecard

FIXTURE = Path(__file__).resolve().parents[2] / "portal/scorecards/fixtures/scorecard_v1.json"


@pytest.fixture
def document() -> dict:
    """The bundled scorecard file, as a fresh dict each time."""
    return json.loads(FIXTURE.read_text(encoding="utf-8"))


@pytest.fixture
def scorecard(db, document) -> Scorecard:
    return load_scorecard(document)


@pytest.fixture
def visitor(scorecard) -> Client:
    """A visitor's browser, before the assessment starts (a module may start it in its own)."""
    return Client(REMOTE_ADDR="203.0.113.7")


@pytest.fixture
def staff_client(client, django_user_model):
    """A staff member's browser (no password: hashing one is slow)."""
    staff = django_user_model.objects.create(username="staff", is_staff=True, is_superuser=True)
    client.force_login(staff)
    return client
