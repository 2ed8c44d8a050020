"""The sandbox customer: its callback page tells a genuine result from a forged one."""

import pytest

from portal.exams import services
from portal.sandbox.models import ExamCustomerAccount
from portal.sandbox.views import verify_signature

PARAMS = {
    "student_uuid": "stu-1",
    "mobile": "09120000000",
    "eurl": "2",
    "quiz_id": "7",
    "percentage": "85",
    "total_score": "17",
    "is_accept": "True",
    "state": "completed",
    "launch_id": "3f1c2b8e-0000-4000-8000-000000000000",
}


def test_documented_verifier_accepts_our_signature_and_refuses_tampering():
    secret = "s3cret"
    signed = PARAMS | {"signature": services.sign_params(PARAMS, secret)}
    assert verify_signature(signed, secret)
    assert not verify_signature(signed | {"percentage": "100"}, secret)
    assert not verify_signature(signed, "another secret")
    assert not verify_signature(PARAMS, secret)


@pytest.mark.django_db
def test_callback_page_shows_validity(client):
    ExamCustomerAccount.objects.create(
        pk=1, customer_name="Demo", client_token="x", signing_secret="s3cret", exam_eurls=[]
    )
    genuine = PARAMS | {"signature": services.sign_params(PARAMS, "s3cret")}
    page = client.get("/sandbox/exams/callback/", genuine)
    assert 'data-valid="true"' in page.text and "Passed" in page.text
    forged = client.get(
        "/sandbox/exams/callback/", genuine | {"is_accept": "True", "percentage": "99"}
    )
    assert 'data-valid="false"' in forged.text


@pytest.mark.django_db
def test_sandbox_without_account_says_how_to_set_it_up(client):
    response = client.get("/sandbox/exams/1/")
    assert response.status_code == 503
    assert "seed_demo" in response.text


def test_the_reference_verifier_ignores_the_customers_own_query_parameters():
    secret = "s3cret"
    signed = PARAMS | {"signature": services.sign_params(PARAMS, secret), "ref": "campaign-7"}
    assert verify_signature(signed, secret)
