"""Plain text helpers shared by the API and the pages (no models): digits, control characters,
JSON read from outside."""

import json
import re
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

# Persian (U+06F0..U+06F9) and Arabic-Indic (U+0660..U+0669) digits → ASCII.
_DIGITS = str.maketrans("۰۱۲۳۴۵۶۷۸۹٠١٢٣٤٥٦٧٨٩", "01234567890123456789")


def normalize_digits(value: str) -> str:
    """Return value with Persian and Arabic-Indic digits as ASCII digits, trimmed."""
    return value.translate(_DIGITS).strip()


# --- control characters -----------------------------------------------------------------------
# Nothing a person types holds a control character (Unicode category Cc: U+0000-U+001F, U+007F,
# U+0080-U+009F), PostgreSQL refuses NUL in text, and the rest would end up in CSV exports, log
# lines and e-mails. Free text (a textarea, a feedback field) may hold tabs and line breaks;
# everything else - ids, names, URLs, paths, query strings, headers, cookies - is one line.
# Lone surrogates (U+D800-U+DFFF) are not text at all: neither database can store them. U+FFFE
# and U+FFFF are noncharacters, which XML cannot hold: one made every XLSX export holding it a
# damaged file.
_IN_LINE = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
_IN_TEXT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
# An HTTP header's value arrives as Latin-1, where a UTF-8 byte 0x80-0x9F is no control
# character: there only C0 and DEL count, and a tab is allowed (RFC 9110).
_IN_HEADER = re.compile("[\x00-\x08\x0a-\x1f\x7f]")

# The same rules as JSON-Schema patterns (ECMA-262, also read by Python's re), for the OpenAPI
# document, so that a client can tell before sending.
LINE_PATTERN = r"^[^\u0000-\u001f\u007f-\u009f\ufffe\uffff]*$"
TEXT_PATTERN = r"^[^\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\ufffe\uffff]*$"


# --- blank text ---------------------------------------------------------------------------------
# Blank is nothing a reader would see: white space and the invisible format characters — the
# soft hyphen, zero-width space, non-joiner and joiner (Persian text uses U+200C inside words,
# but a value of nothing else shows nothing), direction marks and isolates, word joiners, the
# byte-order mark. One rule for every format, in Python and as a JSON-Schema pattern.
_INVISIBLE = r"\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff"
_VISIBLE = re.compile(rf"[^\s{_INVISIBLE}]")
# A pattern's prefix (ECMA-262): at least one visible character somewhere.
NOT_BLANK_LOOKAHEAD = rf"(?=[\s\S]*[^\s{_INVISIBLE}])"
# One line that shows something: LINE_PATTERN with that prefix.
SHOWN_LINE_PATTERN = "^" + NOT_BLANK_LOOKAHEAD + LINE_PATTERN.removeprefix("^")


def is_blank(value: str) -> bool:
    """Whether `value` shows nothing: only white space and invisible format characters."""
    return _VISIBLE.search(value) is None


def validate_shown(value: str) -> None:
    """A model field's validator (the console's and the admin's forms, the commands): `value`
    shows something. Django's forms strip white space only, so a name of a zero-width space
    passed, and showed as an empty row in every list."""
    if is_blank(value):
        raise ValidationError(
            _("This must show something, not only spaces or invisible characters."),
            code="shows_nothing",  # not "blank": a field would put its own words in its place
        )


def forbidden_character(value: str, *, multiline: bool = False) -> str | None:
    """The first character `value` may not hold, or None: a control character (tab, line feed
    and carriage return are allowed when `multiline`) or half of a surrogate pair."""
    found = (_IN_TEXT if multiline else _IN_LINE).search(value)
    return found.group() if found else None


def shown_control_characters(value: str) -> str:
    """`value` with each character forbidden_character(multiline=True) finds replaced by U+FFFD
    (�): for text stored before it was refused, on its way out (an XLSX file cannot hold one)."""
    return _IN_TEXT.sub("\ufffd", value)


def forbidden_header_character(value: str) -> str | None:
    """The first control character of an HTTP header's (Latin-1) value, or None."""
    found = _IN_HEADER.search(value)
    return found.group() if found else None


def control_character_reason(char: str) -> str:
    """The reason a value holding `char` is refused, naming it as `U+0000` (it cannot be
    shown)."""
    kind = "noncharacters" if char in "\ufffe\uffff" else "control characters"
    return f"must not contain {kind} (U+{ord(char):04X})"


# --- JSON from outside ---------------------------------------------------------------------------


class _DuplicateKey(ValueError):
    pass


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for key, value in pairs:
        if key in found:
            raise _DuplicateKey(key)
        found[key] = value
    return found


def read_json(text: str | bytes, *, unique_keys: bool = False) -> Any:
    """json.loads for text from outside (a request's body, an uploaded file, a partner's reply):
    a document nested deeper than Python's parser follows, or with a number of more digits than
    Python converts, is refused as invalid JSON (json.JSONDecodeError) like any other, rather
    than with the RecursionError or bare ValueError no caller expects (a 500). With
    `unique_keys` (a content file someone edits), an object naming a key twice is refused too:
    json keeps the last silently, so `"title": "A", …, "title": "B"` imported B unnoticed."""
    try:
        return json.loads(text, object_pairs_hook=_unique_keys if unique_keys else None)
    except json.JSONDecodeError:
        raise
    except RecursionError:
        problem = "Nested too deeply"
    except _DuplicateKey as duplicate:
        problem = f"The key {duplicate.args[0]!r} appears twice in one object"
    except ValueError:  # int()'s limit on digits
        problem = "A number with too many digits"
    raise json.JSONDecodeError(problem, text if isinstance(text, str) else "", 0)
