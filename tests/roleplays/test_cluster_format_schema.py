"""The cluster file format declared once (portal/roleplays/format.py): its published JSON Schema
is what the models give and refuses what the importer refuses; every field's problem is named
with its place; the first problem a reader meets is the one reported; the admin keeps the same
rules for what it edits."""

import copy
import json
import re
from pathlib import Path
from typing import get_args

import pytest
from jsonschema import Draft202012Validator

from portal.roleplays.admin import CompetencyForm, OptionForm
from portal.roleplays.format import (
    ClusterFile,
    CompetencyIn,
    Kind,
    LikertItemIn,
    OptionIn,
    RoleplayIn,
    StakeholderIn,
    TurnIn,
)
from portal.roleplays.models import Cluster, Competency, Option
from portal.roleplays.transfer import ClusterFormatError, import_cluster, validate

ROOT = Path(__file__).resolve().parents[2]
SCHEMA_FILE = ROOT / "schemas" / "roleplay-cluster.schema.json"
FIXTURE = ROOT / "portal" / "roleplays" / "fixtures" / "demo_cluster.json"

RP1 = 'Roleplay 1 ("Escalated Customer Complaint")'
DANA = f'{RP1}, stakeholder 1 ("Dana Whitfield")'
TRAIT = 'Roleplay 2 ("Team Conflict"), competency 3 (16PF_E)'
# An object of each model in the demo cluster, how messages name it, and how they name it
# once the field it is named by is not usable.
PLACES = [
    (ClusterFile, (), "Cluster", (None, None)),
    (RoleplayIn, ("roleplays", 0), RP1, ("roleplay_name", "Roleplay 1")),
    (
        CompetencyIn,
        ("roleplays", 1, "competencies", 2),
        TRAIT,
        ("code", TRAIT.removesuffix(" (16PF_E)")),
    ),
    (
        LikertItemIn,
        ("roleplays", 1, "competencies", 2, "likert_items", 0),
        f"{TRAIT}, Likert item 1",
        (None, None),
    ),
    (StakeholderIn, ("roleplays", 0, "stakeholders", 0), DANA, ("name", f"{RP1}, stakeholder 1")),
    (
        TurnIn,
        ("roleplays", 0, "stakeholders", 0, "turns", 0),
        f"{DANA}, turn 'dana_open'",
        ("key", f"{DANA}, turn 1"),
    ),
    (
        OptionIn,
        ("roleplays", 0, "stakeholders", 0, "turns", 0, "options", 0),
        f"{DANA}, turn 'dana_open', option 1",
        (None, None),
    ),
]


@pytest.fixture
def document() -> dict:
    return json.loads(FIXTURE.read_text(encoding="utf-8"))


def at(document: dict, path: tuple) -> dict:
    node = document
    for part in path:
        node = node[part]
    return node


def refusal(document: dict) -> str:
    with pytest.raises(ClusterFormatError) as refused:
        import_cluster(document)
    return refused.value.message


# --- the JSON Schema --------------------------------------------------------------------------


def test_the_schema_accepts_the_demo_cluster_and_the_example_of_the_docs(document):
    validator = Draft202012Validator(json.loads(SCHEMA_FILE.read_text(encoding="utf-8")))
    text = (ROOT / "docs" / "roleplay-format.md").read_text(encoding="utf-8")
    example = json.loads(re.search(r"```json\n(.*?)```", text, re.S).group(1))
    assert list(validator.iter_errors(document)) == []
    assert list(validator.iter_errors(example)) == []
    # What import tolerates: a 16pf trait's max_score null, an sjt's empty 16pf fields.
    trait(document)["max_score"] = None
    document["roleplays"][0]["competencies"][0] |= {"norm_table": [], "likert_items": []}
    assert list(validator.iter_errors(document)) == []
    validate(document)
    assert "roleplay-cluster.schema.json" in text, "the docs link the schema"


def trait(data: dict) -> dict:
    return data["roleplays"][1]["competencies"][2]


def option(data: dict) -> dict:
    return data["roleplays"][0]["stakeholders"][0]["turns"][0]["options"][0]


REFUSED_BY_BOTH = [
    pytest.param(lambda d: d.update(colour="red"), id="unknown-field"),
    pytest.param(lambda d: d.update(format="portal-cluster/2"), id="format"),
    pytest.param(lambda d: d.update(cluster_name="  "), id="blank"),
    pytest.param(lambda d: d.update(cluster_name="\u200b\u200c"), id="invisible"),
    pytest.param(lambda d: d.update(cluster_type="x" * 101), id="too-long"),
    pytest.param(lambda d: d.update(cluster_id="has space"), id="id"),
    pytest.param(lambda d: d.update(language="de"), id="language"),
    pytest.param(lambda d: d["roleplays"][0].update(total_time_minutes=20.5), id="minutes"),
    pytest.param(lambda d: d["roleplays"][0]["competencies"][0].pop("max_score"), id="sjt-max"),
    pytest.param(lambda d: d["roleplays"][0]["competencies"][0].update(max_score=0), id="max-0"),
    pytest.param(lambda d: trait(d).pop("norm_table"), id="16pf-norms"),
    pytest.param(lambda d: trait(d).update(max_score=5), id="16pf-max"),
    pytest.param(lambda d: trait(d)["likert_items"][0].update(reverse="yes"), id="reverse"),
    pytest.param(lambda d: option(d)["marks"].update(CUST_FOCUS="3"), id="mark-text"),
    pytest.param(lambda d: option(d).update(next=""), id="next-empty"),
    pytest.param(lambda d: option(d).update(text=""), id="blank-option"),
    pytest.param(lambda d: trait(d).update(likert_items=[]), id="no-likert"),
    pytest.param(lambda d: d.update(cluster_name="a\x00b"), id="nul"),
    pytest.param(lambda d: d.update(description="a\x1bb"), id="escape"),
]


@pytest.mark.parametrize("change", REFUSED_BY_BOTH)
def test_the_schema_refuses_what_the_importer_refuses(document, change):
    """An editor checking a file against the schema flags what import would refuse."""
    validator = Draft202012Validator(json.loads(SCHEMA_FILE.read_text(encoding="utf-8")))
    change(document)
    assert list(validator.iter_errors(document)), "the schema lets it through"
    refusal(document)


# --- the declaration and its messages ---------------------------------------------------------


def test_the_kinds_are_the_models():
    assert set(get_args(Kind)) == set(Competency.Kind.values)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("path", "where", "name"),
    [
        pytest.param(
            path,
            unnamed if name == naming else where,
            name,
            id=f"{model.__name__}.{name}",
        )
        for model, path, where, (naming, unnamed) in PLACES
        for name in model.model_fields
    ],
)
def test_every_field_is_refused_with_its_place_and_its_name(document, path, where, name):
    at(document, path)[name] = {"not": ["a", "valid", "value"]}
    message = refusal(document)
    assert f"'{name}'" in message
    assert message.startswith("Field 'format'" if name == "format" else f"{where}: ")
    assert not Cluster.objects.exists()


@pytest.mark.django_db
def test_the_first_problem_in_reading_order_is_reported(document):
    document["roleplays"][1]["colour"] = "red"
    document["roleplays"][0]["scenario"] = " "
    document["roleplays"][0]["total_time_minutes"] = 0
    assert refusal(document) == (
        f"{RP1}: field 'total_time_minutes' must be a whole number of minutes, "
        "from 1 to 2147483647; got 0."
    )
    document["roleplays"][0]["zz"] = document["roleplays"][0]["aa"] = 1
    assert refusal(document) == f"{RP1}: unknown field 'aa', 'zz'.", "all of them, sorted"
    document.pop("cluster_name")
    assert refusal(document) == "Cluster: field 'cluster_name' is missing."
    document["format"] = "portal-exam/1"
    assert refusal(document).startswith("Field 'format' must be 'portal-cluster/1'")


@pytest.mark.django_db
def test_a_control_character_is_refused_with_its_place_and_code(document):
    document["roleplays"][0]["stakeholders"][0]["brief"] = "Calm\x00"
    assert refusal(document) == (
        f"{DANA}: field 'brief' must not contain control characters (U+0000)."
    )
    document["roleplays"][0]["stakeholders"][0]["brief"] = "Calm,\r\n\tthen firm."
    assert import_cluster(document).roleplays.get(position=1).stakeholders.get(
        position=1
    ).brief == ("Calm,\r\n\tthen firm."), "line breaks and tabs are text"


@pytest.mark.django_db
def test_a_list_too_short_is_reported_before_its_items(document):
    turns = document["roleplays"][0]["stakeholders"][0]["turns"]
    turns[0]["options"] = ["not an option"]
    assert refusal(document) == (
        f"{DANA}, turn 'dana_open': field 'options' must be a list of at least 2 of options "
        "(the candidate must have a choice)."
    )


@pytest.mark.django_db
def test_a_number_too_large_for_the_database_is_refused(document):
    document["roleplays"][0]["competencies"][0]["max_score"] = 10**400
    assert "field 'max_score' must be a number greater than 0" in refusal(document)
    option(document)["marks"] = {"CUST_FOCUS": float("nan")}
    document["roleplays"][0]["competencies"][0]["max_score"] = 10
    assert "'CUST_FOCUS' must be a number from -10 to 10 (its max_score), got nan." in refusal(
        document
    )


@pytest.mark.django_db
def test_marks_and_numbers_are_stored_as_written(document):
    option(document)["marks"] = {"CUST_FOCUS": 3, "COMPOSURE": 1.5}
    cluster = import_cluster(copy.deepcopy(document))
    stored = Option.objects.get(
        turn__key="dana_open", position=1, turn__stakeholder__roleplay__cluster=cluster
    )
    assert stored.marks == {"CUST_FOCUS": 3, "COMPOSURE": 1.5}
    assert type(stored.marks["CUST_FOCUS"]) is int


# --- the admin keeps the rules of the format for what it edits --------------------------------


def option_form(option: Option, marks: dict) -> OptionForm:
    data = {"turn": option.turn_id, "position": option.position, "text": option.text}
    return OptionForm(data | {"marks": json.dumps(marks), "next_turn": ""}, instance=option)


@pytest.mark.django_db
def test_the_admin_refuses_marks_the_file_would_refuse(document):
    import_cluster(document)
    first = Option.objects.get(turn__key="dana_open", position=1)

    form = option_form(first, {"CUST_FOCUS": 11})
    assert form.errors["marks"] == [
        "The marks of CUST_FOCUS must be a number from -10 to 10 (its max_score)."
    ]
    assert option_form(first, {"CUST_FOCUS": True}).errors["marks"] == form.errors["marks"]
    assert option_form(first, {"EMPATHY": 1}).errors["marks"] == [
        "Unknown competency 'EMPATHY' (this roleplay has CUST_FOCUS, COMPOSURE, PROB_SOLV)."
    ]
    assert option_form(first, {"CUST_FOCUS": -10, "COMPOSURE": 2.5}).is_valid()


@pytest.mark.django_db
def test_the_admin_refuses_an_sjt_competency_out_of_nothing(document):
    import_cluster(document)
    competency = Competency.objects.get(code="CUST_FOCUS")
    data = {
        "roleplay": competency.roleplay_id,
        "position": competency.position,
        "code": competency.code,
        "name": competency.name,
        "kind": "sjt",
        "norm_table": "[]",
    }
    form = CompetencyForm(data | {"max_score": "0"}, instance=competency)
    assert form.errors["max_score"] == ["The most marks must be greater than 0."]
    assert CompetencyForm(data | {"max_score": "12"}, instance=competency).is_valid()


@pytest.mark.django_db
def test_the_admin_refuses_ids_with_characters_the_format_refuses(client, django_user_model):
    staff = django_user_model.objects.create_superuser("staff", "staff@example.com", "pw-123456")
    client.force_login(staff)
    form = {
        "cluster_id": "has space",
        "cluster_name": "New",
        "cluster_type": "Sales",
        "description": "",
        "language": "en",
        "is_active": "on",
        "roleplays-TOTAL_FORMS": 0,
        "roleplays-INITIAL_FORMS": 0,
        "roleplays-MIN_NUM_FORMS": 0,
        "roleplays-MAX_NUM_FORMS": 1000,
    }
    response = client.post("/admin/roleplays/cluster/add/", form)
    assert response.status_code == 200
    assert "Use only letters, digits, &#x27;.&#x27;, &#x27;_&#x27; and &#x27;-&#x27;" in (
        response.text
    )
    assert not Cluster.objects.exists()
    assert (
        client.post("/admin/roleplays/cluster/add/", form | {"cluster_id": "new-1"}).status_code
        == 302
    )
    assert Cluster.objects.get().cluster_id == "new-1"
