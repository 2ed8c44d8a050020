"""A candidate's way through a cluster: order, branching, deadline, scoring, results outbox."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from integrations.models import Delivery
from portal.roleplays import services
from portal.roleplays.models import Assessment, Roleplay, RoleplayAttempt, TurnResponse
from portal.roleplays.services import RoleplayContent, RoleplayError
from tests.factories import make_assessment, make_cluster

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    cluster, partner, options = make_cluster()
    assessment = make_assessment(cluster, partner)
    rp1, rp2 = Roleplay.objects.filter(cluster=cluster).order_by("position")
    return {
        "cluster": cluster,
        "partner": partner,
        "options": options,
        "assessment": assessment,
        "rp1": rp1,
        "rp2": rp2,
    }


def current(attempt):
    state = services.progress(RoleplayContent.load(attempt.roleplay), attempt)
    return state.current_turn.key if state.current_turn else None


def finish_rp1(world, first="a1 good", second="a2 good", third="s1 good"):
    attempt = services.start_roleplay(assessment=world["assessment"], roleplay=world["rp1"])
    for name in (first, second, third):
        if name:
            services.respond(attempt=attempt, option_id=world["options"][name].pk)
    attempt.refresh_from_db()
    return attempt


def test_roleplays_are_taken_in_order(world):
    with pytest.raises(RoleplayError) as refused:
        services.start_roleplay(assessment=world["assessment"], roleplay=world["rp2"])
    assert refused.value.code == "out_of_order"
    attempt = services.start_roleplay(assessment=world["assessment"], roleplay=world["rp1"])
    again = services.start_roleplay(assessment=world["assessment"], roleplay=world["rp1"])
    assert again.pk == attempt.pk, "a double click does not restart the clock"
    assert attempt.deadline_at - attempt.started_at == timedelta(minutes=20)


def test_conversation_branches_and_moves_to_the_next_stakeholder(world):
    attempt = services.start_roleplay(assessment=world["assessment"], roleplay=world["rp1"])
    assert current(attempt) == "a1"
    services.respond(attempt=attempt, option_id=world["options"]["a1 good"].pk)
    assert current(attempt) == "a2"
    services.respond(attempt=attempt, option_id=world["options"]["a2 fair"].pk)
    assert current(attempt) == "s1"


def test_a_poor_answer_can_end_the_talk_early(world):
    attempt = services.start_roleplay(assessment=world["assessment"], roleplay=world["rp1"])
    services.respond(attempt=attempt, option_id=world["options"]["a1 poor"].pk)
    assert current(attempt) == "s1"


def test_an_option_of_another_turn_is_refused_and_nothing_is_recorded(world):
    attempt = services.start_roleplay(assessment=world["assessment"], roleplay=world["rp1"])
    services.respond(attempt=attempt, option_id=world["options"]["a1 good"].pk)
    with pytest.raises(RoleplayError) as stale:  # e.g. a second tab still showing turn a1
        services.respond(attempt=attempt, option_id=world["options"]["a1 poor"].pk)
    assert stale.value.code == "stale_option"
    assert TurnResponse.objects.filter(attempt=attempt).count() == 1


def test_the_last_answer_finishes_the_roleplay_with_server_time(world):
    attempt = finish_rp1(world)
    assert attempt.is_finished and attempt.finished_by == "candidate"
    assert attempt.started_at <= attempt.finished_at <= timezone.now()
    with pytest.raises(RoleplayError) as late:
        services.respond(attempt=attempt, option_id=world["options"]["s1 poor"].pk)
    assert late.value.code == "roleplay_finished"


def test_answers_after_the_deadline_are_refused_and_the_roleplay_closes(world):
    attempt = services.start_roleplay(assessment=world["assessment"], roleplay=world["rp1"])
    services.respond(attempt=attempt, option_id=world["options"]["a1 good"].pk)
    RoleplayAttempt.objects.filter(pk=attempt.pk).update(
        started_at=timezone.now() - timedelta(minutes=21),
        deadline_at=timezone.now() - timedelta(minutes=1),
    )
    with pytest.raises(RoleplayError) as late:
        services.respond(attempt=attempt, option_id=world["options"]["a2 good"].pk)
    assert late.value.code == "time_up"
    attempt.refresh_from_db()
    assert attempt.finished_by == "deadline"
    assert attempt.finished_at == attempt.deadline_at


def test_overdue_roleplays_are_closed_by_the_periodic_task(world):
    attempt = services.start_roleplay(assessment=world["assessment"], roleplay=world["rp1"])
    RoleplayAttempt.objects.filter(pk=attempt.pk).update(deadline_at=timezone.now())
    assert services.finish_overdue_roleplays() == 1
    assert services.finish_overdue_roleplays() == 0
    attempt.refresh_from_db()
    assert attempt.finished_by == "deadline"


def test_likert_ratings_are_kept_when_incomplete(world):
    finish_rp1(world)
    attempt = services.start_roleplay(assessment=world["assessment"], roleplay=world["rp2"])
    services.respond(attempt=attempt, option_id=world["options"]["k1 good"].pk)
    items = list(RoleplayContent.load(world["rp2"]).likert_items)
    assert services.rate(attempt=attempt, values={items[0].pk: 5}) == 1
    assert not RoleplayAttempt.objects.get(pk=attempt.pk).is_finished
    with pytest.raises(RoleplayError):
        services.rate(attempt=attempt, values={items[1].pk: 9})
    assert services.rate(attempt=attempt, values={items[1].pk: 1}) == 0
    assert RoleplayAttempt.objects.get(pk=attempt.pk).is_finished


def complete_all(world):
    finish_rp1(world)
    attempt = services.start_roleplay(assessment=world["assessment"], roleplay=world["rp2"])
    services.respond(attempt=attempt, option_id=world["options"]["k1 good"].pk)
    items = list(RoleplayContent.load(world["rp2"]).likert_items)
    # "I take charge" 5, "I avoid arguments" (reverse) 1 → 5 + 5 = raw 10 → sten 9.
    services.rate(attempt=attempt, values={items[0].pk: 5, items[1].pk: 1})


def test_completing_the_last_roleplay_puts_the_results_in_the_outbox_once(world):
    complete_all(world)
    assessment = Assessment.objects.get(pk=world["assessment"].pk)
    assert assessment.status == "completed"
    deliveries = Delivery.objects.filter(kind="results_submission")
    assert deliveries.count() == 1
    delivery = deliveries.get()
    assert delivery.target_url == "https://q3.example.com/api/receive-assessment-results"
    assert delivery.signing_secret == world["partner"].webhook_secret
    assert not services.complete_assessment(assessment)
    assert Delivery.objects.filter(kind="results_submission").count() == 1

    body = json.loads(delivery.payload)
    assert body["cluster_id"] == "test-cl-001" and body["user_id"] == "EMP_789"
    assert body["user_name"] == "johndoe" and body["cluster_type"] == "Leadership"
    first, second = body["roleplays"]
    assert first["roleplay_id"] == "rp-complaint" and first["stakeholders"] == "02"
    assert first["max_time"] == 20 and 0 <= first["time_taken"] < 1
    marks = {c["competency_code"]: c for c in first["competencies"]}
    assert marks["CUST"]["marks_obtained"] == 6, "3 + 5 is capped at max_score 6"
    assert marks["CALM"]["marks_obtained"] == 5 and marks["CALM"]["max_marks"] == 5
    traits = {c["competency_code"]: c for c in second["competencies"]}
    assert traits["CONF"]["marks_obtained"] == 7
    assert traits["DOM"] == {
        "competency_code": "DOM",
        "competency_name": "Dominance (16PF E)",
        "max_marks": 10,
        "marks_obtained": 9,
    }
    assert second["stakeholders"] == "01"


def test_negative_marks_never_go_below_zero(world):
    finish_rp1(world, first="a1 poor", second=None, third="s1 poor")
    payload = services.results_payload(world["assessment"])
    marks = {
        c["competency_code"]: c["marks_obtained"] for c in payload["roleplays"][0]["competencies"]
    }
    assert marks == {"CUST": 0, "CALM": 0}


def test_results_go_to_the_launch_results_url(world):
    assessment = world["assessment"]
    Assessment.objects.filter(pk=assessment.pk).update(
        results_url="https://q3.example.com/hooks/results"
    )
    complete_all(world)
    assert Delivery.objects.get(kind="results_submission").target_url == (
        "https://q3.example.com/hooks/results"
    )


def test_a_roleplay_never_started_scores_zero_not_an_average_sten(world):
    finish_rp1(world)
    payload = services.results_payload(world["assessment"])
    second = payload["roleplays"][1]
    assert second["stakeholders"] == "00" and second["time_taken"] == 0
    assert {c["competency_code"]: c["marks_obtained"] for c in second["competencies"]} == {
        "CONF": 0,
        "DOM": 0,
    }


def test_periodic_tasks_close_overdue_roleplays_and_forget_expired_tokens(world):
    from portal.roleplays import tasks
    from portal.roleplays.models import LaunchTicket, UsedToken

    attempt = services.start_roleplay(assessment=world["assessment"], roleplay=world["rp1"])
    RoleplayAttempt.objects.filter(pk=attempt.pk).update(deadline_at=timezone.now())
    assert tasks.finish_overdue_roleplays.call_local() == 1
    UsedToken.objects.create(token_hash="a" * 64, expires_at=timezone.now() - timedelta(hours=1))
    UsedToken.objects.create(token_hash="b" * 64, expires_at=timezone.now() + timedelta(hours=1))
    LaunchTicket.objects.create(
        assessment=world["assessment"],
        ticket_hash="c" * 64,
        expires_at=timezone.now() - timedelta(days=2),
    )
    assert tasks.forget_expired_launch_records.call_local() == 2
    assert list(UsedToken.objects.values_list("token_hash", flat=True)) == ["b" * 64]


def test_a_short_partner_secret_is_refused_by_the_form_validation(world):
    from django.core.exceptions import ValidationError

    partner = world["partner"]
    partner.jwt_secret = "too-short"
    with pytest.raises(ValidationError):
        partner.full_clean()


def test_a_roleplay_id_that_names_a_candidate_page_is_refused():
    import json

    from django.conf import settings

    from portal.roleplays.transfer import ClusterFormatError, import_cluster

    path = settings.BASE_DIR / "portal/roleplays/fixtures/demo_cluster.json"
    data = json.loads(path.read_text())
    data["roleplays"][0]["roleplay_id"] = "done"
    with pytest.raises(ClusterFormatError, match="reserved"):
        import_cluster(data)


def test_a_16pf_trait_with_no_statement_rated_scores_zero(world):
    finish_rp1(world)
    attempt = services.start_roleplay(assessment=world["assessment"], roleplay=world["rp2"])
    RoleplayAttempt.objects.filter(pk=attempt.pk).update(deadline_at=timezone.now())
    services.finish_overdue_roleplays()
    payload = services.results_payload(Assessment.objects.get(pk=world["assessment"].pk))
    traits = {c["competency_code"]: c for c in payload["roleplays"][1]["competencies"]}
    assert traits["DOM"]["marks_obtained"] == 0 and traits["DOM"]["max_marks"] == 10


def test_results_go_to_aio_callback_hosts_too(world):
    from integrations.http import check_url

    partner = world["partner"]
    partner.aio_callback_url = "https://hooks.q3-partner.example/results"
    assert "hooks.q3-partner.example" in partner.hosts
    check_url(partner.default_results_url(), partner.hosts, resolve=False)


def test_an_assessment_abandoned_between_roleplays_is_completed_a_day_later(world):
    from portal.roleplays import tasks

    attempt = finish_rp1(world)
    assert tasks.complete_abandoned_assessments.call_local() == 0, "too early"
    a_day_ago = timezone.now() - timedelta(hours=25)
    Assessment.objects.filter(pk=world["assessment"].pk).update(
        created_at=a_day_ago, last_activity_at=a_day_ago
    )
    RoleplayAttempt.objects.filter(pk=attempt.pk).update(finished_at=a_day_ago)
    assert tasks.complete_abandoned_assessments.call_local() == 1
    assert Assessment.objects.get(pk=world["assessment"].pk).status == "completed"
    body = json.loads(Delivery.objects.get(kind="results_submission").payload)
    assert body["roleplays"][1]["stakeholders"] == "00"


def test_an_assessment_with_a_roleplay_open_is_not_abandoned(world):
    services.start_roleplay(assessment=world["assessment"], roleplay=world["rp1"])
    long_ago = timezone.now() - timedelta(hours=30)
    Assessment.objects.filter(pk=world["assessment"].pk).update(
        created_at=long_ago, last_activity_at=long_ago
    )
    assert services.complete_abandoned_assessments() == 0


def gone_quiet(world, hours: int = 30) -> None:
    """The candidate's last sign of life was `hours` ago (and so was the launch)."""
    long_ago = timezone.now() - timedelta(hours=hours)
    Assessment.objects.filter(pk=world["assessment"].pk).update(
        created_at=long_ago, last_activity_at=long_ago
    )


def status_of(world) -> str:
    return Assessment.objects.get(pk=world["assessment"].pk).status


def test_a_relaunched_assessment_is_not_swept_as_abandoned(world, monkeypatch):
    """A candidate who comes back to a day-old assessment from the partner's site keeps it: the
    launch is activity, and the sweep waits a day after it."""
    import time

    import jwt

    from portal.roleplays import launch

    monkeypatch.setattr(launch, "check_url", lambda url, hosts: None)  # no DNS in this test
    gone_quiet(world)
    now = int(time.time())
    token = jwt.encode(
        {"user_id": "EMP_789", "assessment_cluster_id": "test-cl-001", "iat": now, "exp": now + 60},
        world["partner"].jwt_secret,
        algorithm="HS256",
    )
    relaunched = launch.assessment_launch(
        user_id="EMP_789",
        user_name="johndoe",
        assessment_cluster_id="test-cl-001",
        auth_token=token,
        return_url="https://q3.example.com/dashboard",
    )
    assert relaunched.assessment.pk == world["assessment"].pk, "the launch resumes it"
    assert services.complete_abandoned_assessments() == 0
    assert status_of(world) == "in_progress"
    assert not Delivery.objects.filter(kind="results_submission").exists()
    # A day without anything after the launch, and it is completed after all.
    assert services.complete_abandoned_assessments(idle=timedelta(0)) == 1
    assert status_of(world) == "completed"


def test_the_browsers_start_is_activity(world):
    from portal.roleplays import launch
    from portal.roleplays.models import LaunchTicket

    LaunchTicket.objects.create(
        assessment=world["assessment"],
        ticket_hash=launch.sha256("the-ticket"),
        expires_at=timezone.now() + timedelta(minutes=5),
    )
    gone_quiet(world)
    launch.assessment_start(ticket="the-ticket", assessment_cluster_id="test-cl-001")
    assert services.complete_abandoned_assessments() == 0
    assert status_of(world) == "in_progress"


def test_beginning_a_roleplay_and_answering_are_activity(world):
    attempt = services.start_roleplay(assessment=world["assessment"], roleplay=world["rp1"])
    gone_quiet(world)
    for name in ("a1 good", "a2 good", "s1 good"):  # the last answer closes the roleplay
        services.respond(attempt=attempt, option_id=world["options"][name].pk)
    assert services.complete_abandoned_assessments() == 0, "the answers were just now"

    gone_quiet(world)
    attempt = services.start_roleplay(assessment=world["assessment"], roleplay=world["rp2"])
    services.respond(attempt=attempt, option_id=world["options"]["k1 good"].pk)
    gone_quiet(world)
    items = list(RoleplayContent.load(world["rp2"]).likert_items)
    services.rate(attempt=attempt, values={items[0].pk: 4})
    RoleplayAttempt.objects.filter(pk=attempt.pk).update(finished_at=timezone.now())
    assert services.complete_abandoned_assessments() == 0, "the rating was just now"


def test_beginning_a_roleplay_is_activity(world):
    finish_rp1(world)
    gone_quiet(world)
    attempt = services.start_roleplay(assessment=world["assessment"], roleplay=world["rp2"])
    # Closed at once (a deadline that passed): the begin is what the sweep goes by.
    RoleplayAttempt.objects.filter(pk=attempt.pk).update(finished_at=timezone.now())
    assert services.complete_abandoned_assessments() == 0


def test_newer_cluster_metadata_supersedes_what_still_waits_for_the_partner(world):
    """Metadata pushed twice before the partner took the first: only the newer is sent, so a
    retry of the older can never overwrite it at the partner."""
    from django.db import transaction

    from portal.partners.models import Partner

    cluster, partner = world["cluster"], world["partner"]
    other = Partner.objects.create(
        name="Other HR", jwt_secret="o" * 40, base_url="https://other.example.org"
    )
    with transaction.atomic():
        services.push_cluster_metadata(cluster, [partner, other])
    Roleplay.objects.filter(pk=world["rp2"].pk).update(roleplay_name="Conflict, renamed")
    with transaction.atomic():
        services.push_cluster_metadata(cluster, [partner])

    sent = Delivery.objects.filter(kind="cluster_metadata_sync")
    for_q3 = sent.filter(route=partner.route("metadata")).order_by("pk")
    older, newer = for_q3
    assert older.status == "superseded" and older.superseded_by_id == newer.pk
    assert newer.status == "pending"
    assert json.loads(newer.payload)["roleplays"][1]["roleplay_name"] == "Conflict, renamed"
    assert sent.get(route=other.route("metadata")).status == "pending", "another partner's stays"
