"""The JSON Schemas of the roleplay contract: the seed's own examples pass, wrong payloads don't."""

import ast
import copy
import json
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from portal.roleplays import launch, schemas
from tests.factories import make_assessment, results_payload, roleplay_result

ROOT = Path(__file__).resolve().parents[2]
# The seed's examples, copied into the repository (tests read nothing outside it).
SEED_EXAMPLES = ROOT / "tests" / "fixtures" / "seed_000_roleplay_examples.json"


def seed_examples() -> list[dict]:
    """Every ```json block of the seed document (the Q3 integration guide), as written."""
    return json.loads(SEED_EXAMPLES.read_text(encoding="utf-8"))["examples"]


def schema_of(example: dict) -> str:
    """Which schema (and $defs entry) a seed example is an instance of."""
    if "auth_token" in example:
        return "assessment_launch_request"
    if "iat" in example:
        return "assessment_launch_request#auth_token_claims"
    if "redirect_url" in example:
        return "assessment_launch_request#success_response"
    detail = example.get("message", "") + example.get("detail", "")
    base = "cluster_metadata_sync" if "cluster metadata" in detail.lower() else "results_submission"
    return f"{base}#{'reply' if example['success'] else 'error_reply'}"


RESULTS = results_payload(
    [
        roleplay_result(
            roleplay_id="rp-3f8a1c52",
            competencies=[
                {
                    "competency_code": "CUST_FOCUS",
                    "competency_name": "Customer Focus",
                    "max_marks": 10,
                    "marks_obtained": 7.5,
                },
                {
                    "competency_code": "16PF_E",
                    "competency_name": "Dominance (16PF E)",
                    "max_marks": 10,
                    "marks_obtained": 6,
                },
            ],
        )
    ]
)

LAUNCH = {
    "user_id": "EMP_789",
    "user_name": "johndoe",
    "assessment_cluster_id": "b4bf406c-4f9",
    "auth_token": "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.e30.sig",
    "return_url": "https://q3.example.com/dashboard",
}


def invalid(name: str, payload) -> str:
    with pytest.raises(ValueError) as refused:
        schemas.validate(name, payload)
    return str(refused.value)


@pytest.mark.parametrize("name", schemas.NAMES)
def test_each_schema_is_valid_draft_2020_12_and_its_examples_pass(name):
    schema = schemas.schema(name)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    Draft202012Validator.check_schema(schema)
    assert schema["examples"], "each schema shows an example"
    for example in schema["examples"]:
        schemas.validate(name, example)
    for definition, subschema in schema.get("$defs", {}).items():
        for example in subschema.get("examples", []):
            schemas.validate(f"{name}#{definition}", example)


def test_every_example_of_the_seed_passes_its_schema():
    examples = seed_examples()
    assert len(examples) == 7
    names = [schema_of(example) for example in examples]
    assert sorted(names) == sorted(
        [
            "assessment_launch_request",
            "assessment_launch_request#auth_token_claims",
            "assessment_launch_request#success_response",
            "cluster_metadata_sync#reply",
            "cluster_metadata_sync#error_reply",
            "results_submission#reply",
            "results_submission#error_reply",
        ]
    )
    for example, name in zip(examples, names, strict=True):
        schemas.validate(name, example)


def _reaches_outside(source: str, depth: int) -> list[str]:
    """Where a test module's source names a place above the repository: a path literal that
    climbs out ("../…"), `parents[n]` past the repository's root for a module `depth` parts
    below it (tests/x/test_y.py: 3, whose parents[2] is the root), or a `.parent` chain as
    long, or any parent of ROOT."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            if node.value.startswith("..") and "/" in node.value:
                found.append(f"{node.lineno}: {node.value!r}")
        elif isinstance(node, ast.Subscript) and isinstance(node.value, ast.Attribute):
            index = node.slice
            if (
                node.value.attr == "parents"
                and isinstance(index, ast.Constant)
                and isinstance(index.value, int)
                and index.value >= depth
            ):
                found.append(f"{node.lineno}: parents[{index.value}]")
        elif isinstance(node, ast.Attribute) and node.attr == "parent":
            chain, inner = 1, node.value
            while isinstance(inner, ast.Attribute) and inner.attr == "parent":
                chain, inner = chain + 1, inner.value
            if chain > depth or (isinstance(inner, ast.Name) and inner.id == "ROOT"):
                found.append(f"{node.lineno}: .parent x{chain}")
    return found


def test_the_seed_examples_are_read_from_the_repository():
    """A checkout alone runs the tests: no test module reaches above the repository (the
    seeds' examples it needs are copied into tests/fixtures/)."""
    readers = {
        str(path.relative_to(ROOT)): places
        for path in (ROOT / "tests").rglob("*.py")
        if (
            places := _reaches_outside(
                path.read_text(encoding="utf-8"), len(path.relative_to(ROOT).parts)
            )
        )
    }
    assert readers == {}
    assert SEED_EXAMPLES.is_relative_to(ROOT)


@pytest.mark.parametrize(
    "source",
    [
        'open("../elsewhere/file.txt")',
        "HERE.parents[3]",
        "Path(__file__).parent.parent.parent.parent",
        'ROOT.parent / "elsewhere"',
    ],
)
def test_the_outside_check_finds_a_climbing_path(source):
    assert _reaches_outside(source, depth=3)


def test_the_outside_check_lets_the_repository_be():
    source = 'ROOT = Path(__file__).resolve().parents[2]\nopen("fixtures/a.json")'
    assert _reaches_outside(source, depth=3) == []


def test_launch_request():
    schemas.validate("assessment_launch_request", LAUNCH)
    schemas.validate(
        "assessment_launch_request",
        LAUNCH | {"results_url": "https://q3.example.com/api/receive-assessment-results"},
    )
    schemas.validate("assessment_launch_request", LAUNCH | {"results_url": None})
    schemas.validate("assessment_launch_request", LAUNCH | {"user_name": "", "extra": 1})

    missing = {k: v for k, v in LAUNCH.items() if k != "auth_token"}
    assert "'auth_token' is a required property" in invalid("assessment_launch_request", missing)
    message = invalid("assessment_launch_request", LAUNCH | {"user_id": ""})
    assert message.startswith("Not a valid assessment_launch_request payload: user_id: ")
    assert "user_id" in invalid("assessment_launch_request", LAUNCH | {"user_id": 789})
    assert "return_url" in invalid("assessment_launch_request", LAUNCH | {"return_url": None})


def test_results_submission():
    schemas.validate("results_submission", RESULTS)

    wrong = copy.deepcopy(RESULTS)
    wrong["roleplays"][0]["stakeholders"] = "3"
    assert "roleplays[0].stakeholders: '3' does not match" in invalid("results_submission", wrong)

    wrong = copy.deepcopy(RESULTS)
    del wrong["roleplays"][0]["competencies"][1]["marks_obtained"]
    assert "roleplays[0].competencies[1]: 'marks_obtained' is a required property" in invalid(
        "results_submission", wrong
    )

    for field, value in [("max_time", 20.5), ("time_taken", "12.5"), ("stakeholders", 2)]:
        wrong = copy.deepcopy(RESULTS)
        wrong["roleplays"][0][field] = value
        assert f"roleplays[0].{field}" in invalid("results_submission", wrong)

    wrong = copy.deepcopy(RESULTS) | {"score": 1}
    assert "Additional properties are not allowed ('score'" in invalid("results_submission", wrong)


def test_launch_errors_cover_every_code_the_api_answers():
    enum = schemas.schema("assessment_launch_errors")["properties"]["error_code"]["enum"]
    assert set(launch.ERROR_STATUS) <= set(enum)
    for code in enum:
        schemas.validate(
            "assessment_launch_errors", {"success": False, "error_code": code, "detail": "x"}
        )
    wrong = {"success": False, "error_code": "NOPE", "detail": "x"}
    assert "error_code" in invalid("assessment_launch_errors", wrong)
    wrong = {"success": True, "error_code": "INVALID_TOKEN", "detail": "x"}
    assert "success" in invalid("assessment_launch_errors", wrong)


def test_unknown_schema_or_definition_is_an_error():
    with pytest.raises(ValueError, match="No schema named 'nope'"):
        schemas.validate("nope", {})
    with pytest.raises(ValueError, match="has no definition 'nope'"):
        schemas.validate("results_submission#nope", {})


def test_many_errors_are_summed_up():
    message = invalid("results_submission", {"roleplays": [{}]})
    assert message.count(";") == 5 and message.endswith("more")


@pytest.mark.django_db
def test_the_results_the_portal_sends_for_the_demo_cluster_pass(django_capture_on_commit_callbacks):
    """A candidate takes the demo cluster choosing the best reply each time: the results put in
    the outbox are a valid results_submission, and the best replies earn full marks."""
    from integrations.models import Delivery
    from portal.partners.models import Partner
    from portal.roleplays import services
    from portal.roleplays.services import RoleplayContent
    from portal.roleplays.transfer import import_cluster

    fixture = ROOT / "portal" / "roleplays" / "fixtures" / "demo_cluster.json"
    cluster = import_cluster(json.loads(fixture.read_text(encoding="utf-8")))
    partner = Partner.objects.create(name="Q3", base_url="https://q3.example.com")
    partner.clusters.add(cluster)
    assessment = make_assessment(cluster, partner)
    with django_capture_on_commit_callbacks():  # the delivery task is not run here
        for roleplay in cluster.roleplays.order_by("position"):
            attempt = services.start_roleplay(assessment=assessment, roleplay=roleplay)
            content = RoleplayContent.load(roleplay)
            while True:
                state = services.progress(content, attempt)
                if state.current_turn is not None:
                    options = content.options[state.current_turn.pk]
                    best = max(options, key=lambda o: sum(o.marks.values()))
                    services.respond(attempt=attempt, option_id=best.pk)
                elif state.likert_pending:
                    services.rate(
                        attempt=attempt, values={item.pk: 4 for item in content.likert_items}
                    )
                else:
                    break

    delivery = Delivery.objects.get(kind="results_submission")
    payload = json.loads(delivery.payload)
    schemas.validate("results_submission", payload)
    marks = {
        c["competency_code"]: c["marks_obtained"]
        for roleplay in payload["roleplays"]
        for c in roleplay["competencies"]
    }
    # Ratings of 4: six statements give 4, four reverse-keyed give 2 → raw 32 → sten 6.
    assert marks == {
        "CUST_FOCUS": 10,
        "COMPOSURE": 10,
        "PROB_SOLV": 10,
        "CONFLICT": 10,
        "COACHING": 10,
        "16PF_E": 6,
    }
    assert [r["stakeholders"] for r in payload["roleplays"]] == ["02", "03"]
