"""Roleplay results in the console: the assessments list (filters, sort, search, export, query
count), one assessment's marks as results_payload computes them, and re-sending results."""

import csv
import io
import json
import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from integrations.models import Delivery
from portal.audit.models import AuditEntry
from portal.partners.models import Partner
from portal.roleplays import services
from portal.roleplays.models import Assessment, Cluster, Roleplay
from portal.roleplays.services import RoleplayContent
from tests.factories import make_assessment, make_cluster

pytestmark = pytest.mark.django_db


def complete(world, user_id: str, *, good: bool = True) -> Assessment:
    """An assessment taken to the end through the services, as a candidate would."""
    assessment = make_assessment(world["cluster"], world["partner"], user_id=user_id)
    options = world["options"]
    first = services.start_roleplay(assessment=assessment, roleplay=world["rp1"])
    answers = ("a1 good", "a2 good", "s1 good") if good else ("a1 poor", "s1 poor")
    for name in answers:
        services.respond(attempt=first, option_id=options[name].pk)
    second = services.start_roleplay(assessment=assessment, roleplay=world["rp2"])
    services.respond(attempt=second, option_id=options["k1 good" if good else "k1 poor"].pk)
    items = list(RoleplayContent.load(world["rp2"]).likert_items)
    # good: 5 and (reverse) 1 → raw 10 → sten 9; poor: 1 and (reverse) 5 → raw 2 → sten 1.
    values = {items[0].pk: 5, items[1].pk: 1} if good else {items[0].pk: 1, items[1].pk: 5}
    services.rate(attempt=second, values=values)
    assessment.refresh_from_db()
    assert assessment.status == "completed"
    return assessment


@pytest.fixture
def world():
    cluster, partner, options = make_cluster()
    rp1, rp2 = Roleplay.objects.filter(cluster=cluster).order_by("position")
    other_cluster = Cluster.objects.create(
        cluster_id="other-cl", cluster_name="Sales Cluster", cluster_type="Sales"
    )
    other_partner = Partner.objects.create(
        name="Other HR",
        jwt_secret="y" * 40,
        base_url="https://hr.example.com",
        allowed_hosts="hr.example.com",
    )
    world = {
        "cluster": cluster,
        "partner": partner,
        "options": options,
        "rp1": rp1,
        "rp2": rp2,
        "other_cluster": other_cluster,
        "other_partner": other_partner,
    }
    world["good"] = complete(world, "EMP_GOOD")
    world["poor"] = complete(world, "EMP_POOR", good=False)
    world["open"] = make_assessment(cluster, partner, user_id="EMP_OPEN")
    services.start_roleplay(assessment=world["open"], roleplay=rp1)
    world["other"] = make_assessment(other_cluster, other_partner, user_id="EMP_OTHER")
    return world


def shown(html: str) -> list[str]:
    """The candidates of the list, in order."""
    return re.findall(r'<a href="/staff/roleplays/assessments/\d+/">(EMP_\w+)</a>', html)


def row_of(html: str, assessment: Assessment) -> str:
    return re.search(rf'<tr data-assessment="{assessment.pk}">(.*?)</tr>', html, re.S)[1]


def results_delivery(assessment: Assessment) -> Delivery:
    return Delivery.objects.get(dedupe_key=f"results:{assessment.pk}")


def test_list_shows_candidate_partner_state_dates_and_results(viewer_client, world):
    html = viewer_client.get("/staff/roleplays/").content.decode()
    assert shown(html) == ["EMP_OTHER", "EMP_OPEN", "EMP_POOR", "EMP_GOOD"]  # newest first
    row = row_of(html, world["good"])
    assert "johndoe" in row and "Q3 Test" in row and "Test Cluster" in row
    assert f'href="/staff/partners/{world["partner"].pk}/"' in row
    assert '<span class="badge completed">' in row and '<span class="badge pending">' in row
    assert row.count("<time ") == 3  # launched, started, completed
    other = row_of(html, world["other"])
    assert "in progress" in other and "not queued yet" in other
    # The clusters with their counts, each linking to its page.
    assert f'href="/staff/roleplays/clusters/{world["cluster"].pk}/"' in html
    assert "Sales Cluster" in html


def test_list_filters_by_cluster_partner_state_results_and_dates(viewer_client, world):
    def get(query: str) -> list[str]:
        return sorted(shown(viewer_client.get(f"/staff/roleplays/?{query}").content.decode()))

    assert get("state=completed") == ["EMP_GOOD", "EMP_POOR"]
    assert get("state=in_progress") == ["EMP_OPEN", "EMP_OTHER"]
    assert get(f"cluster={world['other_cluster'].pk}") == ["EMP_OTHER"]
    assert get(f"partner={world['partner'].pk}") == ["EMP_GOOD", "EMP_OPEN", "EMP_POOR"]
    Delivery.objects.filter(pk=results_delivery(world["poor"]).pk).update(
        status="dead", attempt_count=8
    )
    Delivery.objects.filter(pk=results_delivery(world["good"]).pk).update(attempt_count=2)
    assert get("results=dead") == ["EMP_POOR"]
    assert get("results=retrying") == ["EMP_GOOD"]
    assert get("results=none") == ["EMP_OPEN", "EMP_OTHER"]
    ten_days_ago = timezone.now() - timedelta(days=10)
    Assessment.objects.filter(pk=world["other"].pk).update(created_at=ten_days_ago)
    until = (timezone.localdate() - timedelta(days=5)).isoformat()
    assert get(f"until={until}") == ["EMP_OTHER"]
    assert get(f"since={until}") == ["EMP_GOOD", "EMP_OPEN", "EMP_POOR"]
    # A bad value is reported on the form and selects no rows (never all of them).
    html = viewer_client.get("/staff/roleplays/?cluster=999999").content.decode()
    assert shown(html) == [] and "q-error" in html
    assert "A filter is not valid, so no rows are shown" in html


def test_list_searches_and_sorts(viewer_client, world):
    html = viewer_client.get("/staff/roleplays/?q=poor").content.decode()
    assert shown(html) == ["EMP_POOR"]
    html = viewer_client.get("/staff/roleplays/?q=sales").content.decode()  # a cluster's name
    assert shown(html) == ["EMP_OTHER"]
    html = viewer_client.get("/staff/roleplays/?sort=candidate").content.decode()
    assert shown(html) == ["EMP_GOOD", "EMP_OPEN", "EMP_OTHER", "EMP_POOR"]
    html = viewer_client.get("/staff/roleplays/?sort=-candidate").content.decode()
    assert shown(html) == ["EMP_POOR", "EMP_OTHER", "EMP_OPEN", "EMP_GOOD"]
    html = viewer_client.get("/staff/roleplays/?sort=partner").content.decode()
    assert shown(html)[0] == "EMP_OTHER"  # "Other HR" before "Q3 Test"


def test_htmx_gets_only_the_results_region(viewer_client, world):
    response = viewer_client.get("/staff/roleplays/?q=good", headers={"HX-Request": "true"})
    html = response.content.decode()
    assert html.lstrip().startswith('<section id="results"')
    assert shown(html) == ["EMP_GOOD"]


def csv_rows(response) -> list[dict]:
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text)))


def test_csv_export_has_the_filtered_rows_and_the_marks_sent(viewer_client, world):
    response = viewer_client.get("/staff/roleplays/?state=completed&export=csv")
    assert response["Content-Type"].startswith("text/csv")
    rows = {row["user_id"]: row for row in csv_rows(response)}
    assert set(rows) == {"EMP_GOOD", "EMP_POOR"}
    good = rows["EMP_GOOD"]
    assert good["cluster_id"] == "test-cl-001" and good["partner"] == "Q3 Test"
    assert good["state"] == "completed" and good["results_delivery"] == "pending"
    payload = json.loads(results_delivery(world["good"]).payload)
    for roleplay in payload["roleplays"]:
        prefix = f"{roleplay['roleplay_name']} ({roleplay['roleplay_id']})"
        assert good[f"{prefix}: stakeholders"] == str(int(roleplay["stakeholders"]))
        assert float(good[f"{prefix}: time_taken (min)"]) == roleplay["time_taken"]
    assert good["Complaint (rp-complaint): CUST (/6)"] == "6"
    assert good["Complaint (rp-complaint): CALM (/5)"] == "5"
    assert good["Conflict (rp-conflict): CONF (/10)"] == "7"
    assert good["Conflict (rp-conflict): DOM (sten)"] == "9"
    poor = rows["EMP_POOR"]
    assert poor["Complaint (rp-complaint): CUST (/6)"] == "0"
    assert poor["Conflict (rp-conflict): DOM (sten)"] == "1"


def test_xlsx_export_parses_with_the_filtered_rows(viewer_client, world):
    response = viewer_client.get(
        f"/staff/roleplays/?cluster={world['cluster'].pk}&q=EMP_&sort=candidate&export=xlsx"
    )
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    header, *rows = list(sheet.values)
    assert [row[header.index("user_id")] for row in rows] == ["EMP_GOOD", "EMP_OPEN", "EMP_POOR"]
    dom = header.index("Conflict (rp-conflict): DOM (sten)")
    assert [row[dom] for row in rows] == [9, None, 1]  # no results sent yet for EMP_OPEN


def test_export_of_another_cluster_has_no_foreign_marks_columns(viewer_client, world):
    response = viewer_client.get(
        f"/staff/roleplays/?cluster={world['other_cluster'].pk}&export=csv"
    )
    rows = csv_rows(response)
    assert [row["user_id"] for row in rows] == ["EMP_OTHER"]
    assert not any(":" in key for key in rows[0])


def test_cluster_page_lists_its_roleplays_and_assessments_only(viewer_client, world):
    url = f"/staff/roleplays/clusters/{world['cluster'].pk}/"
    html = viewer_client.get(url).content.decode()
    assert "rp-complaint" in html and "rp-conflict" in html and "Dominance (16PF E)" in html
    assert sorted(shown(html)) == ["EMP_GOOD", "EMP_OPEN", "EMP_POOR"]
    assert 'name="cluster"' not in html  # the cluster is given
    html = viewer_client.get(f"{url}?state=in_progress").content.decode()
    assert shown(html) == ["EMP_OPEN"]
    rows = csv_rows(viewer_client.get(f"{url}?export=csv&state=completed"))
    assert sorted(row["user_id"] for row in rows) == ["EMP_GOOD", "EMP_POOR"]
    assert viewer_client.get("/staff/roleplays/clusters/999999/").status_code == 404


def list_queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


@pytest.mark.parametrize("page", ["list", "cluster"])
def test_list_queries_do_not_grow_with_rows(viewer_client, page):
    cluster, partner, _options = make_cluster()
    url = "/staff/roleplays/" if page == "list" else f"/staff/roleplays/clusters/{cluster.pk}/"

    def count_for(rows: int) -> int:
        Delivery.objects.all().delete()
        Assessment.objects.all().delete()
        made = Assessment.objects.bulk_create(
            Assessment(
                partner=partner,
                cluster=cluster,
                user_id=f"U{n}",
                user_name=f"User {n}",
                return_url="https://q3.example.com/back",
                results_url="https://q3.example.com/results",
                status="completed" if n % 2 else "in_progress",
                started_at=timezone.now(),
                completed_at=timezone.now() if n % 2 else None,
            )
            for n in range(rows)
        )
        Delivery.objects.bulk_create(
            Delivery(
                kind="results_submission",
                target_url="https://q3.example.com/results",
                payload="{}",
                dedupe_key=f"results:{a.pk}",
                attempt_count=n % 3,
            )
            for n, a in enumerate(made)
            if a.status == "completed"
        )
        return list_queries(viewer_client, url)

    assert count_for(10) == count_for(200)


def cell(html: str, code: str, name: str) -> str:
    row = re.search(rf'<tr data-code="{code}">(.*?)</tr>', html, re.S)
    assert row, code
    found = re.search(rf'<td class="num {name}">(.*?)</td>', row[1], re.S)
    return re.sub(r"<[^>]+>", "", found[1]).strip()


def test_assessment_page_shows_the_marks_results_payload_sends(viewer_client, world):
    assessment = world["good"]
    payload = services.results_payload(assessment)
    html = viewer_client.get(f"/staff/roleplays/assessments/{assessment.pk}/").content.decode()
    assert "EMP_GOOD" in html and "johndoe" in html and "Q3 Test" in html
    for roleplay in payload["roleplays"]:
        section = re.search(
            rf'<section class="card roleplay-result" id="roleplay-{roleplay["roleplay_id"]}"'
            r"(.*?)</section>",
            html,
            re.S,
        )[1]
        met = int(roleplay["stakeholders"])
        assert f"{met} of {met}" in section
        assert f"{roleplay['time_taken']:.2f} of {roleplay['max_time']} minutes" in section
        for competency in roleplay["competencies"]:
            code = competency["competency_code"]
            assert cell(section, code, "most") == str(competency["max_marks"])
            obtained = cell(section, code, "obtained")
            if code == "DOM":
                assert obtained == f"sten {competency['marks_obtained']}" == "sten 9"
            else:
                assert obtained == str(competency["marks_obtained"])
    assert cell(html, "CUST", "obtained") == "6" and cell(html, "CONF", "obtained") == "7"
    # The results delivery, with its state and (once the deliveries pages exist) a link.
    delivery = results_delivery(assessment)
    region = re.search(r'<section id="results-delivery"(.*?)</section>', html, re.S)[1]
    assert '<span class="badge pending">' in region
    assert f'href="{reverse("staff:delivery", args=[delivery.pk])}"' in region
    assert "Re-send results" not in region, "a viewer sees no button it can't use"


def test_a_16pf_trait_never_rated_is_shown_as_not_measured(viewer_client, world):
    html = viewer_client.get(f"/staff/roleplays/assessments/{world['open'].pk}/").content.decode()
    assert cell(html, "DOM", "obtained") == "not measured"
    assert "not started" in html and "No results have been queued" in html


def test_assessment_page_in_persian(viewer_client, world):
    viewer_client.post("/staff/language/", {"language": "fa", "next": "/staff/"})
    html = viewer_client.get(f"/staff/roleplays/assessments/{world['good'].pk}/").content.decode()
    assert 'dir="rtl"' in html
    assert cell(html, "CUST", "obtained") == "۶"
    assert "۹" in cell(html, "DOM", "obtained")
    assert "۱۴۰" in html  # Solar Hijri dates


def test_operator_resends_results_and_it_is_audited(operator_client, world):
    delivery = results_delivery(world["good"])
    Delivery.objects.filter(pk=delivery.pk).update(
        status="dead", attempt_count=8, next_attempt_at=None, last_error="HTTP 500"
    )
    url = f"/staff/roleplays/assessments/{world['good'].pk}/"
    html = operator_client.get(url).content.decode()
    assert "Re-send results" in html and '<span class="badge dead">' in html
    response = operator_client.post(f"{url}resend/", follow=True)
    assert response.redirect_chain == [(url, 302)]
    html = response.content.decode()
    assert "being sent again" in html
    delivery.refresh_from_db()
    assert delivery.status == "pending" and delivery.attempt_count == 0  # a fresh series
    entry = AuditEntry.objects.get(action="delivery.send_now")
    assert entry.actor_label == "operator@example.com"
    assert entry.target_type == "delivery" and entry.target_id == str(delivery.pk)
    assert entry.changes["status"] == ["dead", "pending"]


def test_resend_with_htmx_returns_the_delivery_region_and_the_message(operator_client, world):
    url = f"/staff/roleplays/assessments/{world['good'].pk}/resend/"
    response = operator_client.post(url, headers={"HX-Request": "true"})
    html = response.content.decode()
    assert response.status_code == 200
    assert '<section id="results-delivery"' in html
    assert 'id="messages"' in html and 'hx-swap-oob="true"' in html
    assert "being sent again" in html
    assert AuditEntry.objects.filter(action="delivery.send_now").count() == 1
    delivery = results_delivery(world["good"])
    assert delivery.next_attempt_at <= timezone.now()  # due now, not at its retry time


def test_resend_of_an_assessment_in_progress_says_there_is_nothing_to_send(operator_client, world):
    url = f"/staff/roleplays/assessments/{world['open'].pk}/"
    response = operator_client.post(f"{url}resend/", follow=True)
    assert "no results to send yet" in response.content.decode()
    assert not AuditEntry.objects.exists()


@pytest.mark.parametrize("who", ["viewer_client", "author_client", "outsider_client"])
def test_resend_is_refused_to_all_but_operators(request, who, world):
    client = request.getfixturevalue(who)
    delivery = results_delivery(world["good"])
    response = client.post(f"/staff/roleplays/assessments/{world['good'].pk}/resend/")
    assert response.status_code == 403
    assert not AuditEntry.objects.exists()
    assert Delivery.objects.get(pk=delivery.pk).next_attempt_at == delivery.next_attempt_at


def test_resend_needs_post_and_sign_in(client, operator_client, world):
    url = f"/staff/roleplays/assessments/{world['good'].pk}/resend/"
    assert operator_client.get(url).status_code == 405
    response = client.post(url)
    assert response.status_code == 302 and response["Location"].startswith("/staff/login/")


def test_pages_need_a_console_user(client, outsider_client, world):
    for url in (
        "/staff/roleplays/",
        f"/staff/roleplays/clusters/{world['cluster'].pk}/",
        f"/staff/roleplays/assessments/{world['good'].pk}/",
    ):
        assert client.get(url).status_code == 302
        assert outsider_client.get(url).status_code == 403


def test_delivery_region_polls_while_pending_and_stops_when_delivered(viewer_client, world):
    url = f"/staff/roleplays/assessments/{world['good'].pk}/"
    html = viewer_client.get(url).content.decode()
    region = re.search(r'<section id="results-delivery"[^>]*>', html)[0]
    assert 'hx-trigger="every 5s"' in region and f'hx-get="{url}"' in region
    # The poll gets the region alone (no scoring, no page around it).
    response = viewer_client.get(url, headers={"HX-Request": "true"})
    polled = response.content.decode()
    assert polled.lstrip().startswith('<section id="results-delivery"')
    assert "roleplay-result" not in polled and 'id="messages"' not in polled
    Delivery.objects.filter(pk=results_delivery(world["good"]).pk).update(
        status="delivered", attempt_count=1, delivered_at=timezone.now()
    )
    polled = viewer_client.get(url, headers={"HX-Request": "true"}).content.decode()
    assert '<span class="badge delivered">' in polled and "hx-trigger" not in polled
