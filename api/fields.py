"""Field types of the three contracts' request schemas: text that holds no control character
(the rule is portal.text's, and is published as a `pattern` in the OpenAPI document), numbers
that are numbers (`true` is not 1), and a request body that must be a JSON object."""

from typing import Annotated, Any, get_args

from ninja import Schema
from ninja.schema import DjangoGetter
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    GetJsonSchemaHandler,
    StrictInt,
    StringConstraints,
    model_validator,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema

from portal.text import (
    LINE_PATTERN,
    TEXT_PATTERN,
    control_character_reason,
    forbidden_character,
)

__all__ = [
    "EmailOrBlank",
    "Int",
    "Line",
    "RequestModel",
    "RequestSchema",
    "Text",
    "line_or_number",
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


# One line: ids, names, e-mail addresses, URLs, codes.
Line = Annotated[str, AfterValidator(_checked(multiline=False)), _Published(LINE_PATTERN)]
# Free text (feedback): tabs and line breaks allowed.
Text = Annotated[str, AfterValidator(_checked(multiline=True)), _Published(TEXT_PATTERN)]


def _whole_number(value: Any) -> Any:
    # JSON Schema's integer: 12 or 12.0, not true (which Python would take for 1) nor "12".
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


# A whole number written as a number (`true`, "12" and 12.5 are refused).
Int = Annotated[StrictInt, BeforeValidator(_whole_number)]


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
        # The length first: after Line's validator it would read "at most 128 items".
        StringConstraints(min_length=min_length, max_length=max_length),
        *get_args(Line)[1:],
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
EmailOrBlank = Annotated[Line, StringConstraints(max_length=254), _EmailOrBlank()]


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
