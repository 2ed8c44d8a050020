"""Field types of the three contracts' request schemas: text that holds no control character
(the rule is portal.text's, and is published as a `pattern` in the OpenAPI document), numbers
that are numbers (`true` is not 1), and a request body that must be a JSON object."""

from dataclasses import dataclass
from typing import Annotated, Any, get_args

from annotated_types import Ge, Le
from ninja import Schema
from ninja.schema import DjangoGetter
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
    StrictInt,
    StringConstraints,
    model_validator,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema

from portal.text import (
    LINE_PATTERN,
    SHOWN_LINE_PATTERN,
    TEXT_PATTERN,
    control_character_reason,
    forbidden_character,
    is_blank,
)

__all__ = [
    "EmailOrBlank",
    "Int",
    "Line",
    "RequestModel",
    "RequestSchema",
    "Text",
    "int_between",
    "line",
    "line_or_number",
    "text",
]


class _Published:
    """Adds `pattern` to the field's JSON schema only: the check itself is the validator's,
    whose message names the character (a regex failure would only repeat the pattern)."""

    def __init__(self, pattern: str) -> None:
        self.pattern = pattern

    def __get_pydantic_json_schema__(
        self, core_schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        schema = handler(core_schema)
        schema["pattern"] = self.pattern
        return schema


def _checked(*, multiline: bool):
    def check(value: str) -> str:
        char = forbidden_character(value, multiline=multiline)
        if char is not None:
            raise ValueError(control_character_reason(char))
        return value

    return check


def _shown(value: str) -> str:
    if is_blank(value):
        raise ValueError("must not be blank (only spaces or invisible characters)")
    return value


# One line: ids, names, e-mail addresses, URLs, codes.
Line = Annotated[str, AfterValidator(_checked(multiline=False)), _Published(LINE_PATTERN)]
# One line that shows something (portal.text.is_blank): an id that names someone.
ShownLine = Annotated[
    str,
    AfterValidator(_checked(multiline=False)),
    AfterValidator(_shown),
    _Published(SHOWN_LINE_PATTERN),
]
# Free text (feedback): tabs and line breaks allowed.
Text = Annotated[str, AfterValidator(_checked(multiline=True)), _Published(TEXT_PATTERN)]


@dataclass(frozen=True)
class _Bounded:
    kind: Any  # Line or Text
    min_length: int
    max_length: int

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> CoreSchema:
        # The length on the text itself, before the kind's rule: checked after it, pydantic's
        # generic length check would say "at most 2000 items after validation".
        bounds = StringConstraints(min_length=self.min_length or None, max_length=self.max_length)
        return handler.generate_schema(Annotated[str, bounds, *get_args(self.kind)[1:]])


def line(*, min_length: int = 0, max_length: int, shown: bool = False) -> Any:
    """One line of text of `min_length` to `max_length` characters, as a field's annotation:
    `name: Annotated[str, line(max_length=64)]` (a Field's or StringConstraints' length on
    `Line` would read "at most 64 items after validation"). Published as minLength,
    maxLength and the one-line pattern. `shown`: not blank either (at least one visible
    character, as is_blank judges; the pattern says so too)."""
    return _Bounded(ShownLine if shown else Line, min_length, max_length)


def text(*, max_length: int) -> Any:
    """Free text (`Text`) of at most `max_length` characters, as `line` is for one line."""
    return _Bounded(Text, 0, max_length)


def _whole_number(value: Any) -> Any:
    # JSON Schema's integer: 12 or 12.0, not true (which Python would take for 1) nor "12".
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


# A whole number written as a number (`true`, "12" and 12.5 are refused).
Int = Annotated[StrictInt, BeforeValidator(_whole_number)]


@dataclass(frozen=True)
class _Between:
    low: int
    high: int

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> CoreSchema:
        # The bounds on the integer itself: after Int's validator, pydantic publishes them as
        # {"ge": 0, "le": 86400}, which no JSON Schema reader knows, instead of minimum/maximum.
        bounded = Annotated[StrictInt, Ge(self.low), Le(self.high), *get_args(Int)[1:]]
        return handler.generate_schema(bounded)


def int_between(low: int, high: int) -> Any:
    """`Int` from `low` to `high`, as a field's annotation: `Annotated[int, int_between(0, 9)]`.
    For an optional field (`... | None`), where `Field(ge=, le=)` is published as "ge"/"le"."""
    return _Between(low, high)


def _number_as_text(value: Any) -> Any:
    # Only a number written as an integer: 2.0 is no id, nor choice 2.
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value


class _OrInteger:
    """Publishes `string | integer` for a text field that takes a whole number as its text."""

    def __get_pydantic_json_schema__(
        self, core_schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        return {"anyOf": [handler(core_schema), {"type": "integer"}]}


def line_or_number(*, min_length: int = 0, max_length: int) -> Any:
    """One line of text, or a whole number taken as its text (customers' ids are often
    numeric). Not a union, so that an error names the field and nothing else."""
    return Annotated[
        str,
        line(min_length=min_length, max_length=max_length),
        BeforeValidator(_number_as_text),
        _OrInteger(),
    ]


class _EmailOrBlank:
    def __get_pydantic_json_schema__(
        self, core_schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        return {
            "anyOf": [
                {"type": "string", "format": "email", "maxLength": 254},
                {"type": "string", "maxLength": 0},
            ]
        }


# An e-mail address, or "" for none; the address itself is checked by the schema that uses it
# (Django's validate_email), this publishes the rule.
EmailOrBlank = Annotated[str, line(max_length=254), _EmailOrBlank()]


def _must_be_an_object(data: Any) -> Any:
    # Ninja's own validator has wrapped the value for attribute access by then (RequestSchema).
    raw = data._obj if isinstance(data, DjangoGetter) else data
    if not isinstance(raw, dict):
        raise ValueError("must be a JSON object")
    return data


class RequestSchema(Schema):
    """A request body (or a part of one): a JSON object. Django Ninja's Schema would otherwise
    read any value by attribute, so that `null`, `[1, 2]` or `"x"` passed with the defaults."""

    @model_validator(mode="before")
    @classmethod
    def must_be_an_object(cls, data: Any) -> Any:
        return _must_be_an_object(data)


# RequestSchema's rule for a body that is a plain pydantic model: one validated in bulk (a
# submit's hundreds of answers) or on every request of a hot path, where a Ninja Schema's
# attribute getter cost as much as the rest of the validation. (No docstring: it would enter
# the OpenAPI document of every model built on it.)
class RequestModel(BaseModel):
    @model_validator(mode="before")
    @classmethod
    def must_be_an_object(cls, data: Any) -> Any:
        return _must_be_an_object(data)
