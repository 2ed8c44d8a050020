"""Issue 12, "Everywhere": a favicon on every page (and at /favicon.ico), and the sandbox's
links named after the exams and the cluster they lead to, not after their numbers."""

import json
import re
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.templatetags.static import static

from portal.sandbox.models import ReceivedWebhook

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def demo(live_server, settings) -> dict:
    """The demo, with the sandbox calling the API of a live portal (as it does in a demo)."""
    settings.PUBLIC_BASE_URL = live_server.url
    out = StringIO()
    call_command("seed_demo", "--json", stdout=out)
    return json.loads(out.getvalue())


def links(html: str, list_id: str) -> list[tuple[str, str]]:
    """(href, text) of the links of the list with this id."""
    block = re.search(rf'<ul[^>]*id="{list_id}"[^>]*>(.*?)</ul>', html, re.S)
    assert block, f"no #{list_id} on the page"
    return re.findall(r'<a href="([^"]+)"[^>]*>([^<]+)</a>', block.group(1))


def test_every_page_names_the_favicon_and_favicon_ico_leads_to_it(client):
    icon = static("favicon.svg")
    page = client.get("/staff/login/")
    assert f'<link rel="icon" href="{icon}" type="image/svg+xml">' in page.text
    response = client.get("/favicon.ico")
    assert response.status_code == 302
    assert response["Location"] == icon


def test_the_favicon_is_a_small_svg_of_the_portals_mark(client):
    from django.contrib.staticfiles import finders

    path = finders.find("favicon.svg")
    assert path, "static/favicon.svg is missing"
    svg = Path(path).read_text(encoding="utf-8")
    assert svg.startswith("<svg") and "<title>Assessment Portal</title>" in svg
    assert len(svg.encode()) < 1024


def test_the_sandbox_names_the_exams_and_the_cluster(client, demo):
    cluster = demo["clusters"][0]
    # Q3 knows a cluster's name once its metadata arrives (a webhook; here stored directly).
    ReceivedWebhook.objects.create(
        kind="cluster_metadata_sync",
        webhook_id="msg_test",
        payload={"cluster_id": cluster["cluster_id"], "cluster_name": "Leadership at work"},
        signature_valid=True,
    )

    index = client.get("/sandbox/").text
    exams = links(index, "exam-links")
    assert exams == [(f"/sandbox/exams/{e['eurl']}/", e["title"]) for e in demo["exams"]]
    assert not re.search(r">\s*Exam \d+\s*<", index)
    assert links(index, "cluster-links") == [
        (f"/sandbox/q3/?cluster_id={cluster['cluster_id']}", "Leadership at work")
    ]

    # The Q3 page offers the cluster by name, chosen when the link said so.
    dashboard = client.get("/sandbox/q3/", {"cluster_id": cluster["cluster_id"]}).text
    assert (
        f'<option value="{cluster["cluster_id"]}" selected>Leadership at work</option>' in dashboard
    )


def test_a_cluster_without_metadata_yet_is_shown_by_its_id(client, demo):
    cluster_id = demo["clusters"][0]["cluster_id"]
    ReceivedWebhook.objects.filter(kind="cluster_metadata_sync").delete()
    dashboard = client.get("/sandbox/q3/").text
    assert f'<option value="{cluster_id}">{cluster_id}</option>' in dashboard


def test_an_exam_the_api_does_not_describe_keeps_its_number_and_says_why(client, demo, settings):
    settings.PUBLIC_BASE_URL = "http://127.0.0.1:9"  # nothing listens on the discard port
    index = client.get("/sandbox/").text
    for exam in demo["exams"]:
        assert f"Exam number {exam['eurl']}</a>" in index
    assert "its title is unavailable" in index
