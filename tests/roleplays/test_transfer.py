"""Clusters as portal-cluster/1 files: round trip, validation, replacement, the two commands,
and authoring the same content in the admin."""

import copy
import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.forms import modelform_factory

from integrations.models import Delivery
from portal.partners.models import Partner
from portal.roleplays.models import (
    Cluster,
    Competency,
    LikertItem,
    Option,
    Roleplay,
    Stakeholder,
    Turn,
)
from portal.roleplays.transfer import (
    ClusterFormatError,
    export_cluster,
    import_cluster,
    validate,
)
from tests.factories import make_assessment

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = ROOT / "portal" / "roleplays" / "fixtures" / "demo_cluster.json"


@pytest.fixture
def document() -> dict:
    """The demo cluster file, as a fresh dict each time."""
    return json.loads(FIXTURE.read_text(encoding="utf-8"))


@pytest.fixture
def cluster(document) -> Cluster:
    return import_cluster(document)


@pytest.fixture
def partner(cluster) -> Partner:
    """A partner allowed to launch the demo cluster (a Q3)."""
    partner = Partner.objects.create(
        name="Q3 Corp",
        jwt_secret="s" * 48,
        base_url="https://q3.example.com",
        allowed_hosts="q3.example.com",
    )
    partner.clusters.add(cluster)
    return partner


def run(*args, **options) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out, stderr=io.StringIO(), **options)
    return out.getvalue()


def write(tmp_path: Path, data: dict, name: str = "cluster.json") -> str:
    path = tmp_path / name
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return str(path)


def rp(data: dict, n: int) -> dict:
    return data["roleplays"][n - 1]


def turn(data: dict, key: str) -> dict:
    for roleplay in data["roleplays"]:
        for stakeholder in roleplay["stakeholders"]:
            for t in stakeholder["turns"]:
                if t["key"] == key:
                    return t
    raise KeyError(key)


def pf16(data: dict) -> dict:
    return next(c for c in rp(data, 2)["competencies"] if c["kind"] == "16pf")


# ---------------------------------------------------------------------------------------------
# Round trip and what gets stored


def test_export_of_an_import_is_the_fixture(document):
    cluster = import_cluster(copy.deepcopy(document))
    exported = export_cluster(cluster)
    assert exported == document
    # Byte for byte as export_cluster writes it, so the fixture can be re-exported after edits.
    text = json.dumps(exported, ensure_ascii=False, indent=2) + "\n"
    assert text == FIXTURE.read_text(encoding="utf-8")


def test_the_example_of_the_format_document_imports_and_round_trips():
    text = (ROOT / "docs" / "roleplay-format.md").read_text(encoding="utf-8")
    example = json.loads(re.search(r"```json\n(.*?)```", text, re.S).group(1))
    assert export_cluster(import_cluster(copy.deepcopy(example))) == example


def test_demo_fixture_is_the_content_the_brief_asks_for(document):
    assert document["cluster_name"] == "Customer Leadership Assessment"
    assert document["cluster_type"] == "Leadership"
    complaint, conflict = document["roleplays"]
    assert (complaint["roleplay_name"], complaint["total_time_minutes"]) == (
        "Escalated Customer Complaint",
        20,
    )
    assert (conflict["roleplay_name"], conflict["total_time_minutes"]) == ("Team Conflict", 25)
    assert [c["code"] for c in complaint["competencies"]] == [
        "CUST_FOCUS",
        "COMPOSURE",
        "PROB_SOLV",
    ]
    assert [c["code"] for c in conflict["competencies"]] == ["CONFLICT", "COACHING", "16PF_E"]
    trait = pf16(document)
    assert trait["name"] == "Dominance (16PF E)" and trait["max_score"] == 10
    assert 8 <= len(trait["likert_items"]) <= 10
    assert any(item["reverse"] for item in trait["likert_items"])
    assert not all(item["reverse"] for item in trait["likert_items"])
    for roleplay in document["roleplays"]:
        for stakeholder in roleplay["stakeholders"]:
            targets = {o["next"] for t in stakeholder["turns"] for o in t["options"]} - {None}
            assert len(targets) >= 2, f"{stakeholder['name']}: the talk branches"
            for t in stakeholder["turns"]:
                assert 3 <= len(t["options"]) <= 4
                totals = [sum(o["marks"].values()) for o in t["options"]]
                assert max(totals) > 0 and min(totals) <= 0, f"{t['key']} rewards judgement"
    # The best reply is not always in the same place.
    best = {
        max(range(len(t["options"])), key=lambda i: sum(t["options"][i]["marks"].values()))
        for roleplay in document["roleplays"]
        for stakeholder in roleplay["stakeholders"]
        for t in stakeholder["turns"]
    }
    assert len(best) >= 3


def test_import_stores_everything_in_file_order(cluster, document):
    assert cluster.cluster_id == document["cluster_id"]
    complaint, conflict = Roleplay.objects.filter(cluster=cluster).order_by("position")
    assert (complaint.position, conflict.position) == (1, 2)
    assert complaint.roleplay_id == "rp-3f8a1c52"
    dana, jordan = Stakeholder.objects.filter(roleplay=complaint).order_by("position")
    assert (dana.name, jordan.name) == ("Dana Whitfield", "Jordan Lee")
    opening = Turn.objects.filter(stakeholder=dana).order_by("position").first()
    assert opening.key == "dana_open"
    options = list(Option.objects.filter(turn=opening).order_by("position"))
    assert [o.next_turn.key for o in options] == [
        o["next"] for o in turn(document, "dana_open")["options"]
    ]
    assert all(o.next_turn.stakeholder_id == dana.pk for o in options)
    trait = Competency.objects.get(roleplay=conflict, code="16PF_E")
    assert trait.kind == "16pf"
    assert trait.norm_table == pf16(document)["norm_table"]
    assert LikertItem.objects.filter(competency=trait).count() == len(
        pf16(document)["likert_items"]
    )
    assert Option.objects.filter(turn__stakeholder__roleplay__cluster=cluster).count() == sum(
        len(t["options"])
        for r in document["roleplays"]
        for s in r["stakeholders"]
        for t in s["turns"]
    )


def test_ids_are_generated_when_the_file_has_none(document):
    del document["cluster_id"]
    for roleplay in document["roleplays"]:
        del roleplay["roleplay_id"]
    cluster = import_cluster(document)
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{3}", cluster.cluster_id)
    ids = list(cluster.roleplays.values_list("roleplay_id", flat=True))
    assert len(ids) == 2 and all(re.fullmatch(r"rp-[0-9a-f]{8}", i) for i in ids)
    again = import_cluster(json.loads(FIXTURE.read_text(encoding="utf-8")) | {"cluster_id": None})
    assert again.pk != cluster.pk, "null is 'no id' too: a new cluster"
    assert Cluster.objects.count() == 2


def test_defaults_for_optional_fields(document):
    del document["description"], document["is_active"]
    stakeholder = rp(document, 1)["stakeholders"][0]
    del stakeholder["brief"]
    option = stakeholder["turns"][-1]["options"][0]
    del option["marks"], option["next"]
    del pf16(document)["max_score"]
    for item in pf16(document)["likert_items"]:
        item.pop("reverse")
    cluster = import_cluster(document)
    assert cluster.description == "" and cluster.is_active is True
    exported = export_cluster(cluster)
    assert pf16(exported)["max_score"] == 10
    assert rp(exported, 1)["stakeholders"][0]["turns"][-1]["options"][0]["marks"] == {}


# ---------------------------------------------------------------------------------------------
# Validation: every error names its place and field, and nothing is written


def set_(path: str, value):
    """A change that sets data[...] at a dotted path (numbers index lists)."""

    def change(data):
        *parents, last = path.split(".")
        node = data
        for part in parents:
            node = node[int(part)] if part.isdigit() else node[part]
        if last.isdigit():
            node[int(last)] = value
        else:
            node[last] = value

    return change


def drop(path: str):
    def change(data):
        *parents, last = path.split(".")
        node = data
        for part in parents:
            node = node[int(part)] if part.isdigit() else node[part]
        del node[last]

    return change


def on_turn(key: str, edit):
    return lambda data: edit(turn(data, key))


def on_pf16(edit):
    return lambda data: edit(pf16(data))


RP1 = 'Roleplay 1 ("Escalated Customer Complaint")'
RP2 = 'Roleplay 2 ("Team Conflict")'
DANA = f'{RP1}, stakeholder 1 ("Dana Whitfield")'
JORDAN = f'{RP1}, stakeholder 2 ("Jordan Lee")'
TRAIT = f"{RP2}, competency 3 (16PF_E)"

INVALID = [
    pytest.param(drop("format"), "Field 'format' is missing", id="no-format"),
    pytest.param(set_("format", "portal-exam/1"), "must be 'portal-cluster/1'", id="format"),
    pytest.param(set_("colour", "red"), "Cluster: unknown field 'colour'.", id="unknown-field"),
    pytest.param(drop("cluster_name"), "Cluster: field 'cluster_name' is missing.", id="name"),
    pytest.param(set_("cluster_type", " "), "'cluster_type' must be a non-empty", id="type"),
    pytest.param(set_("cluster_id", "has space"), "'cluster_id' must use only", id="id"),
    pytest.param(set_("is_active", 1), "'is_active' must be true or false", id="active"),
    pytest.param(set_("roleplays", []), "'roleplays' must be a non-empty list", id="no-rp"),
    pytest.param(
        set_("roleplays.0.total_time_minutes", 0),
        f"{RP1}: field 'total_time_minutes' must be a whole number of minutes, "
        "from 1 to 2147483647; got 0.",
        id="time-zero",
    ),
    pytest.param(
        set_("roleplays.0.total_time_minutes", 20.5), "'total_time_minutes' must be a whole"
    ),
    pytest.param(set_("roleplays.1.roleplay_id", "rp-3f8a1c52"), "is already used by", id="rpid"),
    pytest.param(set_("roleplays.0.scenario", ""), f"{RP1}: field 'scenario' must be a non-empty"),
    pytest.param(
        set_("roleplays.0.competencies.1.code", "CUST_FOCUS"),
        f"{RP1}, competency 2 (CUST_FOCUS): code 'CUST_FOCUS' is used twice",
        id="dup-code",
    ),
    pytest.param(set_("roleplays.0.competencies.0.kind", "mbti"), "'kind' must be 'sjt' or '16pf'"),
    pytest.param(
        set_("roleplays.0.competencies.0.max_score", 0),
        f"{RP1}, competency 1 (CUST_FOCUS): field 'max_score' must be a number greater than 0",
        id="max-zero",
    ),
    pytest.param(set_("roleplays.0.competencies.0.max_score", True), "greater than 0, got True"),
    pytest.param(drop("roleplays.0.competencies.0.max_score"), "'max_score' is missing"),
    pytest.param(
        set_("roleplays.0.competencies.0.likert_items", [{"statement": "x"}]),
        "field 'likert_items' is only for 16pf competencies",
        id="sjt-likert",
    ),
    pytest.param(
        set_("roleplays.0.competencies.0.norm_table", [1, 2]),
        "field 'norm_table' is only for 16pf",
    ),
    pytest.param(
        on_pf16(lambda c: c.update(norm_table=c["norm_table"][:8])),
        f"{TRAIT}: field 'norm_table' must be a list of 9 numbers",
        id="norms-8",
    ),
    pytest.param(on_pf16(lambda c: c.pop("norm_table")), "must be a list of 9 numbers"),
    pytest.param(
        on_pf16(lambda c: c.update(norm_table=[19, 22, 25, 28, 28, 34, 37, 40, 43])),
        f"{TRAIT}: field 'norm_table' must be in ascending order",
        id="norms-order",
    ),
    pytest.param(
        on_pf16(lambda c: c.update(norm_table=[19, 22, 25, 28, 31, 34, 37, 40, "43"])),
        "must be a list of 9 numbers",
    ),
    pytest.param(
        on_pf16(lambda c: c.update(norm_table=[19, 22, 25, 28, 31, 34, 37, 40, 50])),
        "must lie within the raw scores its 10 Likert items can give (10 to 50",
        id="norms-range",
    ),
    pytest.param(
        on_pf16(lambda c: c.update(likert_items=[])),
        f"{TRAIT}: field 'likert_items' must be a non-empty list of Likert items",
        id="no-likert",
    ),
    pytest.param(on_pf16(lambda c: c.pop("likert_items")), "'likert_items' must be a non-empty"),
    pytest.param(
        on_pf16(lambda c: c.update(max_score=5)),
        f"{TRAIT}: field 'max_score' of a 16pf competency must be 10",
        id="pf16-max",
    ),
    pytest.param(
        on_pf16(lambda c: c["likert_items"][3].update(statement="")),
        f"{TRAIT}, Likert item 4: field 'statement' must be a non-empty string.",
    ),
    pytest.param(
        on_pf16(lambda c: c["likert_items"][3].update(statement="\u200b")),
        f"{TRAIT}, Likert item 4: field 'statement' must be a non-empty string.",
        id="invisible-statement",
    ),
    pytest.param(
        on_turn("dana_open", lambda t: t["options"][0]["marks"].update(EMPATHY=2)),
        f"{DANA}, turn 'dana_open', option 1: field 'marks' names unknown competency "
        "'EMPATHY' (this roleplay's competencies are CUST_FOCUS, COMPOSURE, PROB_SOLV).",
        id="unknown-code",
    ),
    pytest.param(
        on_turn("maya_open", lambda t: t["options"][1]["marks"].update({"16PF_E": 2})),
        f"{RP2}, stakeholder 1 (\"Maya Okafor\"), turn 'maya_open', option 2: field 'marks' "
        "gives marks to 16pf competency '16PF_E', which is measured by its Likert items only.",
        id="marks-on-16pf",
    ),
    pytest.param(
        on_turn("dana_open", lambda t: t["options"][0]["marks"].update(COMPOSURE=11)),
        "'COMPOSURE' must be a number from -10 to 10 (its max_score), got 11.",
        id="mark-too-big",
    ),
    pytest.param(
        on_turn("dana_open", lambda t: t["options"][0]["marks"].update(COMPOSURE="1")),
        "must be a number from -10 to 10",
    ),
    pytest.param(
        on_turn("dana_open", lambda t: t["options"][0].update(marks=[1])),
        "field 'marks' must be an object",
    ),
    pytest.param(
        on_turn("dana_open", lambda t: t["options"][2].update(next="dana_nowhere")),
        f"{DANA}, turn 'dana_open', option 3: field 'next' points to unknown turn 'dana_nowhere'.",
        id="next-unknown",
    ),
    pytest.param(
        on_turn("dana_open", lambda t: t["options"][2].update(next="jordan_facts")),
        f"{DANA}, turn 'dana_open', option 3: field 'next' points to turn 'jordan_facts' of "
        'stakeholder 2 ("Jordan Lee"); a conversation can only continue with the same '
        "stakeholder.",
        id="next-other-stakeholder",
    ),
    pytest.param(
        on_turn("dana_close", lambda t: t["options"][0].update(next="dana_open")),
        "field 'next' points back to turn 'dana_open', making a loop (dana_open → ",
        id="loop",
    ),
    pytest.param(
        on_turn("dana_close", lambda t: t["options"][0].update(next="dana_close")),
        "making a loop",
        id="self-loop",
    ),
    pytest.param(
        lambda data: data["roleplays"][0]["stakeholders"][1]["turns"].append(
            {
                "key": "jordan_extra",
                "message": "Anything else?",
                "options": [
                    {"text": "No.", "marks": {}, "next": None},
                    {"text": "Yes.", "marks": {}, "next": None},
                ],
            }
        ),
        f"{JORDAN}, turn 'jordan_extra': no option leads to this turn",
        id="unreachable",
    ),
    pytest.param(
        on_turn("jordan_process", lambda t: t.update(options=t["options"][:1])),
        f"{JORDAN}, turn 'jordan_process': field 'options' must be a list of at least 2 "
        "of options (the candidate must have a choice).",
        id="one-option",
    ),
    pytest.param(
        on_turn("jordan_process", lambda t: t.update(key="dana_open")),
        f"{JORDAN}, turn 'dana_open': key 'dana_open' is already used by a turn of "
        'stakeholder 1 ("Dana Whitfield"); turn keys are unique within a roleplay.',
        id="dup-key",
    ),
    pytest.param(
        on_turn("dana_close", lambda t: t.update(key="bad key")),
        "field 'key' must use only",
    ),
    pytest.param(
        on_turn("dana_close", lambda t: t["options"][0].update(next=3)),
        "field 'next' must be a turn key or null",
    ),
    pytest.param(
        on_turn("dana_close", lambda t: t["options"][0].update(score=1)),
        f"{DANA}, turn 'dana_close', option 1: unknown field 'score'.",
    ),
    pytest.param(
        set_("roleplays.0.stakeholders.1.name", "Dana Whitfield"),
        "another stakeholder of this roleplay is already named 'Dana Whitfield'",
    ),
    pytest.param(set_("roleplays.0.stakeholders.1.turns", []), "'turns' must be a non-empty"),
    pytest.param(
        lambda data: [
            o["marks"].pop("COMPOSURE", None)
            for s in rp(data, 1)["stakeholders"]
            for t in s["turns"]
            for o in t["options"]
        ],
        f"{RP1}, competency 2 (COMPOSURE): no option gives it positive marks",
        id="never-marked",
    ),
    pytest.param(lambda data: data["roleplays"].append("x"), "Roleplay 3 must be a JSON object."),
]


@pytest.mark.parametrize(("change", "message"), INVALID)
def test_import_refuses_an_invalid_document(document, change, message):
    change(document)
    with pytest.raises(ClusterFormatError) as refused:
        import_cluster(document)
    assert message in refused.value.message
    assert Cluster.objects.count() == 0
    assert Turn.objects.count() == 0


def test_a_long_conversation_is_checked_without_recursion(document):
    turns = [
        {
            "key": f"t{n}",
            "message": f"Turn {n}",
            "options": [
                {"text": "On", "marks": {"CUST_FOCUS": 1}, "next": f"t{n + 1}"},
                {"text": "Stop", "marks": {}, "next": None},
            ],
        }
        for n in range(3000)
    ]
    turns[-1]["options"][0]["next"] = None
    rp(document, 1)["stakeholders"][0]["turns"] = turns
    spec = validate(document)
    assert len(spec.roleplays[0].stakeholders[0].turns) == 3000

    turns[-1]["options"][0]["next"] = "t0"
    with pytest.raises(ClusterFormatError, match=r"making a loop \(t0 → t1 → t2 → "):
        validate(document)


def test_import_refuses_what_is_not_a_document():
    for data in ([], "x", None):
        with pytest.raises(ClusterFormatError, match="must be a JSON object"):
            import_cluster(data)


def test_a_roleplay_id_of_another_cluster_is_refused_and_nothing_is_written(cluster, document):
    document["cluster_id"] = "other-001"
    with pytest.raises(ClusterFormatError) as refused:
        import_cluster(document)
    assert refused.value.message.startswith(
        f"{RP1}: roleplay_id 'rp-3f8a1c52' already belongs to cluster '4c7e21d9-a3f'"
    )
    assert list(Cluster.objects.all()) == [cluster]


# ---------------------------------------------------------------------------------------------
# Replacing a cluster's content


def test_reimport_replaces_the_content_while_no_assessment_exists(cluster, partner, document):
    document["cluster_name"] = "Customer Leadership Assessment v2"
    rp(document, 1)["total_time_minutes"] = 30
    del document["roleplays"][1]
    old_turns = set(Turn.objects.values_list("pk", flat=True))

    replaced = import_cluster(document)

    assert replaced.pk == cluster.pk
    assert replaced.cluster_name == "Customer Leadership Assessment v2"
    assert export_cluster(replaced) == document
    assert Roleplay.objects.count() == 1
    assert not Turn.objects.filter(pk__in=old_turns).exists()
    assert list(partner.clusters.all()) == [replaced], "partners keep the cluster"


def test_reimport_is_refused_once_an_assessment_exists(cluster, partner, document):
    before = export_cluster(cluster)
    make_assessment(cluster, partner)
    document["cluster_name"] = "Changed"
    rp(document, 1)["total_time_minutes"] = 30

    with pytest.raises(ClusterFormatError) as refused:
        import_cluster(document)

    assert refused.value.message.startswith(
        "Cluster '4c7e21d9-a3f' (Customer Leadership Assessment) already has assessments, so its "
        "content can't be replaced"
    )
    cluster.refresh_from_db()
    assert export_cluster(cluster) == before


def test_import_onto_a_named_cluster(cluster, document):
    del document["cluster_id"]
    document["cluster_name"] = "Renamed"
    replaced = import_cluster(document, cluster=cluster)
    assert (replaced.pk, replaced.cluster_id, replaced.cluster_name) == (
        cluster.pk,
        "4c7e21d9-a3f",
        "Renamed",
    )
    document["cluster_id"] = "someone-else"
    with pytest.raises(ClusterFormatError, match="The file is for cluster 'someone-else'"):
        import_cluster(document, cluster=cluster)


# ---------------------------------------------------------------------------------------------
# The commands


def test_import_command_prints_the_cluster_id(tmp_path, document):
    out = run("import_cluster", write(tmp_path, document))
    assert out.strip() == "4c7e21d9-a3f"
    assert Cluster.objects.get().cluster_name == "Customer Leadership Assessment"


def test_import_command_from_stdin_with_json_summary(monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(FIXTURE.read_bytes())))
    summary = json.loads(run("import_cluster", "-", "--json"))
    assert summary == {
        "cluster_id": "4c7e21d9-a3f",
        "cluster_name": "Customer Leadership Assessment",
        "created": True,
        "roleplays": ["rp-3f8a1c52", "rp-b41e7d09"],
        "metadata_sent_to": [],
    }


def test_import_command_sends_changed_metadata_to_the_partners(tmp_path, partner, document):
    summary = json.loads(run("import_cluster", write(tmp_path, document), "--json"))
    assert summary["created"] is False
    assert summary["metadata_sent_to"] == [], "same metadata: nothing to send"
    assert not Delivery.objects.exists()

    rp(document, 2)["total_time_minutes"] = 30
    summary = json.loads(run("import_cluster", write(tmp_path, document), "--json"))

    assert summary["metadata_sent_to"] == ["Q3 Corp"]
    delivery = Delivery.objects.get()
    assert delivery.kind == "cluster_metadata_sync"
    assert delivery.target_url == "https://q3.example.com/api/receive-cluster-metadata"


def test_import_command_refuses_invalid_files(tmp_path, document):
    del rp(document, 1)["scenario"]
    with pytest.raises(CommandError, match=re.escape(f"{RP1}: field 'scenario' is missing.")):
        run("import_cluster", write(tmp_path, document))
    bad = tmp_path / "bad.json"
    bad.write_text("{nope", encoding="utf-8")
    with pytest.raises(CommandError, match="is not valid JSON"):
        run("import_cluster", str(bad))
    with pytest.raises(CommandError, match="Cannot read"):
        run("import_cluster", str(tmp_path / "missing.json"))
    assert not Cluster.objects.exists()


def test_import_refusal_exits_1_without_a_traceback(tmp_path):
    path = write(tmp_path, {"format": "portal-cluster/1"})
    result = subprocess.run(
        [sys.executable, "manage.py", "import_cluster", path],
        cwd=ROOT,
        capture_output=True,
        text=True,
        # Its own empty SQLite database, whatever the caller's DATABASE_URL names: the file is
        # refused before anything is read or written.
        env={k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "HUEY_REDIS_URL"}}
        | {"PORTAL_VAR_DIR": str(tmp_path)},
        check=False,
    )
    assert result.returncode == 1
    assert result.stderr.strip() == "CommandError: Cluster: field 'cluster_name' is missing."
    assert "Traceback" not in result.stderr


def test_export_command_writes_the_fixture_back(cluster, tmp_path):
    assert json.loads(run("export_cluster", cluster.cluster_id)) == json.loads(
        FIXTURE.read_text(encoding="utf-8")
    )
    path = tmp_path / "out.json"
    out = run("export_cluster", cluster.cluster_id, "-o", str(path))
    assert (
        out.strip() == f"Exported cluster 4c7e21d9-a3f (Customer Leadership Assessment) to {path}."
    )
    assert path.read_bytes() == FIXTURE.read_bytes()


def test_export_command_refuses_an_unknown_cluster(tmp_path):
    with pytest.raises(CommandError, match="No cluster with cluster_id 'nope'"):
        run("export_cluster", "nope")


# ---------------------------------------------------------------------------------------------
# Authoring in the admin (the other way to write the same content)


@pytest.fixture
def staff_client(client, django_user_model):
    staff = django_user_model.objects.create_superuser("staff", "staff@example.com", "pw-123456")
    client.force_login(staff)
    return client


def test_admin_pages_of_the_content_render(staff_client, cluster, partner):
    roleplay = cluster.roleplays.order_by("position").last()
    stakeholder = roleplay.stakeholders.first()
    first_turn = stakeholder.turns.first()
    trait = roleplay.competencies.get(code="16PF_E")
    pages = [
        "/admin/roleplays/cluster/",
        f"/admin/roleplays/cluster/{cluster.pk}/change/",
        "/admin/roleplays/cluster/add/",
        f"/admin/roleplays/roleplay/{roleplay.pk}/change/",
        f"/admin/roleplays/stakeholder/{stakeholder.pk}/change/",
        f"/admin/roleplays/turn/{first_turn.pk}/change/",
        f"/admin/roleplays/competency/{trait.pk}/change/",
        "/admin/roleplays/assessment/",
        "/admin/partners/partner/",
        f"/admin/partners/partner/{partner.pk}/change/",
        "/admin/partners/partner/add/",
    ]
    for page in pages:
        assert staff_client.get(page).status_code == 200, page
    turn_page = staff_client.get(f"/admin/roleplays/turn/{first_turn.pk}/change/").text
    select = re.search(r'<select name="options-0-next_turn".*?</select>', turn_page, re.S)
    offered = {int(v) for v in re.findall(r'<option value="(\d+)"', select.group(0))}
    assert offered == set(
        stakeholder.turns.exclude(pk=first_turn.pk).values_list("pk", flat=True)
    ), "an option leads on to another turn of the same stakeholder"
    assert staff_client.get("/admin/roleplays/assessment/add/").status_code == 403


def test_admin_never_shows_the_partner_jwt_secret(staff_client, partner):
    page = staff_client.get(f"/admin/partners/partner/{partner.pk}/change/").text
    assert partner.jwt_secret not in page
    assert "set (48 bytes)" in page
    assert partner.webhook_secret in page


def partner_form(partner: Partner, **changes) -> dict:
    return {
        "name": partner.name,
        "is_active": "on",
        "base_url": partner.base_url,
        "aio_callback_url": "",
        "allowed_hosts": partner.allowed_hosts,
        "clusters": [c.pk for c in partner.clusters.all()],
        "new_jwt_secret": "",
    } | changes


def test_admin_replaces_or_keeps_the_jwt_secret(staff_client, partner):
    url = f"/admin/partners/partner/{partner.pk}/change/"
    response = staff_client.post(url, partner_form(partner, new_jwt_secret="short"))
    assert response.status_code == 200 and "Too short" in response.text

    staff_client.post(url, partner_form(partner, allowed_hosts="q3.example.com,b.example.com"))
    partner.refresh_from_db()
    assert partner.jwt_secret == "s" * 48, "an empty field keeps the secret"
    assert partner.allowed_hosts == "q3.example.com,b.example.com"

    staff_client.post(url, partner_form(partner, new_jwt_secret="n" * 40))
    partner.refresh_from_db()
    assert partner.jwt_secret == "n" * 40


def test_admin_sends_metadata_to_a_partner_given_a_cluster(staff_client, cluster):
    response = staff_client.post(
        "/admin/partners/partner/add/",
        {
            "name": "New Q3",
            "is_active": "on",
            "base_url": "https://new-q3.example.com",
            "aio_callback_url": "",
            "allowed_hosts": "",
            "clusters": [cluster.pk],
            "new_jwt_secret": "k" * 40,
        },
    )
    assert response.status_code == 302
    partner = Partner.objects.get(name="New Q3")
    assert partner.jwt_secret == "k" * 40
    delivery = Delivery.objects.get()
    assert delivery.target_url == "https://new-q3.example.com/api/receive-cluster-metadata"
    assert json.loads(delivery.payload)["cluster_id"] == cluster.cluster_id


def test_admin_refuses_marks_on_a_16pf_trait(staff_client, cluster):
    first_turn = Turn.objects.get(key="maya_open")
    options = list(first_turn.options.order_by("position"))
    data = {
        "key": first_turn.key,
        "stakeholder": first_turn.stakeholder_id,
        "position": first_turn.position,
        "message": first_turn.message,
        "options-TOTAL_FORMS": len(options),
        "options-INITIAL_FORMS": len(options),
        "options-MIN_NUM_FORMS": 0,
        "options-MAX_NUM_FORMS": 1000,
    }
    for i, option in enumerate(options):
        data |= {
            f"options-{i}-id": option.pk,
            f"options-{i}-turn": first_turn.pk,
            f"options-{i}-position": option.position,
            f"options-{i}-text": option.text,
            f"options-{i}-marks": json.dumps(option.marks),
            f"options-{i}-next_turn": option.next_turn_id or "",
        }
    data["options-0-marks"] = json.dumps({"16PF_E": 3})
    response = staff_client.post(f"/admin/roleplays/turn/{first_turn.pk}/change/", data)
    assert response.status_code == 200
    assert "16PF_E is a 16PF trait" in response.text
    data["options-0-marks"] = json.dumps({"CONFLICT": 1})
    response = staff_client.post(f"/admin/roleplays/turn/{first_turn.pk}/change/", data)
    assert response.status_code == 302
    assert Option.objects.get(pk=options[0].pk).marks == {"CONFLICT": 1}


def test_admin_sends_metadata_when_an_edit_changes_it(staff_client, cluster, partner):
    competency = Competency.objects.get(code="CUST_FOCUS")
    url = f"/admin/roleplays/competency/{competency.pk}/change/"
    form = {
        "roleplay": competency.roleplay_id,
        "position": competency.position,
        "code": competency.code,
        "name": competency.name,
        "kind": "sjt",
        "max_score": "10",
        "norm_table": "[]",
        "likert_items-TOTAL_FORMS": 0,
        "likert_items-INITIAL_FORMS": 0,
        "likert_items-MIN_NUM_FORMS": 0,
        "likert_items-MAX_NUM_FORMS": 1000,
    }
    assert staff_client.post(url, form).status_code == 302
    assert not Delivery.objects.exists(), "nothing partners see changed"

    assert staff_client.post(url, form | {"max_score": "8"}).status_code == 302
    delivery = Delivery.objects.get()
    assert delivery.target_url == "https://q3.example.com/api/receive-cluster-metadata"
    sent = json.loads(delivery.payload)["roleplays"][0]["competencies"][0]
    assert sent == {"id": "CUST_FOCUS", "name": "Customer Focus", "max_score": 8}

    response = staff_client.post(url, form | {"kind": "16pf", "norm_table": "[1, 2]"})
    assert "A 16PF norm table is 9 raw-score cut-offs." in response.text


def metadata_sent() -> list[dict]:
    return [
        json.loads(d.payload)
        for d in Delivery.objects.filter(kind="cluster_metadata_sync").order_by("pk")
    ]


def test_admin_bulk_delete_of_roleplays_sends_the_metadata_once(staff_client, cluster, partner):
    """ "Delete selected" on the roleplay list tells the partner, as deleting one does."""
    first, *others = cluster.roleplays.order_by("position")
    response = staff_client.post(
        "/admin/roleplays/roleplay/",
        {"action": "delete_selected", "_selected_action": [first.pk], "post": "yes"},
    )
    assert response.status_code == 302
    (sent,) = metadata_sent()
    assert [r["roleplay_id"] for r in sent["roleplays"]] == [r.roleplay_id for r in others]
    assert sent["number_of_roleplays"] == len(others)

    Delivery.objects.all().delete()
    response = staff_client.post(
        "/admin/roleplays/roleplay/",
        {"action": "delete_selected", "_selected_action": [r.pk for r in others], "post": "yes"},
    )
    assert response.status_code == 302
    (sent,) = metadata_sent()
    assert sent["number_of_roleplays"] == 0 and sent["roleplays"] == []


def test_admin_bulk_delete_of_competencies_sends_the_metadata(staff_client, cluster, partner):
    competency = Competency.objects.get(code="CUST_FOCUS")
    response = staff_client.post(
        "/admin/roleplays/competency/",
        {"action": "delete_selected", "_selected_action": [competency.pk], "post": "yes"},
    )
    assert response.status_code == 302
    (sent,) = metadata_sent()
    codes = {c["id"] for r in sent["roleplays"] for c in r["competencies"]}
    assert "CUST_FOCUS" not in codes and codes


def test_admin_single_delete_of_a_roleplay_sends_the_metadata(staff_client, cluster, partner):
    first = cluster.roleplays.order_by("position").first()
    response = staff_client.post(f"/admin/roleplays/roleplay/{first.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    (sent,) = metadata_sent()
    assert first.roleplay_id not in {r["roleplay_id"] for r in sent["roleplays"]}


def test_admin_bulk_delete_of_clusters_sends_nothing(staff_client, cluster, partner):
    response = staff_client.post(
        "/admin/roleplays/cluster/",
        {"action": "delete_selected", "_selected_action": [cluster.pk], "post": "yes"},
    )
    assert response.status_code == 302
    assert not Cluster.objects.exists()
    assert metadata_sent() == [], "the contract has no message for a deleted cluster"


def test_the_admin_keeps_a_roleplays_time_within_the_formats_bounds(cluster):
    # The admin stored 10^12 minutes: the export was then refused by the import, and the
    # candidate's Start was a 500 (the deadline past the year 9999).
    roleplay = cluster.roleplays.first()
    form_class = modelform_factory(type(roleplay), fields=["total_time_minutes"])
    refused = form_class({"total_time_minutes": 10**12}, instance=roleplay)
    assert not refused.is_valid()
    assert refused.errors["total_time_minutes"] == [
        "Ensure this value is less than or equal to 2147483647."
    ]
    roleplay.total_time_minutes = 2**31 - 1  # the format's own upper bound, accepted by both
    roleplay.full_clean()
    roleplay.total_time_minutes = 2**31
    with pytest.raises(ValidationError):
        roleplay.full_clean()
