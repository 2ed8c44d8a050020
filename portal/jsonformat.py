"""What the portal's JSON content formats (exam and cluster files) share: their error type and
the wording of an object's problems, the pydantic types their declarations are built from (text
that is not blank, a finite number, a language of the portal's pages), their JSON Schema
documents, and numbers written as people write them."""

import json
import math
from typing import Annotated, Any

from django.conf import settings
from pydantic import AfterValidator, BaseModel, Field, PlainValidator
from pydantic_core import PydanticCustomError

from portal.text import (
    NOT_BLANK_LOOKAHEAD,
    TEXT_PATTERN,
    control_character_reason,
    forbidden_character,
    is_blank,
)

# The largest value a (Positive)IntegerField holds on every database Django supports.
INT_MAX = 2147483647
SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"


class FormatError(Exception):
    """A content file that is not valid, or that cannot be applied; `message` says where."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def object_problem(
    errors: list[Any],
    loc: tuple[str | int, ...],
    kind: str,
    where: str,
    rest: tuple[str | int, ...],
) -> str | None:
    """What every format says alike of the object at `where` when a problem of `kind` at `loc`
    (`rest`: the place in the object, () for itself) is the first of `errors`: that it is not a
    JSON object, all its unknown fields, or the field it lacks. None for the problems each
    format words itself."""
    if not rest:
        return f"{where} must be a JSON object." if loc else "The document must be a JSON object."
    if kind == "extra_forbidden":
        unknown = sorted(
            str(e["loc"][-1])
            for e in errors
            if e["type"] == "extra_forbidden" and tuple(e["loc"][:-1]) == loc[:-1]
        )
        return f"{where}: unknown field {', '.join(map(repr, unknown))}."
    if kind == "missing":
        return f"{where}: field {str(rest[0])!r} is missing."
    if kind == "control_character":
        first = next(e for e in errors if tuple(e["loc"]) == loc and e["type"] == kind)
        return f"{where}: field {str(rest[0])!r} {first['ctx']['reason']}."
    return None


def wrong_format(expected: str, got: Any, file: str) -> str:
    """What every format says of a document whose field 'format' is not its own."""
    return (
        f"Field 'format' must be {expected!r}, got {got!r}; this is not a {file}, or a version "
        "this portal cannot read."
    )


def plain_number(value: float) -> int | float:
    """60.0 → 60: whole numbers read (and round-trip) as hand-written files have them."""
    return int(value) if float(value).is_integer() else value


def is_number(value: Any) -> bool:
    """A JSON number: not a bool (`"correct": true` is a mistake, not 1), nor NaN, an infinity
    or an integer too large to be a float."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    try:
        return math.isfinite(value)
    except OverflowError:
        return False


def language_codes() -> list[str]:
    """The languages of the portal's pages, read when asked (tests and deployments may change
    LANGUAGES)."""
    return [code for code, _name in settings.LANGUAGES]


def _plain(value: str) -> str:
    char = forbidden_character(value, multiline=True)
    if char is not None:
        context = {"reason": control_character_reason(char), "char": f"U+{ord(char):04X}"}
        raise PydanticCustomError("control_character", "{reason}", context)
    return value


def _not_blank(value: str) -> str:
    # Stored exactly as written (no trimming); only a blank value is refused.
    if is_blank(value):
        raise PydanticCustomError("blank", "blank")
    return value


def _known_language(value: str) -> str:
    if value not in language_codes():
        raise PydanticCustomError("unknown_language", "unknown language")
    return value


def _finite_number(value: Any) -> int | float:
    if not is_number(value):
        raise PydanticCustomError("number", "not a finite number")
    return value


# A content file's text, stored as written: tabs and line breaks, but no other control
# character (as in a page's form field, portal.text: NUL cannot be stored by PostgreSQL, and
# none of them can be written to an XLSX export).
Plain = Annotated[str, AfterValidator(_plain), Field(json_schema_extra={"pattern": TEXT_PATTERN})]
# Text that is not blank: at least one visible character (portal.text.is_blank; the pattern, for
# editors that check files against the JSON Schema, says both).
NOT_BLANK = AfterValidator(_not_blank)  # in a field's metadata: declared NotBlank
NotBlank = Annotated[
    str,
    AfterValidator(_plain),
    NOT_BLANK,
    Field(
        json_schema_extra={"pattern": "^" + NOT_BLANK_LOOKAHEAD + TEXT_PATTERN.removeprefix("^")}
    ),
]
Language = Annotated[
    str,
    AfterValidator(_known_language),
    Field(json_schema_extra=lambda schema: schema.update(enum=language_codes())),
]
# A whole or decimal number, kept as written (10 stays 10, not 10.0).
Number = Annotated[int | float, PlainValidator(_finite_number, json_schema_input_type=float)]


def json_schema(model: type[BaseModel]) -> dict[str, Any]:
    """The JSON Schema of a format's declaration, as schemas/ publishes it."""
    return {
        "$schema": SCHEMA_DIALECT,
        "$comment": (
            f"Generated from {model.__module__}.{model.__qualname__} by "
            "`manage.py format_schemas`: do not edit."
        ),
        **_unwrapped(model.model_json_schema()),
    }


def _unwrapped(node: Any) -> Any:
    """Descriptions (the models' docstrings) as one line each, not wrapped as in the code."""
    if isinstance(node, dict):
        return {
            # (A field named "description" has an object, its schema, there.)
            key: _one_line(value) if key == "description" else _unwrapped(value)
            for key, value in node.items()
        }
    return [_unwrapped(item) for item in node] if isinstance(node, list) else node


def _one_line(value: Any) -> Any:
    return " ".join(value.split()) if isinstance(value, str) else _unwrapped(value)


def json_schema_text(model: type[BaseModel]) -> str:
    """The text of the model's file in schemas/."""
    return json.dumps(json_schema(model), ensure_ascii=False, indent=2) + "\n"
