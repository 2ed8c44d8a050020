"""Strict checks shared by the portal's JSON content files (exams, clusters): one error type
and messages that name the place and the field, e.g. `Question 3: field 'correct' ...`."""

import math
from typing import Any


class FormatError(Exception):
    """A content file that is not valid, or that cannot be applied; `message` says where."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class _Required:
    def __repr__(self) -> str:
        return "REQUIRED"


# In a field spec (field name → default when the file leaves it out), marks a required field.
REQUIRED: Any = _Required()


def plain_number(value: float) -> int | float:
    """60.0 → 60: whole numbers read (and round-trip) as hand-written files have them."""
    return int(value) if float(value).is_integer() else value


def is_int(value: Any) -> bool:
    # bool is an int in Python, but `"correct": true` is a mistake, not the number 1.
    return isinstance(value, int) and not isinstance(value, bool)


def is_number(value: Any) -> bool:
    if not (is_int(value) or isinstance(value, float)):
        return False
    try:
        return math.isfinite(float(value))
    except OverflowError:
        return False


def fields(obj: Any, spec: dict[str, Any], where: str) -> dict[str, Any]:
    """Check obj is an object with no unknown and no missing field; fill in the defaults."""
    if not isinstance(obj, dict):
        raise FormatError(f"{where} must be a JSON object.")
    unknown = sorted(set(obj) - set(spec))
    if unknown:
        names = ", ".join(repr(name) for name in unknown)
        raise FormatError(f"{where}: unknown field {names}.")
    values = {}
    for name, default in spec.items():
        if name in obj:
            values[name] = obj[name]
        elif default is REQUIRED:
            raise FormatError(f"{where}: field {name!r} is missing.")
        else:
            values[name] = default
    return values


def text(value: Any, where: str, name: str, max_length: int | None = None) -> str:
    if not isinstance(value, str) or not value.strip():
        raise FormatError(f"{where}: field {name!r} must be a non-empty string.")
    if max_length is not None and len(value) > max_length:
        raise FormatError(
            f"{where}: field {name!r} is {len(value)} characters long; "
            f"the most allowed is {max_length}."
        )
    return value


def boolean(value: Any, where: str, name: str) -> bool:
    if not isinstance(value, bool):
        raise FormatError(f"{where}: field {name!r} must be true or false, got {value!r}.")
    return value


def integer(value: Any, where: str, name: str, low: int, high: int | None = None) -> int:
    if not (is_int(value) and value >= low and (high is None or value <= high)):
        wanted = f"from {low} to {high}" if high is not None else f"of at least {low}"
        raise FormatError(
            f"{where}: field {name!r} must be a whole number {wanted}, got {value!r}."
        )
    return value


def number(value: Any, where: str, name: str, low: float, high: float | None = None) -> float:
    if not (is_number(value) and value >= low and (high is None or value <= high)):
        wanted = f"from {low:g} to {high:g}" if high is not None else f"of at least {low:g}"
        raise FormatError(f"{where}: field {name!r} must be a number {wanted}, got {value!r}.")
    return float(value)
