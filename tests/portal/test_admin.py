"""Staff manage customers and tokens in the admin; a new token is shown exactly once."""

import re

import pytest

from portal.customers.models import ClientToken


@pytest.fixture
def staff_client(client, django_user_model):
    staff = django_user_model.objects.create_superuser("staff", "staff@example.com", "pw-123456")
    client.force_login(staff)
    return client


@pytest.mark.django_db
def test_new_token_is_shown_once_and_stored_hashed(staff_client, customer):
    response = staff_client.post(
        "/admin/customers/clienttoken/add/",
        {"customer": customer.pk, "label": "lms", "allowed_callback_hosts": "lms.example.com"},
        follow=True,
    )
    assert response.status_code == 200
    shown = re.search(r"New client token for Acme Academy: ([0-9a-f-]{36})", response.text)
    assert shown, "the token is shown to the staff member"
    raw = shown.group(1)

    token = ClientToken.authenticate(raw)
    assert token is not None and token.customer == customer
    assert token.allowed_hosts == ["lms.example.com"]
    assert ClientToken.objects.count() == 1
    assert not ClientToken.objects.filter(token_hash=raw).exists()

    page = staff_client.get(f"/admin/customers/clienttoken/{token.pk}/change/")
    assert raw not in page.text


@pytest.mark.django_db
def test_revoke_action_stops_the_token(staff_client, token_pair):
    token, raw = token_pair
    staff_client.post(
        "/admin/customers/clienttoken/",
        {"action": "revoke_tokens", "_selected_action": [token.pk]},
    )
    assert ClientToken.authenticate(raw) is None


@pytest.mark.django_db
def test_exam_and_quiz_pages_render(staff_client, exam):
    assert staff_client.get(f"/admin/exams/exam/{exam.pk}/change/").status_code == 200
    assert staff_client.get("/admin/exams/quiz/").status_code == 200
