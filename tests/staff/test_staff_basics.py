"""The console's front door: sign-in, roles, language, the audit log and its exports."""

import csv
import io

import pytest
from django.core.management import call_command
from django.db import connection
from openpyxl import load_workbook

from portal.audit import log
from portal.audit.models import AuditEntry
from tests.conftest import PASSWORD


def test_anonymous_is_sent_to_sign_in(client, db):
    response = client.get("/staff/audit/?q=x")
    assert response.status_code == 302
    assert response["Location"] == "/staff/login/?next=/staff/audit/%3Fq%3Dx"


def test_htmx_request_of_anonymous_is_told_to_go_to_sign_in(client, db):
    response = client.get("/staff/audit/", headers={"HX-Request": "true"})
    assert response.headers["HX-Redirect"].startswith("/staff/login/")


def test_sign_in_with_the_form_opens_the_console(client, viewer):
    response = client.post(
        "/staff/login/", {"username": viewer.username, "password": PASSWORD}, follow=True
    )
    assert response.redirect_chain[-1][0] == "/staff/"
    assert "Sign out" in response.content.decode()


def test_sign_in_takes_the_address_in_any_case_and_with_spaces(client, viewer):
    """Staff user names are e-mails stored lower-case (create_staff_user): the address as
    people type it signs in."""
    response = client.post(
        "/staff/login/", {"username": "  Viewer@Example.COM ", "password": PASSWORD}, follow=True
    )
    assert response.redirect_chain[-1][0] == "/staff/"
    assert int(client.session["_auth_user_id"]) == viewer.pk


def test_create_staff_user_and_sign_in_agree_on_the_address(client, db):
    call_command(
        "create_staff_user", " New.Operator@Example.com", role="operator", password=PASSWORD
    )
    response = client.post(
        "/staff/login/", {"username": "NEW.operator@example.COM", "password": PASSWORD}
    )
    assert response.status_code == 302


def test_wrong_password_says_so(client, viewer):
    response = client.post("/staff/login/", {"username": viewer.username, "password": "nope"})
    assert response.status_code == 200
    assert "do not match a staff account" in response.content.decode()


def test_signed_in_non_staff_user_gets_403(outsider_client):
    response = outsider_client.get("/staff/")
    assert response.status_code == 403
    assert "no staff role" in response.content.decode()


def test_staff_without_a_role_gets_403(client, django_user_model):
    user = django_user_model.objects.create_user("norole@example.com", is_staff=True)
    client.force_login(user)
    assert client.get("/staff/").status_code == 403


def test_persian_console_is_right_to_left_with_jalali_dates(viewer_client, viewer):
    log.record(actor=viewer, action="partner.update", target_label="Q3")
    viewer_client.post("/staff/language/", {"language": "fa", "next": "/staff/audit/"})
    html = viewer_client.get("/staff/audit/").content.decode()
    assert 'dir="rtl"' in html and 'lang="fa"' in html
    assert "۱۴۰" in html  # a Solar Hijri year in Persian digits (1400s)


def test_language_switch_refuses_foreign_redirects(viewer_client):
    response = viewer_client.post(
        "/staff/language/", {"language": "fa", "next": "https://evil.example/"}
    )
    assert response["Location"] == "/staff/"


def test_audit_log_masks_secrets(viewer):
    entry = log.record(
        actor=viewer,
        action="partner.rotate_webhook_secret",
        before={"webhook_secret": "whsec_old", "name": "Q3"},
        after={"webhook_secret": "whsec_new", "name": "Q3 HR"},
    )
    assert "whsec_old" not in str(entry.changes) and "whsec_new" not in str(entry.changes)
    assert entry.changes["name"] == ["Q3", "Q3 HR"]
    assert "webhook_secret" in entry.changes


@pytest.fixture
def entries(viewer, operator):
    log.record(actor=viewer, action="lead.resync", target_label="Lead A")
    log.record(actor=operator, action="delivery.replay", target_label="Delivery 7")
    log.record(actor=operator, action="delivery.send_now", target_label="=cmd|' /C calc'!A0")


def test_audit_log_filters_by_url_and_exports_as_filtered(viewer_client, entries):
    html = viewer_client.get("/staff/audit/?action=delivery").content.decode()
    assert "Delivery 7" in html and "Lead A" not in html
    response = viewer_client.get("/staff/audit/?action=delivery&export=csv")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert len(rows) == 3  # the header and the two delivery rows
    assert any(row[3].endswith("'=cmd|' /C calc'!A0") for row in rows)  # never a formula
    response = viewer_client.get("/staff/audit/?actor=viewer@example.com&export=xlsx")
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    values = list(sheet.values)
    assert len(values) == 2 and values[1][2] == "lead.resync"


def test_exports_show_a_stored_control_character_rather_than_fail(viewer_client, viewer):
    """Text stored before control characters were refused (a NUL in an imported title, kept by
    SQLite and by the audit entry of its import) must not break an export: XLSX cannot hold one."""
    # PostgreSQL refuses a NUL (it could only ever be stored on SQLite); a BEL it keeps.
    stored = "\x00" if connection.vendor == "sqlite" else "\x07"
    log.record(actor=viewer, action="exam.import", target_label=f"Alge{stored}bra\x1b\uffff")
    response = viewer_client.get("/staff/audit/?export=xlsx")
    assert response.status_code == 200
    values = list(load_workbook(io.BytesIO(b"".join(response.streaming_content))).active.values)
    assert values[1][3] == "Alge\ufffdbra\ufffd\ufffd"  # U+FFFF, a noncharacter, too
    response = viewer_client.get("/staff/audit/?export=csv")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert rows[1][3] == "Alge\ufffdbra\ufffd\ufffd"


def test_the_audit_log_shows_zero_and_false_as_values_and_only_none_as_none(viewer_client, viewer):
    log.record(
        actor=viewer,
        action="exam.update",
        target_label="Algebra",
        before={"attempt_count": 1, "can_back": True, "note": None},
        after={"attempt_count": 0, "can_back": False, "note": ""},
    )
    html = viewer_client.get("/staff/audit/").content.decode()
    assert "<del>1</del> → <ins>0</ins>" in html
    assert "<del>True</del> → <ins>False</ins>" in html
    assert "<del>∅</del> → <ins>∅</ins>" in html


def test_audit_list_queries_do_not_grow_with_rows(
    viewer_client, viewer, django_assert_max_num_queries
):
    def count_for(rows: int) -> int:
        AuditEntry.objects.all().delete()
        for n in range(rows):
            log.record(actor=viewer, action="x.y", target_label=f"t{n}")
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as queries:
            assert viewer_client.get("/staff/audit/").status_code == 200
        return len(queries)

    assert count_for(10) == count_for(200)


def test_create_staff_user_prints_a_one_time_link(client, db, capsys):
    call_command("create_staff_user", "New.Person@Example.com", "--role", "operator")
    out = capsys.readouterr().out
    link = next(line for line in out.splitlines() if "set-password" in line).split()[-1]
    path = link.split("testserver", 1)[1]
    form = client.get(path, follow=True)
    target = form.redirect_chain[-1][0] if form.redirect_chain else path
    password = "a-long-fresh-password-42"
    done = client.post(target, {"new_password1": password, "new_password2": password})
    assert done.status_code == 302 and done["Location"] == "/staff/"
    assert client.get("/staff/").status_code == 200
    # The link works once.
    assert "has been used or has expired" in client.get(path, follow=True).content.decode()
    assert AuditEntry.objects.filter(action="staff_user.create").exists()


def test_seed_demo_creates_one_staff_user_per_role(client, db, monkeypatch, capsys):
    monkeypatch.setenv("DEMO_STAFF_PASSWORD", "demo-staff-password-1")
    call_command("seed_demo")
    out = capsys.readouterr().out
    assert "operator@demo.example.com" in out
    for role in ("viewer", "operator", "author"):
        client.logout()
        signed_in = client.login(
            username=f"{role}@demo.example.com", password="demo-staff-password-1"
        )
        assert signed_in
        assert client.get("/staff/").status_code == 200
    call_command("seed_demo")  # again: nothing breaks, nobody duplicated
    from django.contrib.auth import get_user_model

    assert get_user_model().objects.filter(username__endswith="@demo.example.com").count() == 3
