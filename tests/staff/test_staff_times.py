"""The console's times are in the zone its pages say: UTC in English, Tehran time in Persian
(as a candidate's Persian pages, portal.localize), the zone named in the header."""

from datetime import UTC, datetime

import pytest

from portal.audit import log
from portal.audit.models import AuditEntry

pytestmark = pytest.mark.django_db


@pytest.fixture
def entry(viewer) -> AuditEntry:
    log.record(actor=viewer, action="lead.resync", target_label="Lead A")
    at = datetime(2026, 3, 20, 22, 45, tzinfo=UTC)  # 21 March, 02:15 in Tehran: a new year
    AuditEntry.objects.update(at=at)
    return AuditEntry.objects.get()


def test_english_pages_show_utc_and_say_so(viewer_client, entry):
    html = viewer_client.get("/staff/audit/").content.decode()
    assert "Times in UTC" in html
    assert "2026-03-20 22:45" in html


def test_persian_pages_show_tehran_time_and_say_so(viewer_client, entry):
    viewer_client.post("/staff/language/", {"language": "fa", "next": "/staff/audit/"})
    html = viewer_client.get("/staff/audit/").content.decode()
    assert "زمان‌ها به وقت تهران" in html
    assert "۱۴۰۵/۰۱/۰۱ ۰۲:۱۵" in html  # Farvardin 1, 1405, 02:15 Tehran time
