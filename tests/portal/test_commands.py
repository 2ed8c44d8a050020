"""The operator's management commands: seed_demo, import/export_exam, create/revoke tokens."""

import io
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError

from portal.customers.models import ClientToken, Customer, hash_token
from portal.exams.models import Exam, Question
from portal.exams.services import launch_quiz
from portal.exams.transfer import export_exam, import_exam
from portal.sandbox.models import ExamCustomerAccount
from tests.factories import broken, free_port, set_at, stop, written_items

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "portal" / "exams" / "fixtures"
EN_FIXTURE = FIXTURES / "demo_exam_en.json"
FA_FIXTURE = FIXTURES / "demo_exam_fa.json"


def run(*args, **options) -> str:
    out = io.StringIO()
    options.setdefault("stderr", io.StringIO())
    call_command(*args, stdout=out, **options)
    return out.getvalue()


def load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def write(tmp_path: Path, data: dict, name: str = "exam.json") -> str:
    path = tmp_path / name
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return str(path)


def counts() -> dict[str, int]:
    return {
        "customers": Customer.objects.count(),
        "tokens": ClientToken.objects.count(),
        "exams": Exam.objects.count(),
        "questions": Question.objects.count(),
        "accounts": ExamCustomerAccount.objects.count(),
        "users": get_user_model().objects.count(),
    }


@pytest.fixture
def customer() -> Customer:
    return Customer.objects.create(name="Client Co")


@pytest.fixture
def another_customer() -> Customer:
    return Customer.objects.create(name="Other Co")


@pytest.fixture(autouse=True)
def no_admin_password(monkeypatch):
    monkeypatch.delenv("DEMO_ADMIN_PASSWORD", raising=False)
    monkeypatch.delenv("DEMO_STAFF_PASSWORD", raising=False)


# ---------------------------------------------------------------------------------------------
# seed_demo


@pytest.mark.django_db
def test_seed_demo_twice_changes_nothing():
    first = json.loads(run("seed_demo", "--json"))
    before = counts()
    account_before = ExamCustomerAccount.objects.get(pk=1)

    second = json.loads(run("seed_demo", "--json"))

    assert counts() == before
    assert before["customers"] == 1
    assert before["exams"] == 2
    assert before["tokens"] == 1
    assert before["accounts"] == 1
    assert second == first
    account = ExamCustomerAccount.objects.get(pk=1)
    assert account.client_token == account_before.client_token
    assert account.updated_at == account_before.updated_at


@pytest.mark.django_db
def test_seed_demo_json_describes_a_working_setup(settings, capsys):
    settings.PUBLIC_BASE_URL = "https://portal.example.com"
    out = run("seed_demo", "--json")

    summary = json.loads(out)  # the whole of stdout is one JSON object...
    assert capsys.readouterr().out == ""  # ...and nothing is printed around it
    customer = Customer.objects.get(name="Demo Academy")
    demo = summary["customer"]
    assert demo["name"] == "Demo Academy"
    assert demo["signing_secret"] == customer.signing_secret
    assert demo["allowed_callback_hosts"] == ["portal.example.com", "127.0.0.1", "localhost"]
    token = ClientToken.authenticate(demo["client_token"])
    assert token is not None
    assert token.customer == customer
    assert token.label == "sandbox"

    assert [exam["language"] for exam in summary["exams"]] == ["en", "fa"]
    assert [exam["title"] for exam in summary["exams"]] == [
        load(EN_FIXTURE)["exam"]["title"],
        load(FA_FIXTURE)["exam"]["title"],
    ]
    eurls = [exam["eurl"] for exam in summary["exams"]]
    assert [Exam.objects.get(pk=eurl, customer=customer).questions.count() for eurl in eurls] == [
        24,
        20,
    ]
    assert summary["urls"] == {
        "sandbox": "https://portal.example.com/sandbox/",
        "api_docs": "https://portal.example.com/api/docs",
        "admin": "https://portal.example.com/admin/",
        "staff": "https://portal.example.com/staff/",
    }
    assert summary["staff_users"] == []  # none without DEMO_STAFF_PASSWORD

    account = ExamCustomerAccount.current()
    assert account.customer_name == "Demo Academy"
    assert account.client_token == demo["client_token"]
    assert account.signing_secret == customer.signing_secret
    assert account.exam_eurls == eurls


@pytest.mark.django_db
def test_seed_demo_text_output_lists_credentials_and_urls():
    out = run("seed_demo")

    account = ExamCustomerAccount.current()
    assert "Demo Academy" in out
    assert account.client_token in out
    assert account.signing_secret in out
    for eurl in account.exam_eurls:
        assert f"/sandbox/exams/{eurl}/" in out
    assert "/api/docs" in out
    assert "/admin/" in out
    assert "DEMO_ADMIN_PASSWORD" in out


@pytest.mark.django_db
def test_seed_demo_replaces_a_token_that_no_longer_authenticates():
    first = json.loads(run("seed_demo", "--json"))
    ClientToken.authenticate(first["customer"]["client_token"]).revoke()

    second = json.loads(run("seed_demo", "--json"))

    assert second["customer"]["client_token"] != first["customer"]["client_token"]
    assert ClientToken.authenticate(second["customer"]["client_token"]) is not None
    assert ExamCustomerAccount.current().client_token == second["customer"]["client_token"]
    assert second["exams"] == first["exams"]
    assert Exam.objects.count() == 2


@pytest.mark.django_db
def test_seed_demo_keeps_an_existing_exam_with_the_same_title():
    customer = Customer.objects.create(name="Demo Academy")
    data = load(EN_FIXTURE)
    data["exam"]["questions"] = data["exam"]["questions"][:3]
    data["exam"]["number_of_question"] = 3  # a bank smaller than the draw is refused
    mine = import_exam(data, customer=customer)

    summary = json.loads(run("seed_demo", "--json"))

    assert summary["exams"][0]["eurl"] == mine.pk
    assert mine.questions.count() == 3
    assert Exam.objects.filter(customer=customer).count() == 2


@pytest.mark.django_db
def test_seed_demo_creates_the_admin_only_with_a_password(monkeypatch):
    run("seed_demo")
    assert not get_user_model().objects.filter(username="admin").exists()

    monkeypatch.setenv("DEMO_ADMIN_PASSWORD", "a long demo password")
    run("seed_demo")
    run("seed_demo")

    admin = get_user_model().objects.get(username="admin")
    assert admin.is_staff
    assert admin.is_superuser
    assert admin.check_password("a long demo password")


# ---------------------------------------------------------------------------------------------
# seed_demo: the roleplay side (demo cluster, the sandbox's Q3 as a partner)

CLUSTER_FIXTURE = ROOT / "portal" / "roleplays" / "fixtures" / "demo_cluster.json"


def roleplay_counts() -> dict[str, int]:
    from integrations.models import Delivery
    from portal.partners.models import Partner
    from portal.roleplays.models import Cluster, Roleplay, Turn

    return {
        "partners": Partner.objects.count(),
        "clusters": Cluster.objects.count(),
        "roleplays": Roleplay.objects.count(),
        "turns": Turn.objects.count(),
        "deliveries": Delivery.objects.count(),
    }


@pytest.mark.django_db
def test_seed_demo_sets_up_the_roleplay_partner_and_cluster_once():
    from integrations.models import Delivery
    from portal.partners.models import Partner

    first = json.loads(run("seed_demo", "--json"))
    before = roleplay_counts()
    second = json.loads(run("seed_demo", "--json"))

    assert roleplay_counts() == before
    assert before["partners"] == 1 and before["clusters"] == 1 and before["roleplays"] == 2
    assert second == first, "same secrets, same ids"
    # The partner was sent the cluster's metadata once, when it was given the cluster.
    delivery = Delivery.objects.get()
    assert delivery.kind == "cluster_metadata_sync"
    assert delivery.target_url == ("http://testserver/sandbox/q3/api/receive-cluster-metadata")
    assert json.loads(delivery.payload)["cluster_id"] == load(CLUSTER_FIXTURE)["cluster_id"]
    assert Partner.objects.get().jwt_secret == first["partner"]["jwt_secret"]


@pytest.mark.django_db
def test_seed_demo_json_describes_the_roleplay_partner(settings):
    from portal.partners.models import Partner
    from portal.roleplays.models import Cluster

    settings.PUBLIC_BASE_URL = "https://portal.example.com"
    summary = json.loads(run("seed_demo", "--json"))

    fixture = load(CLUSTER_FIXTURE)
    partner = Partner.objects.get(name="Demo Q3")
    cluster = Cluster.objects.get(cluster_id=fixture["cluster_id"])
    assert summary["partner"] == {
        "name": "Demo Q3",
        "jwt_secret": partner.jwt_secret,
        "webhook_secret": partner.webhook_secret,
        "base_url": "https://portal.example.com/sandbox/q3",
        "allowed_hosts": ["portal.example.com", "127.0.0.1", "localhost"],
    }
    assert len(partner.jwt_secret) == 48
    assert re.fullmatch(r"[A-Za-z0-9_-]{48}", partner.jwt_secret)
    assert partner.webhook_secret.startswith("whsec_")
    assert partner.metadata_url() == (
        "https://portal.example.com/sandbox/q3/api/receive-cluster-metadata"
    )
    assert partner.default_results_url() == (
        "https://portal.example.com/sandbox/q3/api/receive-assessment-results"
    )
    assert list(partner.clusters.all()) == [cluster]
    assert summary["clusters"] == [
        {
            "cluster_id": fixture["cluster_id"],
            "cluster_name": "Customer Leadership Assessment",
            "roleplays": [r["roleplay_id"] for r in fixture["roleplays"]],
        }
    ]


@pytest.mark.django_db
def test_seed_demo_text_output_lists_the_roleplay_partner():
    from portal.partners.models import Partner

    out = run("seed_demo")

    partner = Partner.objects.get(name="Demo Q3")
    assert "Demo Q3" in out
    assert partner.jwt_secret in out
    assert partner.webhook_secret in out
    assert "http://testserver/sandbox/q3/" in out
    assert "4c7e21d9-a3f: Customer Leadership Assessment" in out


@pytest.mark.django_db
def test_seed_demo_keeps_the_partners_url_unless_asked_to_repoint(settings):
    """On a shared host, `seed_demo` run without PUBLIC_BASE_URL (so the default port 8000)
    must not send the demo partner's webhooks to whoever serves that port."""
    from portal.partners.models import Partner

    settings.PUBLIC_BASE_URL = "http://127.0.0.1:8013"
    run("seed_demo")
    settings.PUBLIC_BASE_URL = "http://127.0.0.1:8000"
    err = io.StringIO()
    summary = json.loads(run("seed_demo", "--json", stderr=err))

    assert summary["partner"]["base_url"] == "http://127.0.0.1:8013/sandbox/q3"
    partner = Partner.objects.get(name="Demo Q3")
    assert partner.metadata_url() == "http://127.0.0.1:8013/sandbox/q3/api/receive-cluster-metadata"
    assert err.getvalue().strip() == (
        "Kept Demo Q3's URL http://127.0.0.1:8013/sandbox/q3 (its webhooks go there); "
        "PUBLIC_BASE_URL gives http://127.0.0.1:8000/sandbox/q3. Run with --repoint to follow it."
    )

    err = io.StringIO()
    run("seed_demo", "--repoint", stderr=err)
    assert Partner.objects.get().base_url == "http://127.0.0.1:8000/sandbox/q3"
    assert err.getvalue() == ""


@pytest.mark.django_db
def test_seed_demo_follows_a_new_public_base_url_and_keeps_the_secret(settings):
    from portal.partners.models import Partner

    first = json.loads(run("seed_demo", "--json"))
    Partner.objects.filter(name="Demo Q3").update(allowed_hosts="testserver,q3.internal")
    settings.PUBLIC_BASE_URL = "https://demo.example.org"

    second = json.loads(run("seed_demo", "--json", "--repoint"))

    assert second["partner"]["jwt_secret"] == first["partner"]["jwt_secret"]
    assert second["partner"]["base_url"] == "https://demo.example.org/sandbox/q3"
    assert Partner.objects.get().allowed_hosts == (
        "testserver,q3.internal,demo.example.org,127.0.0.1,localhost"
    )


@pytest.mark.django_db
def test_seed_demo_keeps_an_existing_cluster_with_the_same_id():
    from portal.roleplays.models import Cluster
    from portal.roleplays.transfer import import_cluster

    data = load(CLUSTER_FIXTURE)
    data["cluster_name"] = "Edited by staff"
    mine = import_cluster(data)

    summary = json.loads(run("seed_demo", "--json"))

    assert summary["clusters"][0]["cluster_name"] == "Edited by staff"
    assert Cluster.objects.get() == mine


@pytest.mark.django_db
def test_seed_demo_refuses_when_the_demo_roleplay_ids_are_taken():
    from portal.roleplays.models import Cluster
    from portal.roleplays.transfer import import_cluster

    import_cluster(load(CLUSTER_FIXTURE) | {"cluster_id": "a-copy"})
    with pytest.raises(CommandError, match="Cannot import the demo cluster: Roleplay 1"):
        run("seed_demo")
    assert list(Cluster.objects.values_list("cluster_id", flat=True)) == ["a-copy"]


@pytest.mark.django_db
def test_seed_demo_refuses_a_deactivated_partner():
    from portal.partners.models import Partner

    run("seed_demo")
    Partner.objects.filter(name="Demo Q3").update(is_active=False)
    with pytest.raises(CommandError, match="Partner 'Demo Q3' is deactivated"):
        run("seed_demo")


# ---------------------------------------------------------------------------------------------
# import_exam / export_exam


@pytest.mark.django_db
@pytest.mark.parametrize("fixture", [EN_FIXTURE, FA_FIXTURE], ids=["en", "fa"])
def test_export_of_an_import_is_the_fixture(customer, fixture):
    eurl = int(run("import_exam", str(fixture), customer=customer.name))

    exported = run("export_exam", str(eurl))

    # Byte for byte: ensure_ascii=False, indent 2, the fixture's own numbers.
    assert exported == fixture.read_text(encoding="utf-8")
    assert export_exam(Exam.objects.get(pk=eurl)) == load(fixture)


@pytest.mark.django_db
def test_import_sets_positions_in_file_order(customer):
    data = load(EN_FIXTURE)
    exam = import_exam(data, customer=customer)

    questions = list(exam.questions.all())
    assert [q.position for q in questions] == list(range(1, 25))
    assert [q.description for q in questions] == [
        q["description"] for q in data["exam"]["questions"]
    ]
    assert exam.customer == customer


@pytest.mark.django_db
def test_export_to_a_file(customer, tmp_path):
    exam = import_exam(load(FA_FIXTURE), customer=customer)
    target = tmp_path / "out.json"

    run("export_exam", str(exam.pk), "-o", str(target))

    assert target.read_text(encoding="utf-8") == FA_FIXTURE.read_text(encoding="utf-8")


@pytest.mark.django_db
def test_export_of_an_unknown_exam_is_refused():
    with pytest.raises(CommandError, match="No exam with eurl 999"):
        run("export_exam", "999")


@pytest.mark.django_db
def test_import_from_stdin_with_json_summary(customer, monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO(FA_FIXTURE.read_text(encoding="utf-8")))

    summary = json.loads(run("import_exam", "-", customer=customer.name, json=True))

    exam = Exam.objects.get(pk=summary["eurl"])
    assert summary == {"eurl": exam.pk, "title": exam.title, "questions": 20}
    assert exam.customer == customer
    assert exam.language == "fa"


def _delete(path: tuple):
    def change(data):
        target = data
        for key in path[:-1]:
            target = target[key]
        del target[path[-1]]

    return change


Q = ("exam", "questions")

# The messages say where (a path into the file, questions also counted from 1) and what the
# field's rule is; the console and the admin show the same rule on the field
# (tests/portal/test_exam_format.py).
IMPORT_ERRORS = {
    "format tag": (
        set_at(("format",), "portal-exam/2"),
        'format: Must be "portal-exam/1": this is not a portal exam file',
    ),
    "no format": (_delete(("format",)), "format: This field is required."),
    "missing exam field": (_delete(("exam", "duration")), "exam.duration: This field is required."),
    "missing question field": (
        _delete((*Q, 2, "correct")),
        "exam.questions[2].correct (question 3): This field is required.",
    ),
    "unknown field": (
        set_at((*Q, 0, "answer"), 2),
        "exam.questions[0].answer (question 1): Unknown field",
    ),
    "correct too high": (
        set_at((*Q, 4, "correct"), 5),
        "exam.questions[4].correct (question 5): Must be a whole number from 1 to 4. Got: 5",
    ),
    "correct zero": (set_at((*Q, 4, "correct"), 0), "exam.questions[4].correct (question 5): "),
    "correct as text": (
        set_at((*Q, 4, "correct"), "2"),
        'exam.questions[4].correct (question 5): Must be a whole number from 1 to 4. Got: "2"',
    ),
    "correct as boolean": (
        set_at((*Q, 4, "correct"), True),
        "exam.questions[4].correct (question 5): Must be a whole number from 1 to 4. Got: true",
    ),
    "empty choice": (
        set_at((*Q, 6, "c2"), "   "),
        "exam.questions[6].c2 (question 7): Must be text, not blank.",
    ),
    "empty description": (
        set_at((*Q, 0, "description"), ""),
        "exam.questions[0].description (question 1): Must be text, not blank.",
    ),
    "negative weight": (
        set_at((*Q, 23, "weight"), -1),
        "exam.questions[23].weight (question 24): Must be a number from 0 to 1000. Got: -1",
    ),
    "language": (
        set_at(("exam", "language"), "de"),
        'exam.language: Must be one of en, fa. Got: "de"',
    ),
    "number_of_question": (
        set_at(("exam", "number_of_question"), 0),
        "exam.number_of_question: Must be a whole number of at least 1. Got: 0",
    ),
    "bank smaller than the draw": (
        set_at(("exam", "number_of_question"), 25),
        "exam.number_of_question: Each quiz draws 25 questions, but the bank has only 24",
    ),
    "duration": (
        set_at(("exam", "duration"), 0),
        "exam.duration: Must be a whole number from 1 to 10080. Got: 0",
    ),
    "accept_score": (
        set_at(("exam", "accept_score"), 101),
        "exam.accept_score: Must be a number from 0 to 100. Got: 101",
    ),
    "can_back": (
        set_at(("exam", "can_back"), "yes"),
        'exam.can_back: Must be true or false. Got: "yes"',
    ),
    "no questions": (set_at(Q, []), "exam.questions: Must be a non-empty list of questions."),
    "question not an object": (
        set_at((*Q, 1), "text"),
        'exam.questions[1] (question 2): Must be a JSON object. Got: "text"',
    ),
}


@pytest.mark.django_db
@pytest.mark.parametrize(("change", "message"), IMPORT_ERRORS.values(), ids=IMPORT_ERRORS.keys())
def test_import_refuses_an_invalid_file(customer, tmp_path, change, message):
    path = write(tmp_path, broken(load(EN_FIXTURE), change))

    with pytest.raises(CommandError) as error:
        run("import_exam", path, customer=customer.name)

    assert message in str(error.value)
    assert Exam.objects.count() == 0
    assert Question.objects.count() == 0


@pytest.mark.django_db
def test_import_refuses_a_file_that_is_not_json(customer, tmp_path):
    path = tmp_path / "exam.json"
    path.write_text('{"format": "portal-exam/1",', encoding="utf-8")

    with pytest.raises(CommandError, match="is not valid JSON"):
        run("import_exam", str(path), customer=customer.name)


@pytest.mark.django_db
def test_import_refuses_json_nested_deeper_than_python_reads(customer, tmp_path):
    path = tmp_path / "exam.json"
    path.write_text("[" * 100_000 + "]" * 100_000, encoding="utf-8")

    with pytest.raises(CommandError, match="is not valid JSON: Nested too deeply"):
        run("import_exam", str(path), customer=customer.name)


@pytest.mark.django_db
def test_import_refuses_a_key_written_twice_in_one_object(customer, tmp_path):
    # json keeps the last one silently: `"title": "A", …, "title": "B"` imported B unnoticed.
    path = tmp_path / "exam.json"
    path.write_text('{"format": "portal-exam/1", "format": "x"}', encoding="utf-8")

    with pytest.raises(CommandError, match="The key 'format' appears twice in one object"):
        run("import_exam", str(path), customer=customer.name)


def test_import_error_exits_1_without_a_traceback(tmp_path):
    env = {**os.environ, "PORTAL_VAR_DIR": str(tmp_path)}
    missing = str(tmp_path / "missing.json")
    result = subprocess.run(
        [sys.executable, "manage.py", "import_exam", missing, "--customer", "X"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 1
    assert result.stderr.startswith("CommandError: Cannot read")
    assert "Traceback" not in result.stderr
    assert result.stdout == ""


@pytest.mark.django_db
def test_import_needs_an_existing_customer():
    with pytest.raises(CommandError, match="No customer named 'Nobody'"):
        run("import_exam", str(EN_FIXTURE), customer="Nobody")


@pytest.mark.django_db
def test_update_replaces_the_bank_while_no_quiz_exists(customer, tmp_path):
    exam = import_exam(load(EN_FIXTURE), customer=customer)
    data = load(EN_FIXTURE)
    data["exam"]["title"] = "Security Awareness, 2nd edition"
    data["exam"]["questions"] = data["exam"]["questions"][:5]
    data["exam"]["number_of_question"] = 5

    out = run("import_exam", write(tmp_path, data), customer=customer.name, eurl=exam.pk)

    assert out.strip() == str(exam.pk)
    assert Exam.objects.count() == 1
    assert export_exam(Exam.objects.get(pk=exam.pk)) == data


@pytest.mark.django_db
def test_update_of_a_quizzed_exam_keeps_its_eurl_and_the_quizzes_questions(customer, tmp_path):
    # Changed in issue 8: this used to be refused; now the drawn questions are retired (kept
    # for the quizzes that drew them) and the file's bank becomes the live one.
    exam = import_exam(load(EN_FIXTURE), customer=customer)
    token, _raw = ClientToken.issue(customer=customer)
    launch, _existing = launch_quiz(
        token=token,
        student_uuid="s1",
        mobile="0912",
        eurl=exam.pk,
        callback_url="https://client.example.com/cb",
    )
    drawn = {
        item.question_id: item.question.description for item in written_items(launch.quiz).all()
    }
    data = load(EN_FIXTURE)
    data["exam"]["questions"] = [
        {**q, "description": f"New {n}?"} for n, q in enumerate(data["exam"]["questions"][:5])
    ]
    data["exam"]["number_of_question"] = 5

    out = run("import_exam", write(tmp_path, data), customer=customer.name, eurl=exam.pk)

    assert out.strip() == str(exam.pk)
    assert export_exam(Exam.objects.get(pk=exam.pk)) == data
    kept = {q.pk: q.description for q in Question.objects.filter(pk__in=drawn)}
    assert kept == drawn
    assert all(q.retired_at for q in Question.objects.filter(pk__in=drawn))


@pytest.mark.django_db
def test_update_of_another_customers_exam_is_refused(customer, another_customer):
    theirs = import_exam(load(EN_FIXTURE), customer=another_customer)

    with pytest.raises(CommandError, match=f"has no exam with eurl {theirs.pk}"):
        run("import_exam", str(FA_FIXTURE), customer=customer.name, eurl=theirs.pk)

    assert export_exam(Exam.objects.get(pk=theirs.pk)) == load(EN_FIXTURE)


# ---------------------------------------------------------------------------------------------
# create_customer / revoke_client_token


@pytest.mark.django_db
def test_create_customer_prints_a_token_that_is_stored_hashed():
    out = run("create_customer", "Client Co", "--allowed-callback-hosts", "A.com, b.com")

    customer = Customer.objects.get(name="Client Co")
    raw = next(line.split()[-1] for line in out.splitlines() if line.startswith("Client token:"))
    token = ClientToken.authenticate(raw)
    assert token is not None
    assert token.customer == customer
    assert token.token_hash == hash_token(raw)
    assert token.allowed_hosts == ["a.com", "b.com"]
    stored = ClientToken.objects.values_list("token_hash", "prefix", "label")
    assert all(raw not in value for row in stored for value in row)
    assert customer.signing_secret in out
    assert "won't be shown again" in out


@pytest.mark.django_db
def test_create_customer_json_and_reuse(customer):
    first = json.loads(run("create_customer", customer.name, "--label", "prod", "--json"))
    second = json.loads(run("create_customer", customer.name, "--json"))

    assert Customer.objects.filter(name=customer.name).count() == 1
    assert first["customer"] == second["customer"] == customer.name
    assert first["signing_secret"] == second["signing_secret"] == customer.signing_secret
    assert first["client_token"] != second["client_token"]
    assert first["allowed_callback_hosts"] == []
    assert ClientToken.authenticate(first["client_token"]).label == "prod"
    assert ClientToken.authenticate(second["client_token"]) is not None


@pytest.mark.django_db
def test_create_customer_refuses_urls_as_hosts():
    with pytest.raises(CommandError, match="is not a host name"):
        run("create_customer", "Client Co", "--allowed-callback-hosts", "https://a.com/cb")
    assert not Customer.objects.exists()


@pytest.mark.django_db
def test_revoke_client_token_stops_it_authenticating(customer):
    token, raw = ClientToken.issue(customer=customer, label="prod")
    _other, other_raw = ClientToken.issue(customer=customer)

    out = run("revoke_client_token", token.prefix)

    assert token.prefix in out
    assert ClientToken.authenticate(raw) is None
    assert ClientToken.authenticate(other_raw) is not None
    with pytest.raises(CommandError, match="already revoked"):
        run("revoke_client_token", token.prefix)


@pytest.mark.django_db
def test_revoke_client_token_by_whole_token(customer):
    _token, raw = ClientToken.issue(customer=customer)

    run("revoke_client_token", raw)

    assert ClientToken.authenticate(raw) is None


@pytest.mark.django_db
def test_revoke_client_token_refuses_unknown_short_and_ambiguous(customer, another_customer):
    token, raw = ClientToken.issue(customer=customer)
    # Prefixes are 8 hex digits, so two tokens can share one.
    ClientToken.objects.create(customer=another_customer, token_hash="0" * 64, prefix=token.prefix)

    with pytest.raises(CommandError, match="No client token matches"):
        run("revoke_client_token", "ffffffff" if token.prefix != "ffffffff" else "eeeeeeee")
    with pytest.raises(CommandError, match="8-character prefix"):
        run("revoke_client_token", token.prefix[:3])
    with pytest.raises(CommandError, match="2 client tokens match"):
        run("revoke_client_token", token.prefix)
    assert ClientToken.authenticate(raw) is not None

    run("revoke_client_token", token.prefix, customer=customer.name)

    assert ClientToken.authenticate(raw) is None
    assert ClientToken.objects.get(token_hash="0" * 64).revoked_at is None


# ---------------------------------------------------------------------------------------------
# make run (scripts/run)


def make_run(tmp_path: Path, **settings: str) -> tuple[subprocess.Popen, int, Path]:
    """`make run`'s script started with its own SQLite database and queue in tmp_path, whatever
    the tests run on (and `settings` in its environment): the process, its port, its log."""
    port = free_port()
    unset = {"DATABASE_URL", "SQLITE_PATH", "HUEY_REDIS_URL", "HUEY_NAME", "PUBLIC_BASE_URL"}
    env = {k: v for k, v in os.environ.items() if k not in unset and not k.startswith("DEMO_")}
    env |= {"PORTAL_VAR_DIR": str(tmp_path), "HOST": "127.0.0.1", "PORT": str(port), **settings}
    log_path = tmp_path / "run.log"
    with open(log_path, "w") as log:
        server = subprocess.Popen(
            [str(ROOT / "scripts" / "run")],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: runserver's reloader child too
        )
    return server, port, log_path


def test_make_run_sends_the_demo_metadata_at_the_first_attempt(tmp_path):
    """`make run` on a fresh machine: the demo partner's cluster metadata, queued by seed_demo,
    reaches the sandbox Q3 at its first attempt, since the consumer starts only once the web
    server answers (before, that attempt always failed: connection refused)."""
    import sqlite3

    server, _port, log_path = make_run(tmp_path)
    row = None
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and server.poll() is None:
            try:
                with sqlite3.connect(tmp_path / "portal.sqlite3", timeout=5) as db:
                    # An attempt is over once no worker holds the delivery.
                    row = db.execute(
                        "SELECT status, attempt_count, last_error FROM integrations_delivery"
                        " WHERE kind = 'cluster_metadata_sync' AND attempt_count > 0"
                        " AND locked_until IS NULL"
                    ).fetchone()
            except sqlite3.OperationalError:  # not migrated yet
                row = None
            if row is not None:
                break
            time.sleep(0.25)
    finally:
        stop(server, timeout=20, group=True)
    assert row is not None, log_path.read_text()
    assert row == ("delivered", 1, ""), log_path.read_text()


def test_make_run_without_debug_serves_its_pages_static_files(tmp_path):
    """`DEBUG=false make run` serves as production does: its static files collected first (each
    page was a 500, "Missing staticfiles manifest entry")."""
    server, port, log_path = make_run(
        tmp_path, DEBUG="False", ALLOWED_HOSTS="127.0.0.1", SANDBOX_ENABLED="true"
    )
    page = None
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and server.poll() is None:
            try:
                page = httpx.get(f"http://127.0.0.1:{port}/assessment/", timeout=5)
                break
            except httpx.TransportError:
                time.sleep(0.25)
        assert page is not None, log_path.read_text()
        assert page.status_code == 200, log_path.read_text()[-3000:]
        css = re.search(r'href="(/static/[^"]+\.css)"', page.text).group(1)
        assert re.search(r"\.[0-9a-f]{12}\.css$", css), "the hashed copy collectstatic wrote"
        assert httpx.get(f"http://127.0.0.1:{port}{css}", timeout=5).status_code == 200
    finally:
        stop(server, timeout=20, group=True)


# ---------------------------------------------------------------------------------------------
# The console's rules in the commands: what a form or the format refuses, a command refuses in
# the same words, before it writes anything (PostgreSQL refused an overlong value with a
# traceback; SQLite stored it).


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["x" * 201], r"at most 200 characters \(it has 201\)"),
        (["Client Co", "--label", "x" * 101], r"at most 100 characters \(it has 101\)"),
        (["a\x01b"], r"must not contain control characters \(U\+0001\)"),
        (["Client Co", "--label", "prod\x1b"], r"must not contain control characters \(U\+001B\)"),
        (["Client Co", "--label", "line\nbreak"], r"control characters \(U\+000A\)"),
        (
            [
                "Client Co",
                "--allowed-callback-hosts",
                ",".join(f"h{n}.{'a' * 60}.com" for n in range(20)),
            ],
            "at most 1000 characters",
        ),
    ],
    ids=[
        "long name",
        "long label",
        "name with control",
        "label with control",
        "label two lines",
        "long hosts",
    ],
)
def test_create_customer_refuses_what_the_console_refuses(args, message):
    before = counts()
    with pytest.raises(CommandError, match=message):
        run("create_customer", *args)
    assert counts() == before


@pytest.mark.django_db
def test_create_customer_says_what_the_consoles_forms_say():
    from portal.staff.views.customers import ClientTokenForm, CustomerForm

    console = CustomerForm({"name": "x" * 201}).errors["name"][0]
    with pytest.raises(CommandError) as error:
        run("create_customer", "x" * 201)
    assert str(error.value) == f"The customer name: {console}"
    console = ClientTokenForm({"label": "x" * 101}).errors["label"][0]
    with pytest.raises(CommandError) as error:
        run("create_customer", "Client Co", "--label", "x" * 101)
    assert str(error.value) == f"The token label: {console}"


@pytest.mark.django_db
def test_create_customer_refuses_a_name_that_shows_nothing_in_the_consoles_words():
    from portal.staff.views.customers import CustomerForm

    console = CustomerForm({"name": "\u200b"}).errors["name"][0]
    with pytest.raises(CommandError) as error:
        run("create_customer", "\u200b")
    assert "show something" in console and console in str(error.value)
    assert not Customer.objects.exists()


@pytest.mark.django_db
def test_create_customer_takes_the_longest_name_and_label():
    name, label = "n" * 200, "l" * 100
    run("create_customer", name, "--label", label)
    assert ClientToken.objects.get(customer__name=name).label == label


@pytest.mark.django_db
def test_create_staff_user_refuses_an_address_longer_than_the_user_name():
    before = counts()
    with pytest.raises(CommandError, match="at most 150 characters"):
        run("create_staff_user", f"{'a' * 140}@example.com", role="viewer")
    assert counts() == before


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("short", "This password is too short"),
        ("password123", "This password is too common"),
        ("pat.person@example.com", "The password is too similar to the"),
    ],
)
def test_create_staff_user_applies_the_password_validators(password, message):
    before = counts()
    with pytest.raises(CommandError, match=message):
        run("create_staff_user", "pat.person@example.com", role="viewer", password=password)
    assert counts() == before


@pytest.mark.django_db
def test_create_staff_user_keeps_an_existing_users_password_when_the_new_one_is_refused():
    run("create_staff_user", "pat@example.com", role="viewer", password="a long passphrase")
    with pytest.raises(CommandError, match="too short"):
        run("create_staff_user", "pat@example.com", role="operator", password="short")
    user = get_user_model().objects.get(username="pat@example.com")
    assert user.check_password("a long passphrase")
    assert [group.name for group in user.groups.all()] == ["viewer"]


@pytest.mark.django_db
def test_import_json_counts_the_live_bank_not_the_retired_versions(customer, tmp_path):
    exam = import_exam(load(EN_FIXTURE), customer=customer)
    token, _raw = ClientToken.issue(customer=customer)
    launch_quiz(
        token=token,
        student_uuid="s1",
        mobile="0912",
        eurl=exam.pk,
        callback_url="https://client.example.com/cb",
    )
    data = load(EN_FIXTURE)
    data["exam"]["questions"] = [
        {**q, "description": f"New {n}?"} for n, q in enumerate(data["exam"]["questions"][:5])
    ]
    data["exam"]["number_of_question"] = 5

    out = run("import_exam", write(tmp_path, data), customer=customer.name, eurl=exam.pk, json=True)

    assert json.loads(out)["questions"] == 5
    assert Question.objects.filter(exam=exam).count() > 5  # the drawn versions are kept


def padded(size: int) -> str:
    """The English demo exam, as JSON of `size` bytes (trailing white space)."""
    text = EN_FIXTURE.read_text(encoding="utf-8").rstrip()
    return text + " " * (size - len(text.encode()))


@pytest.mark.django_db
def test_import_refuses_a_file_over_the_consoles_limit(customer, tmp_path, monkeypatch):
    from portal.exams.transfer import MAX_FILE_BYTES, file_too_large

    path = tmp_path / "big.json"
    path.write_text(padded(MAX_FILE_BYTES + 1), encoding="utf-8")
    with pytest.raises(CommandError) as error:
        run("import_exam", str(path), customer=customer.name)
    assert (
        str(error.value)
        == file_too_large()
        == "The file is larger than 5 MB: that is not an exam file."
    )

    monkeypatch.setattr("sys.stdin", io.StringIO(padded(MAX_FILE_BYTES + 1)))
    with pytest.raises(CommandError, match="larger than 5 MB"):
        run("import_exam", "-", customer=customer.name)
    assert not Exam.objects.exists()

    monkeypatch.setattr("sys.stdin", io.StringIO(padded(MAX_FILE_BYTES)))
    assert run("import_exam", "-", customer=customer.name).strip().isdigit()
    path.write_text(padded(MAX_FILE_BYTES), encoding="utf-8")
    assert run("import_exam", str(path), customer=customer.name).strip().isdigit()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("minutes", "bounds"),
    [(2**31, "from 1 to 2147483647"), (0, "from 1 to 2147483647")],
)
def test_import_cluster_says_the_bound_a_roleplays_time_is_refused_by(tmp_path, minutes, bounds):
    data = load(ROOT / "portal" / "roleplays" / "fixtures" / "demo_cluster.json")
    data["roleplays"][0]["total_time_minutes"] = minutes
    with pytest.raises(CommandError) as error:
        run("import_cluster", write(tmp_path, data, "cluster.json"))
    assert (
        f"field 'total_time_minutes' must be a whole number of minutes, {bounds}; got {minutes}."
        in str(error.value)
    )


@pytest.mark.django_db
def test_copy_scorecard_words_a_taken_or_blank_name_for_the_copy():
    from portal.scorecards.models import Scorecard

    run("load_scorecard")
    version = Scorecard.objects.get().version
    run("copy_scorecard", version, "qa-1")

    with pytest.raises(CommandError) as taken:
        run("copy_scorecard", version, "qa-1")
    assert str(taken.value) == (
        f"Scorecard version 'qa-1' already exists; give the copy another NEW_VERSION, or leave "
        f"it out to name it '{version}-copy'."
    )
    blank = f"NEW_VERSION must not be blank; leave it out to name the copy '{version}-copy'."
    for name in ("", "  "):
        with pytest.raises(CommandError) as refused:
            run("copy_scorecard", version, name)
        assert str(refused.value) == blank
    assert Scorecard.objects.count() == 2


def test_the_commands_doc_lists_every_command_of_ours():
    table = (ROOT / "docs" / "commands.md").read_text(encoding="utf-8").split("\n---\n")[0]
    listed = set(re.findall(r"^\| \[?`(\w+)`", table, re.MULTILINE))
    ours = {
        path.stem
        for path in ROOT.glob("portal/*/management/commands/*.py")
        if not path.stem.startswith("_")
    }
    assert ours - listed == set()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "hosts",
    ["-bad-.com", "a.-b.com", "lms-.example.com", "a..b.com", f"{'x' * 64}.com", "1.2.3.999"],
)
def test_create_customer_refuses_what_no_callback_url_can_name(hosts):
    # A host a URL can never have would never match a callback: refused now, not at a launch.
    with pytest.raises(CommandError, match="is not a host name"):
        run("create_customer", "Client Co", f"--allowed-callback-hosts={hosts}")
    assert not Customer.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "hosts",
    ["lms.example.com", "my_lms.example.com.", "xn--mgba3a4f16a.ir", "دانشگاه.ir", "10.0.0.7"],
)
def test_create_customer_keeps_host_names_and_addresses(hosts):
    run("create_customer", "Client Co", "--allowed-callback-hosts", hosts)
    token = ClientToken.objects.get()
    assert token.allowed_callback_hosts == hosts
