"""JSON Schemas of the roleplay contract's payloads (schemas/*.json), and a check against them.

`validate("results_submission", payload)` checks a payload against schemas/results_submission.json;
`validate("results_submission#reply", reply)` against that file's `$defs/reply`.
"""

import json
from functools import cache
from typing import Any

from django.conf import settings
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

SCHEMA_DIR = settings.BASE_DIR / "schemas"
NAMES = (
    "cluster_metadata_sync",
    "results_submission",
    "assessment_launch_request",
    "assessment_launch_errors",
)
MAX_ERRORS = 5


@cache
def schema(name: str) -> dict:
    """The parsed schema file `name` (one of NAMES)."""
    if name not in NAMES:
        raise ValueError(f"No schema named {name!r}; the schemas are {', '.join(NAMES)}.")
    return json.loads((SCHEMA_DIR / f"{name}.json").read_text(encoding="utf-8"))


@cache
def _validator(name: str) -> Draft202012Validator:
    file, _, definition = name.partition("#")
    root = schema(file)
    if definition:
        if definition not in root.get("$defs", {}):
            raise ValueError(f"Schema {file!r} has no definition {definition!r}.")
        # Keep the root's $defs in reach so the definition's own $refs resolve.
        root = {"$schema": root["$schema"], "$defs": root["$defs"], "$ref": f"#/$defs/{definition}"}
    Draft202012Validator.check_schema(root)
    return Draft202012Validator(root)


def _where(error: ValidationError) -> str:
    where = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in error.path)
    return where.lstrip(".") or "(the payload)"


def validate(name: str, payload: Any) -> None:
    """Raise ValueError naming each place where `payload` breaks schema `name` (see above)."""
    errors = sorted(_validator(name).iter_errors(payload), key=lambda e: list(map(str, e.path)))
    if not errors:
        return
    lines = [f"{_where(error)}: {error.message}" for error in errors[:MAX_ERRORS]]
    if len(errors) > MAX_ERRORS:
        lines.append(f"... and {len(errors) - MAX_ERRORS} more")
    raise ValueError(f"Not a valid {name} payload: " + "; ".join(lines))
