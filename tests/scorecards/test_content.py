"""Scorecard content as portal-scorecard/1: the bundled fixture, validation, round trip, the two
commands, the selectors and the admin."""

import copy
import io
import json
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from portal.scorecards.content import ScorecardFormatError, export_scorecard, load_scorecard
from portal.scorecards.models import Choice, Question, Recommendation, Scorecard, Section
from portal.scorecards.selectors import active_scorecard, definition, score_answers
from scoring.scorecard import score_section
from tests.factories import broken, set_at

pytestmark = pytest.mark.django_db

FIXTURE = Path(__file__).resolve().parents[2] / "portal/scorecards/fixtures/scorecard_v1.json"
KEYS = ["value_assurance", "customer_safe", "risk_compliance", "governance"]


def run(*args) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


# ---------------------------------------------------------------------------------------------
# The bundled content


def test_the_fixture_loads_as_the_active_version(scorecard):
    assert (scorecard.version, scorecard.is_active) == ("2026.3", True)
    sections = list(scorecard.sections.order_by("step"))
    assert [(s.step, s.key, s.api_key) for s in sections] == [
        (0, "value_assurance", "valueAssurance"),
        (1, "customer_safe", "customerSafe"),
        (2, "risk_compliance", "riskCompliance"),
        (3, "governance", "governance"),
    ]
    assert [float(s.weight) for s in sections] == [0.25, 0.35, 0.25, 0.15]
    for section in sections:
        qids = list(section.questions.order_by("position").values_list("qid", flat=True))
        assert len(qids) == 4, "the seed's example answers value_assurance_1..4 per step"
        assert qids == [f"{section.key}_{n}" for n in range(1, len(qids) + 1)]
        for question in section.questions.all():
            assert list(question.choices.values_list("letter", flat=True)) == list("ABCDE")
            assert all(0 <= c.points <= 25 for c in question.choices.all())


def test_each_section_scores_from_0_to_100(scorecard):
    for section in definition(scorecard).sections:
        best = {q.qid: max(q.choices, key=lambda c: c.points).letter for q in section.questions}
        worst = {q.qid: min(q.choices, key=lambda c: c.points).letter for q in section.questions}
        assert score_section(section, best).score == 100
        assert score_section(section, worst).score == 0


def test_the_content_is_complete(document):
    assert [(b["key"], b["min_score"]) for b in document["bands"]] == [
        ("champion", 80),
        ("builder", 60),
        ("risk_zone", 40),
        ("alert", 20),
        ("crisis", 0),
    ]
    builder = document["bands"][1]["description"]
    assert builder == "Good foundation in place with specific areas for improvement"
    for key in KEYS:
        rules = [r for r in document["recommendations"] if r["section"] == key]
        assert len(rules) >= 3
        covered = {s for r in rules for s in range(r["min_score"], r["max_score"] + 1)}
        assert covered == set(range(101)), f"{key}: every score gets a recommendation"
        assert any(r["priority"] == "high" and r["min_score"] == 0 for r in rules)
        assert all(len(r["action_items"]) >= 3 for r in rules)
    assert 4 <= len(document["resources"]) <= 6
    assert {r["type"] for r in document["resources"]} == {"guide", "template", "checklist"}


# ---------------------------------------------------------------------------------------------
# Round trip and loading


def test_export_of_a_load_is_the_fixture(document):
    exported = export_scorecard(load_scorecard(copy.deepcopy(document)))
    assert exported == document
    assert json.dumps(exported, ensure_ascii=False, indent=2) + "\n" == FIXTURE.read_text(
        encoding="utf-8"
    )


def test_a_duplicate_version_is_refused(scorecard, document):
    with pytest.raises(ScorecardFormatError, match="version '2026.3' already exists"):
        load_scorecard(document)
    assert Scorecard.objects.count() == 1


def test_a_new_version_becomes_the_only_active_one(scorecard, document):
    document["version"] = "2027.1"
    newer = load_scorecard(document)
    scorecard.refresh_from_db()
    assert newer.is_active and not scorecard.is_active
    assert active_scorecard() == newer
    kept = load_scorecard(document | {"version": "2027.2"}, activate=False)
    assert not kept.is_active and active_scorecard() == newer


INVALID = [
    (set_at(["format"], "portal-cluster/1"), "Field 'format' must be 'portal-scorecard/1'"),
    (set_at(["version"], "2026 final"), "Scorecard: field 'version' must use letters"),
    (set_at(["extra"], 1), "Scorecard: unknown field 'extra'."),
    (lambda d: d.pop("title"), "Scorecard: field 'title' is missing."),
    (
        set_at(["briefing", "url"], "javascript:alert(1)"),
        "Briefing: field 'url' must be an http(s)",
    ),
    (set_at(["sections", 0, "weight"], 0.3), "the weights must add up to 1, they add up to 1.05"),
    (set_at(["sections", 0, "weight"], "25%"), "Section 'value_assurance': field 'weight' must be"),
    (
        lambda d: d["sections"].reverse(),
        "Sections: the contract's four steps are value_assurance, customer_safe",
    ),
    (set_at(["sections", 1, "api_key"], "customer_safe"), "field 'api_key' must be 'customerSafe'"),
    (
        set_at(["sections", 0, "questions", 1, "id"], "value_assurance_7"),
        "question 2: field 'id' must be 'value_assurance_2'",
    ),
    (
        lambda d: d["sections"][2]["questions"][0]["choices"].pop(),
        "Question risk_compliance_1: field 'choices' must be five answers with the letters A, B",
    ),
    (
        set_at(["sections", 3, "questions", 0, "choices", 0, "points"], 3),
        "Question governance_1: one answer must be worth 0 points",
    ),
    (
        set_at(["sections", 3, "questions", 0, "choices", 4, "points"], -1),
        "Question governance_1, answer E: field 'points' must be a whole number from 0 to 25",
    ),
    (set_at(["bands", 4, "key"], "doom"), "Bands: the keys must be exactly champion, builder"),
    (set_at(["bands", 1, "min_score"], 85), "Bands: list them from the highest min_score"),
    (set_at(["bands", 4, "min_score"], 5), "Bands: the lowest band must start at 0"),
    (set_at(["recommendations", 0, "section"], "ops"), "Recommendation 1: field 'section' must be"),
    (set_at(["recommendations", 1, "min_score"], 90), "Recommendation 2: min_score 90 is above"),
    (set_at(["recommendations", 2, "priority"], "urgent"), "Recommendation 3: field 'priority'"),
    (set_at(["recommendations", 0, "action_items"], ["ok", ""]), "every action item must be"),
    (set_at(["resources", 0, "type"], "video"), "Resource 1: field 'type' must be one of guide"),
]


@pytest.mark.parametrize(("change", "message"), INVALID)
def test_invalid_content_is_refused_with_a_clear_message(document, change, message):
    with pytest.raises(ScorecardFormatError) as error:
        load_scorecard(broken(document, change))
    assert message in error.value.message
    assert not Scorecard.objects.exists() and not Question.objects.exists()


def test_a_failure_while_writing_leaves_nothing_behind(document, monkeypatch):
    def fail(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(Recommendation.objects, "bulk_create", fail)
    with pytest.raises(RuntimeError):
        load_scorecard(document)
    assert not Scorecard.objects.exists() and not Choice.objects.exists()


# ---------------------------------------------------------------------------------------------
# Commands


def test_load_command_loads_the_fixture_and_twice_is_a_no_op():
    out = run("load_scorecard")
    assert out.strip() == (
        "Loaded scorecard version 2026.3 (active): 4 sections, 16 questions, "
        "12 recommendation rules."
    )
    Section.objects.filter(key="governance").update(name="Edited by staff")
    out = run("load_scorecard")
    assert out.strip() == "Scorecard version 2026.3 is already loaded; nothing to do."
    assert Scorecard.objects.count() == 1
    assert Section.objects.get(key="governance").name == "Edited by staff"


def test_load_command_reports_invalid_files(tmp_path, document):
    path = tmp_path / "bad.json"
    document["sections"][0]["weight"] = 0.5
    path.write_text(json.dumps(document), encoding="utf-8")
    with pytest.raises(CommandError, match="the weights must add up to 1"):
        run("load_scorecard", str(path))
    path.write_text("{", encoding="utf-8")
    with pytest.raises(CommandError, match="is not valid JSON"):
        run("load_scorecard", str(path))


def test_load_command_can_leave_a_version_inactive(scorecard, tmp_path, document):
    path = tmp_path / "next.json"
    path.write_text(json.dumps(document | {"version": "2027.1"}), encoding="utf-8")
    assert "(inactive)" in run("load_scorecard", str(path), "--inactive")
    assert active_scorecard() == scorecard


def test_export_command_writes_the_fixture_back(scorecard, tmp_path):
    path = tmp_path / "out.json"
    assert run("export_scorecard", "2026.3", "-o", str(path)).strip() == (
        f"Exported scorecard version 2026.3 to {path}."
    )
    assert path.read_bytes() == FIXTURE.read_bytes()
    assert json.loads(run("export_scorecard", "2026.3")) == json.loads(FIXTURE.read_text())
    with pytest.raises(CommandError, match="No scorecard version '9'"):
        run("export_scorecard", "9")


# ---------------------------------------------------------------------------------------------
# Selectors


def test_active_scorecard_reads_everything_in_a_few_queries(scorecard):
    with CaptureQueriesContext(connection) as queries:
        active = active_scorecard()
        result = score_answers(active, {"governance_1": "E"}, email=None, contact=None)
    assert len(queries) <= 7
    assert result.breakdown["governance"] == 25


def test_no_active_scorecard_is_none(scorecard):
    Scorecard.objects.update(is_active=False)
    assert active_scorecard() is None


def test_score_answers_uses_the_content_and_the_contact(scorecard):
    d = definition(scorecard)
    best = {q.qid: "E" for s in d.sections for q in s.questions}
    champion = score_answers(scorecard, best, email="ceo@acme.example", contact=None)
    assert champion.total == 100 and champion.band.key == "champion"
    assert champion.lead_quality == "basic" and not champion.qualified_for_briefing
    assert {r.priority for r in champion.recommendations} == {"low"}

    weak = best | {f"governance_{n}": "B" for n in range(1, 5)}
    result = score_answers(
        scorecard,
        weak,
        email="ceo@acme.example",
        contact={"firstName": "John", "lastName": "Doe", "company": "Acme Corp", "phone": None},
    )
    assert result.breakdown == {
        "valueAssurance": 100,
        "customerSafe": 100,
        "riskCompliance": 100,
        "governance": 24,
    }
    assert result.total == 89 and result.band.description.startswith("Mature")
    assert result.qualified_for_briefing and result.lead_quality == "executive_briefing_qualified"
    first = result.recommendations[0]
    assert (first.section, first.priority) == ("governance", "high")
    with pytest.raises(ValueError, match="'F' is not one of"):
        score_answers(scorecard, {"governance_1": "F"}, email=None, contact=None)


# ---------------------------------------------------------------------------------------------
# Admin


def test_admin_pages_of_the_content_render(staff_client, scorecard):
    section = scorecard.sections.get(key="customer_safe")
    question = section.questions.first()
    pages = [
        "/admin/scorecards/scorecard/",
        f"/admin/scorecards/scorecard/{scorecard.pk}/change/",
        "/admin/scorecards/section/",
        f"/admin/scorecards/section/{section.pk}/change/",
        "/admin/scorecards/question/",
        f"/admin/scorecards/question/{question.pk}/change/",
    ]
    for page in pages:
        response = staff_client.get(page)
        assert response.status_code == 200, page
    # A version comes whole from a file or a copy: the admin has no "add" for one.
    assert staff_client.get("/admin/scorecards/scorecard/add/").status_code == 403
    page = staff_client.get(f"/admin/scorecards/scorecard/{scorecard.pk}/change/").text
    assert "Implement Version Control for AI Models" in page
    assert "Book Your Executive AI Briefing" in page


def test_admin_action_switches_the_active_version(staff_client, scorecard, document):
    newer = load_scorecard(document | {"version": "2027.1"}, activate=False)
    response = staff_client.post(
        "/admin/scorecards/scorecard/",
        {"action": "make_active", "_selected_action": [newer.pk]},
        follow=True,
    )
    assert "Version 2027.1 is now active." in response.text
    assert active_scorecard() == newer
    assert Scorecard.objects.filter(is_active=True).count() == 1
