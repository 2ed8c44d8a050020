"""The roleplay pages in the cluster's language: English by default, Persian right-to-left."""

import copy
import json
import re

import pytest
from django.conf import settings

from portal.roleplays.models import Cluster, LikertItem
from portal.roleplays.transfer import ClusterFormatError, export_cluster, import_cluster

pytestmark = pytest.mark.django_db
FIXTURE = settings.BASE_DIR / "portal" / "roleplays" / "fixtures" / "demo_cluster.json"


@pytest.fixture
def persian(world):
    Cluster.objects.filter(pk=world["cluster"].pk).update(language="fa")


def html_tag(page: str) -> str:
    return re.search(r"<html[^>]*>", page).group(0)


def finish_first_roleplay(candidate, options) -> None:
    candidate.post("/roleplay/rp-complaint/start/")
    for name in ("a1 good", "a2 good", "s1 good"):
        candidate.post("/roleplay/rp-complaint/respond/", {"option": options[name].pk})


def test_a_cluster_is_english_unless_told(world, candidate):
    assert world["cluster"].language == "en"
    page = candidate.get("/roleplay/").text
    assert html_tag(page) == '<html lang="en" dir="ltr">'
    assert "0 of 2 roleplays completed" in page


def test_persian_cluster_pages_are_persian_and_right_to_left(persian, candidate, world):
    overview = candidate.get("/roleplay/").text
    assert html_tag(overview) == '<html lang="fa" dir="rtl">'
    assert "0 از 2 ایفای نقش انجام شده است" in overview
    assert "این ارزیابی 2 ایفای نقش دارد." in overview and "باز کردن" in overview

    brief = candidate.get("/roleplay/rp-complaint/").text
    assert html_tag(brief) == '<html lang="fa" dir="rtl">'
    assert "شرح سناریو" in brief and "شروع (20 دقیقه)" in brief

    candidate.post("/roleplay/rp-complaint/start/")
    play = candidate.get("/roleplay/rp-complaint/").text
    assert "به Alex چه پاسخی می‌دهید؟" in play and "فرستادن پاسخ" in play
    assert "<summary>شرح سناریو" in play and "زمان باقی‌مانده" in play
    for english in ("Send reply", "How do you reply", "Brief", "Time left"):
        assert english not in play

    refused = candidate.post("/roleplay/rp-complaint/respond/", {}, HTTP_HX_REQUEST="true")
    assert "لطفاً یکی از پاسخ‌ها را انتخاب کنید." in refused.text, "htmx swaps speak it too"


def test_persian_likert_labels_and_refusals(persian, candidate, world):
    options = world["options"]
    finish_first_roleplay(candidate, options)
    candidate.post("/roleplay/rp-conflict/start/")
    candidate.post("/roleplay/rp-conflict/respond/", {"option": options["k1 good"].pk})
    page = candidate.get("/roleplay/rp-conflict/").text
    for label in ("کاملاً مخالفم", "مخالفم", "نه موافق، نه مخالف", "موافقم", "کاملاً موافقم"):
        assert f"<span>{label}</span>" in page
    assert "Strongly" not in page and "Agree" not in page
    item = LikertItem.objects.first()
    partial = candidate.post("/roleplay/rp-conflict/rate/", {f"item-{item.pk}": "4"})
    text = candidate.get(partial["Location"]).text
    assert "لطفاً به همهٔ عبارت‌ها امتیاز دهید (1 مورد مانده است)." in text
    bad = candidate.post("/roleplay/rp-conflict/rate/", {f"item-{item.pk}": "x"})
    assert "هر امتیاز از ۱ تا ۵ است." in candidate.get(bad["Location"]).text


def test_persian_thank_you_page(persian, candidate, world):
    options = world["options"]
    finish_first_roleplay(candidate, options)
    candidate.post("/roleplay/rp-conflict/start/")
    candidate.post("/roleplay/rp-conflict/respond/", {"option": options["k1 good"].pk})
    items = LikertItem.objects.order_by("position")
    candidate.post("/roleplay/rp-conflict/rate/", {f"item-{i.pk}": "3" for i in items})
    overview = candidate.get("/roleplay/").text
    assert "همهٔ ایفای نقش‌ها انجام شده است" in overview
    thanks = candidate.get("/roleplay/done/").text
    assert html_tag(thanks) == '<html lang="fa" dir="rtl">'
    assert "سپاسگزاریم" in thanks and "بازگشت به پورتال شما" in thanks
    assert "تا %(seconds)s ثانیه دیگر" in thanks, "the countdown's template for result.js"


def test_the_cluster_file_carries_the_language():
    demo = json.loads(FIXTURE.read_text(encoding="utf-8"))
    assert "language" not in demo, "English files stay as they were"
    assert "language" not in export_cluster(import_cluster(copy.deepcopy(demo)))
    document = {**demo, "cluster_id": "fa-copy", "language": "fa"}
    document = {key: document[key] for key in [*list(demo)[:5], "language", *list(demo)[5:]]}
    for roleplay in document["roleplays"]:
        roleplay["roleplay_id"] += "-fa"
    imported = import_cluster(copy.deepcopy(document))
    assert imported.language == "fa"
    exported = export_cluster(imported)
    assert exported == document and list(exported) == list(document), "after the description"
    with pytest.raises(ClusterFormatError, match="field 'language' must be one of 'en', 'fa'"):
        import_cluster(document | {"language": "de"})


def test_the_admin_edits_the_language(client, django_user_model, world):
    staff = django_user_model.objects.create_superuser("staff", "s@example.com", "pw-123456")
    client.force_login(staff)
    page = client.get(f"/admin/roleplays/cluster/{world['cluster'].pk}/change/").text
    assert '<select name="language"' in page and '<option value="fa">فارسی</option>' in page
