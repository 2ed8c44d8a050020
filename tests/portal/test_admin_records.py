"""The admin shows what candidates did (a quiz's launches and answers, a roleplay attempt)
beside its parent for reading only: nothing to add, change or delete by hand."""

import re

import pytest
from django.utils import timezone

from portal.customers.models import ClientToken
from portal.exams import services
from portal.exams.models import Launch
from tests.factories import CALLBACK, make_assessment, make_cluster


@pytest.fixture
def superuser_client(client, django_user_model):
    admin = django_user_model.objects.create_superuser("admin", "admin@example.com", "pw-123456")
    client.force_login(admin)
    return client


def editable_fields(html: str, prefix: str) -> list[str]:
    """The fields of an inline a staff member could change: every input but the hidden ones
    that carry a row's keys (and the management form), plus the delete boxes."""
    tags = re.findall(rf'<(?:input|select|textarea)[^>]*name="{prefix}-\d+-[^"]+"[^>]*>', html)
    return [tag for tag in tags if 'type="hidden"' not in tag]


@pytest.mark.django_db
def test_a_quizs_launches_and_answers_are_shown_read_only(superuser_client, customer, exam):
    token, _ = ClientToken.issue(customer=customer)
    launch, _ = services.launch_quiz(
        token=token, student_uuid="stu-1", mobile="0912", eurl=exam.pk, callback_url=CALLBACK
    )
    page = superuser_client.get(f"/admin/exams/quiz/{launch.quiz_id}/change/")

    assert page.status_code == 200
    assert str(launch.launch_id) in page.text and CALLBACK in page.text
    assert editable_fields(page.text, "launches") == []  # no field to edit, no delete box
    assert editable_fields(page.text, "items") == []
    assert 'name="launches-MAX_NUM_FORMS" value="0"' in page.text  # no row can be added

    superuser_client.post(
        f"/admin/exams/quiz/{launch.quiz_id}/change/",
        {
            "launches-TOTAL_FORMS": "1",
            "launches-INITIAL_FORMS": "1",
            "launches-0-id": launch.pk,
            "launches-0-callback_url": "https://evil.example/",
            "launches-0-DELETE": "on",
        },
    )
    launch.refresh_from_db()
    assert Launch.objects.filter(pk=launch.pk).exists() and launch.callback_url == CALLBACK


@pytest.mark.django_db
def test_an_assessments_roleplay_attempts_are_shown_read_only(superuser_client):
    cluster, partner, _options = make_cluster()
    assessment = make_assessment(cluster, partner)
    roleplay = cluster.roleplays.order_by("position").first()
    now = timezone.now()
    assessment.attempts.create(roleplay=roleplay, started_at=now, deadline_at=now)

    page = superuser_client.get(f"/admin/roleplays/assessment/{assessment.pk}/change/")

    assert page.status_code == 200
    assert roleplay.roleplay_name in page.text
    assert editable_fields(page.text, "attempts") == []
    assert 'name="attempts-MAX_NUM_FORMS" value="0"' in page.text
