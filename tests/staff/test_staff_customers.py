"""Customers and client tokens in the console: who may do what, secrets shown once, audit rows,
and tokens issued here working (and stopping) against the exam API."""

import csv
import io
import re

import pytest
from django.utils import timezone
from openpyxl import load_workbook

from portal.audit.models import AuditEntry
from portal.customers.models import ClientToken, Customer
from tests.factories import make_exam, queries_of

HTMX = {"HX-Request": "true"}
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def html_of(response) -> str:
    return response.content.decode()


def once_blocks(html: str) -> list[str]:
    return re.findall(r'<div class="secret-once".*?</div>', html, re.S)


def exam_info(client, exam, raw: str):
    return client.get(f"/api/integration/exams/{exam.pk}/", headers={"X-Client-Token": raw})


def csv_rows(response) -> list[list[str]]:
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text)))


# --- who may do what


def action_requests(customer, token) -> list[tuple[str, str]]:
    base = f"/staff/customers/{customer.pk}"
    return [
        ("get", "/staff/customers/new/"),
        ("post", "/staff/customers/new/"),
        ("post", f"{base}/active/"),
        ("get", f"{base}/signing-secret/"),
        ("post", f"{base}/signing-secret/"),
        ("post", f"{base}/tokens/"),
        ("get", f"{base}/tokens/{token.pk}/"),
        ("post", f"{base}/tokens/{token.pk}/"),
        ("get", f"{base}/tokens/{token.pk}/revoke/"),
        ("post", f"{base}/tokens/{token.pk}/revoke/"),
    ]


@pytest.mark.parametrize("who", ["viewer_client", "author_client", "outsider_client"])
def test_actions_are_refused_to_everyone_but_operators(request, who, customer, token_pair):
    client = request.getfixturevalue(who)
    token, raw = token_pair
    secret = customer.signing_secret
    for method, url in action_requests(customer, token):
        data = {"name": "Sneaky", "label": "x", "is_active": "false"} if method == "post" else {}
        response = getattr(client, method)(url, data)
        assert response.status_code == 403, (method, url)
    customer.refresh_from_db()
    assert customer.is_active and customer.signing_secret == secret
    assert not Customer.objects.filter(name="Sneaky").exists()
    assert ClientToken.objects.count() == 1 and ClientToken.authenticate(raw) is not None
    assert not AuditEntry.objects.exists()


def test_anonymous_is_sent_to_sign_in(client, customer, token_pair):
    for method, url in [("get", "/staff/customers/"), ("get", f"/staff/customers/{customer.pk}/")]:
        assert getattr(client, method)(url).status_code == 302
    for method, url in action_requests(customer, token_pair[0]):
        response = getattr(client, method)(url)
        assert response.status_code == 302 and "/staff/login/" in response["Location"]


def test_viewer_reads_without_action_buttons(viewer_client, customer, token_pair):
    html = html_of(viewer_client.get("/staff/customers/"))
    assert "Acme Academy" in html and "New customer" not in html
    html = html_of(viewer_client.get(f"/staff/customers/{customer.pk}/"))
    assert token_pair[0].prefix in html
    assert "Issue token" not in html and "/revoke/" not in html and "signing-secret/" not in html
    assert customer.signing_secret not in html


def test_operator_sees_the_actions(operator_client, customer, token_pair):
    html = html_of(operator_client.get(f"/staff/customers/{customer.pk}/"))
    assert "Issue token" in html and "Revoke" in html and "Rotate signing secret" in html


# --- the list


@pytest.fixture
def customers_with_tokens(customer, other_customer):
    make_exam(customer)
    make_exam(customer)
    used, _ = ClientToken.issue(customer=customer, label="prod")
    ClientToken.objects.filter(pk=used.pk).update(last_used_at=timezone.now())
    ClientToken.issue(customer=customer, label="staging")
    revoked, _ = ClientToken.issue(customer=customer)
    revoked.revoke()
    ClientToken.issue(customer=other_customer)
    other_customer.is_active = False
    other_customer.save()
    return customer, other_customer


def test_list_shows_usable_tokens_last_use_and_exams(viewer_client, customers_with_tokens):
    html = html_of(viewer_client.get("/staff/customers/"))
    acme = re.search(r"<tr>\s*<td><a[^>]*>Acme Academy</a>.*?</tr>", html, re.S).group(0)
    cells = re.findall(r'<td class="num">(\d+)</td>', acme)
    assert cells == ["2", "2"]  # two usable tokens (one revoked), two exams
    assert "<time" in acme  # last use
    other = re.search(r"<tr>\s*<td><a[^>]*>Other Institute</a>.*?</tr>", html, re.S).group(0)
    assert "inactive" in other and re.findall(r'<td class="num">(\d+)</td>', other)[0] == "0"


def test_list_filters_searches_and_sorts_by_url(viewer_client, customers_with_tokens):
    html = html_of(viewer_client.get("/staff/customers/?active=no"))
    assert "Other Institute" in html and "Acme Academy" not in html
    html = html_of(viewer_client.get("/staff/customers/?q=acme"))
    assert "Acme Academy" in html and "Other Institute" not in html
    html = html_of(viewer_client.get("/staff/customers/?sort=-name"))
    assert html.index("Other Institute") < html.index("Acme Academy")
    html = html_of(viewer_client.get("/staff/customers/?sort=-exams"))
    assert html.index("Acme Academy") < html.index("Other Institute")
    partial = html_of(viewer_client.get("/staff/customers/?q=other", headers=HTMX))
    assert partial.startswith('\n<section id="results"') or partial.lstrip().startswith(
        '<section id="results"'
    )
    assert "Other Institute" in partial and "<html" not in partial


def test_list_exports_filtered_rows_without_secrets(viewer_client, customers_with_tokens):
    customer, _ = customers_with_tokens
    response = viewer_client.get("/staff/customers/?active=yes&export=csv")
    rows = csv_rows(response)
    assert rows[0] == ["Name", "Active", "Usable tokens", "Last token use", "Exams", "Created"]
    assert [row[0] for row in rows[1:]] == ["Acme Academy"]
    assert rows[1][1:3] == ["yes", "2"]
    response = viewer_client.get("/staff/customers/?export=xlsx")
    values = list(load_workbook(io.BytesIO(b"".join(response.streaming_content))).active.values)
    assert len(values) == 3
    everything = str(rows) + str(values)
    assert customer.signing_secret not in everything


def test_list_queries_do_not_grow_with_rows(viewer_client, db):
    def count_for(rows: int) -> int:
        Customer.objects.all().delete()
        for n in range(rows):
            customer = Customer.objects.create(name=f"Customer {n:03}")
            ClientToken.issue(customer=customer)
        return queries_of(viewer_client, "/staff/customers/")

    assert count_for(10) == count_for(200)


def test_token_list_queries_do_not_grow_with_rows(operator_client, customer):
    def count_for(rows: int) -> int:
        customer.tokens.all().delete()
        for _ in range(rows):
            ClientToken.issue(customer=customer)
        return queries_of(operator_client, f"/staff/customers/{customer.pk}/")

    assert count_for(10) == count_for(200)


# --- creating a customer, and its signing secret


def test_operator_creates_a_customer_and_sees_its_secret_once(operator_client, operator):
    response = operator_client.post("/staff/customers/new/", {"name": "  Beta School "})
    customer = Customer.objects.get(name="Beta School")
    assert response.status_code == 302
    assert response["Location"] == f"/staff/customers/{customer.pk}/"

    html = html_of(operator_client.get(response["Location"]))
    [block] = once_blocks(html)
    assert customer.signing_secret in block
    assert "Customer Beta School created." in html
    # A reload no longer shows it.
    assert customer.signing_secret not in html_of(operator_client.get(response["Location"]))

    entry = AuditEntry.objects.get(action="customer.create")
    assert entry.actor == operator and entry.target_id == str(customer.pk)
    assert entry.changes["name"] == [None, "Beta School"]
    assert customer.signing_secret not in str(entry.changes)


@pytest.mark.parametrize("race", [False, True], ids=["checked", "double-click"])
def test_a_taken_name_is_refused_with_the_models_message(
    operator_client, customer, monkeypatch, race
):
    if race:  # the form's check passes as if the other click had not yet created the customer
        from portal.staff.views.customers import CustomerForm

        monkeypatch.setattr(CustomerForm, "validate_unique", lambda form: None)
    response = operator_client.post("/staff/customers/new/", {"name": f" {customer.name}"})
    assert response.status_code == 200
    assert "Customer with this Name already exists." in html_of(response)
    assert Customer.objects.count() == 1 and not AuditEntry.objects.exists()


@pytest.mark.parametrize("name", ["\u200b", " \u200c\u00a0 ", "\ufeff"])
def test_a_name_that_shows_nothing_is_refused(operator_client, customer, name):
    """Django's form strips spaces only: a zero-width name would be an empty row in every list."""
    response = operator_client.post("/staff/customers/new/", {"name": name})
    assert response.status_code == 200
    assert "This must show something, not only spaces or invisible characters." in html_of(response)
    assert Customer.objects.count() == 1 and not AuditEntry.objects.exists()


def test_rotating_the_signing_secret_asks_then_shows_the_new_one_once(operator_client, customer):
    old = customer.signing_secret
    url = f"/staff/customers/{customer.pk}/signing-secret/"
    confirm = html_of(operator_client.get(url))
    assert "Rotate the callback signing secret of Acme Academy?" in confirm
    customer.refresh_from_db()
    assert customer.signing_secret == old  # asking changes nothing

    response = operator_client.post(url)
    assert response.status_code == 302
    customer.refresh_from_db()
    assert customer.signing_secret != old
    page = f"/staff/customers/{customer.pk}/"
    [block] = once_blocks(html_of(operator_client.get(page)))
    assert customer.signing_secret in block
    assert customer.signing_secret not in html_of(operator_client.get(page))
    entry = AuditEntry.objects.get(action="customer.rotate_signing_secret")
    assert "signing_secret" in entry.changes
    assert old not in str(entry.changes) and customer.signing_secret not in str(entry.changes)


def test_rotating_with_htmx_shows_the_secret_in_the_swapped_summary(operator_client, customer):
    response = operator_client.post(f"/staff/customers/{customer.pk}/signing-secret/", headers=HTMX)
    customer.refresh_from_db()
    html = html_of(response)
    assert html.lstrip().startswith('<div id="customer"')
    assert customer.signing_secret in once_blocks(html)[0]
    assert 'id="messages"' in html and 'hx-swap-oob="true"' in html


def test_deactivating_stops_its_tokens_and_activating_restores_them(
    operator_client, client, customer, token, exam
):
    assert exam_info(client, exam, token).status_code == 200
    response = operator_client.post(
        f"/staff/customers/{customer.pk}/active/", {"is_active": "false"}, follow=True
    )
    assert "no longer authenticate" in html_of(response)
    assert exam_info(client, exam, token).status_code == 401
    operator_client.post(f"/staff/customers/{customer.pk}/active/", {"is_active": "true"})
    assert exam_info(client, exam, token).status_code == 200
    actions = list(AuditEntry.objects.order_by("pk").values_list("action", flat=True))
    assert actions == ["customer.deactivate", "customer.activate"]


# --- client tokens


def test_issued_token_is_shown_once_and_authenticates_until_revoked(
    operator_client, client, customer, exam, operator
):
    response = operator_client.post(
        f"/staff/customers/{customer.pk}/tokens/",
        {"label": "production", "allowed_callback_hosts": "LMS.example.com, lms.example.com"},
    )
    assert response.status_code == 302
    page = html_of(operator_client.get(response["Location"]))
    [block] = once_blocks(page)
    raw = UUID.search(block).group(0)
    assert "production" in block
    assert raw not in html_of(operator_client.get(response["Location"]))  # once

    token = ClientToken.objects.get(label="production")
    assert token.allowed_callback_hosts == "lms.example.com"
    assert raw not in str(ClientToken.objects.values_list())  # only its hash is stored
    answer = exam_info(client, exam, raw)
    assert answer.status_code == 200 and answer.json()["eurl"] == exam.pk

    issue = AuditEntry.objects.get(action="client_token.issue")
    assert issue.actor == operator and raw not in str(issue.changes)
    assert issue.changes["label"] == [None, "production"]

    revoke_url = f"/staff/customers/{customer.pk}/tokens/{token.pk}/revoke/"
    confirm = html_of(operator_client.get(revoke_url))
    assert f"Revoke the client token {token.prefix}… of Acme Academy?" in confirm
    assert exam_info(client, exam, raw).status_code == 200  # asking changes nothing
    response = operator_client.post(revoke_url, follow=True)
    assert "no longer authenticates" in html_of(response)
    assert exam_info(client, exam, raw).status_code == 401
    assert AuditEntry.objects.filter(action="client_token.revoke", actor=operator).count() == 1
    # Revoking again changes nothing and writes nothing.
    response = operator_client.post(revoke_url, follow=True)
    assert "already revoked" in html_of(response)
    assert AuditEntry.objects.filter(action="client_token.revoke").count() == 1


def test_token_with_allowed_hosts_refuses_other_callbacks(operator_client, client, customer, exam):
    operator_client.post(
        f"/staff/customers/{customer.pk}/tokens/",
        {"label": "", "allowed_callback_hosts": "lms.example.com"},
    )
    page = html_of(operator_client.get(f"/staff/customers/{customer.pk}/"))
    raw = UUID.search(once_blocks(page)[0]).group(0)
    launch = {"student_uuid": "s-1", "mobile": "09120000000", "eurl": exam.pk}

    def launch_to(url):
        return client.post(
            "/api/integration/exams/launch/",
            launch | {"callback_url": url},
            content_type="application/json",
            headers={"X-Client-Token": raw},
        )

    assert launch_to("https://evil.example/cb").status_code == 400
    assert launch_to("https://lms.example.com/cb").status_code == 201


def test_bad_allowed_hosts_are_refused_with_a_clear_message(operator_client, customer):
    response = operator_client.post(
        f"/staff/customers/{customer.pk}/tokens/",
        {"label": "x", "allowed_callback_hosts": "https://lms.example.com/cb"},
    )
    assert response.status_code == 400
    html = html_of(response)
    assert "is not a host name: give names like client.example.com" in html
    assert not ClientToken.objects.exists() and not once_blocks(html)


def test_issuing_with_htmx_swaps_summary_and_token_table(operator_client, customer):
    response = operator_client.post(
        f"/staff/customers/{customer.pk}/tokens/", {"label": "via htmx"}, headers=HTMX
    )
    html = html_of(response)
    token = ClientToken.objects.get(label="via htmx")
    assert html.lstrip().startswith('<div id="customer"')
    assert UUID.search(once_blocks(html)[0])
    assert '<section id="results" class="results" aria-live="polite" hx-swap-oob="true">' in html
    assert f'id="token-{token.pk}"' in html


def test_editing_a_token_changes_label_and_hosts_and_audits_the_diff(
    operator_client, customer, token_pair
):
    token, raw = token_pair
    url = f"/staff/customers/{customer.pk}/tokens/{token.pk}/"
    assert 'name="allowed_callback_hosts"' in html_of(operator_client.get(url))
    response = operator_client.post(
        url, {"label": "renamed", "allowed_callback_hosts": "a.example.com,B.example.com"}
    )
    assert response.status_code == 302
    token.refresh_from_db()
    assert token.label == "renamed" and token.allowed_hosts == ["a.example.com", "b.example.com"]
    assert ClientToken.authenticate(raw) is not None  # its value did not change
    entry = AuditEntry.objects.get(action="client_token.update")
    assert entry.changes == {
        "label": ["tests", "renamed"],
        "allowed_callback_hosts": ["", "a.example.com,b.example.com"],
    }


def test_editing_a_token_in_place_with_htmx(operator_client, customer, token_pair):
    token, _ = token_pair
    url = f"/staff/customers/{customer.pk}/tokens/{token.pk}/"
    form = html_of(operator_client.get(url, headers=HTMX))
    assert form.lstrip().startswith(f'<tr id="token-{token.pk}" class="editing">')
    bad = html_of(
        operator_client.post(url, {"label": "x", "allowed_callback_hosts": "a b"}, headers=HTMX)
    )
    assert "is not a host name" in bad and 'class="editing"' in bad
    row = html_of(
        operator_client.post(url, {"label": "inline", "allowed_callback_hosts": ""}, headers=HTMX)
    )
    assert row.lstrip().startswith(f'<tr id="token-{token.pk}">') and "inline" in row
    assert "saved" in row  # the message, out of band


def test_revoking_with_htmx_returns_the_revoked_row(operator_client, customer, token_pair):
    token, raw = token_pair
    row = html_of(
        operator_client.post(
            f"/staff/customers/{customer.pk}/tokens/{token.pk}/revoke/", headers=HTMX
        )
    )
    assert f'<tr id="token-{token.pk}">' in row and "badge revoked" in row
    assert ClientToken.authenticate(raw) is None


def test_a_token_of_another_customer_is_not_found(operator_client, customer, other_customer):
    other, raw = ClientToken.issue(customer=other_customer)
    url = f"/staff/customers/{customer.pk}/tokens/{other.pk}/revoke/"
    assert operator_client.post(url).status_code == 404
    assert ClientToken.authenticate(raw) is not None


def test_token_list_filters_and_exports_without_hashes(viewer_client, customers_with_tokens):
    customer, _ = customers_with_tokens
    page = f"/staff/customers/{customer.pk}/"
    html = html_of(viewer_client.get(page + "?state=revoked"))
    assert html.count("badge revoked") == 1 and "prod" not in html
    html = html_of(viewer_client.get(page + "?q=stag"))
    assert "staging" in html and ">prod<" not in html
    rows = csv_rows(viewer_client.get(page + "?state=usable&export=csv"))
    assert rows[0] == [
        "Token",
        "Label",
        "Allowed callback hosts",
        "Created",
        "Last used",
        "Revoked",
    ]
    assert sorted(row[1] for row in rows[1:]) == ["prod", "staging"]
    hashes = ClientToken.objects.values_list("token_hash", flat=True)
    assert not any(h in str(rows) for h in hashes)


def once_key(html: str, action: str) -> str:
    """The one-shot key of the form posting to `action` on a page."""
    form = re.search(rf'<form[^>]*action="{re.escape(action)}".*?</form>', html, re.S).group(0)
    return re.search(r'name="once" value="([^"]+)"', form).group(1)


def test_a_double_clicked_rotation_rotates_once_and_shows_the_secret_in_force(
    operator_client, customer
):
    # Each press rotated, and the page could show the first secret when the second was stored:
    # every callback then failed to verify with the secret handed to the customer.
    url = f"/staff/customers/{customer.pk}/signing-secret/"
    key = once_key(html_of(operator_client.get(url)), url)
    first = operator_client.post(url, {"once": key})
    customer.refresh_from_db()
    stored = customer.signing_secret
    again = operator_client.post(url, {"once": key})
    assert first.status_code == again.status_code == 302
    customer.refresh_from_db()
    assert customer.signing_secret == stored
    assert AuditEntry.objects.filter(action="customer.rotate_signing_secret").count() == 1
    [block] = once_blocks(html_of(operator_client.get(again["Location"])))
    assert stored in block
    # With htmx the second press leaves the first one's answer on the page (no swap).
    page = html_of(operator_client.get(f"/staff/customers/{customer.pk}/"))
    key = once_key(page.replace('method="get" action', "action"), url)
    assert operator_client.post(url, {"once": key}, headers=HTMX).status_code == 200
    assert operator_client.post(url, {"once": key}, headers=HTMX).status_code == 204
    assert AuditEntry.objects.filter(action="customer.rotate_signing_secret").count() == 2


def test_a_double_clicked_token_issue_issues_one_token(operator_client, customer):
    # The second press made a live token that nobody was ever shown.
    url = f"/staff/customers/{customer.pk}/tokens/"
    key = once_key(html_of(operator_client.get(f"/staff/customers/{customer.pk}/")), url)
    for _press in range(2):
        response = operator_client.post(url, {"label": "lms", "once": key})
        assert response.status_code == 302
    [token] = ClientToken.objects.filter(customer=customer, label="lms")
    [block] = once_blocks(html_of(operator_client.get(response["Location"])))
    assert token.prefix in block
    # A new rendering of the form has a new key: issuing again is one press away.
    key = once_key(html_of(operator_client.get(f"/staff/customers/{customer.pk}/")), url)
    operator_client.post(url, {"label": "lms", "once": key})
    assert ClientToken.objects.filter(customer=customer, label="lms").count() == 2
