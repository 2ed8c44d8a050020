"""`manage.py format_schemas`: the published JSON Schemas (schemas/) are what the format
declarations give, each format's page links its schema, and the command names and rewrites a
stale file (--check only names it)."""

import io
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from portal.housekeeping.management.commands.format_schemas import SCHEMAS
from portal.jsonformat import json_schema_text

ROOT = Path(__file__).resolve().parents[2]
# Each published schema → the page that documents its format.
DOCS = {
    "roleplay-cluster.schema.json": "roleplay-format.md",
    "exam.schema.json": "exam-format.md",
    "scorecard.schema.json": "scorecard.md",
}


def test_every_format_is_published_and_documented():
    assert DOCS.keys() == SCHEMAS.keys()


@pytest.mark.parametrize("name", sorted(SCHEMAS))
def test_the_published_schema_is_what_the_declaration_gives(name):
    published = (ROOT / "schemas" / name).read_text(encoding="utf-8")
    assert published == json_schema_text(SCHEMAS[name]), (
        f"schemas/{name} is stale: run manage.py format_schemas"
    )
    page = (ROOT / "docs" / DOCS[name]).read_text(encoding="utf-8")
    assert f"(../schemas/{name})" in page, f"docs/{DOCS[name]} links it"


def test_a_run_writes_every_schema_and_check_names_a_stale_one(settings, tmp_path):
    settings.BASE_DIR = tmp_path
    (tmp_path / "schemas").mkdir()
    out = io.StringIO()
    call_command("format_schemas", stdout=out)
    for name in SCHEMAS:
        assert f"Wrote schemas/{name}." in out.getvalue()
        written = (tmp_path / "schemas" / name).read_text(encoding="utf-8")
        assert written == (ROOT / "schemas" / name).read_text(encoding="utf-8")
    out = io.StringIO()
    call_command("format_schemas", "--check", stdout=out)
    assert "The schemas are up to date." in out.getvalue()

    stale = tmp_path / "schemas" / "exam.schema.json"
    stale.write_text("{}\n", encoding="utf-8")
    with pytest.raises(CommandError, match=r"Not what the declarations give: schemas/exam\."):
        call_command("format_schemas", "--check", stdout=io.StringIO())
    assert stale.read_text(encoding="utf-8") == "{}\n", "--check writes nothing"
    out = io.StringIO()
    call_command("format_schemas", stdout=out)
    assert out.getvalue() == "Wrote schemas/exam.schema.json.\n", "only the stale one"
