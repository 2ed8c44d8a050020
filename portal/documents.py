"""Reading and writing the JSON content files of the operator commands (exams, clusters,
scorecards), and the import and export commands' shared body: every failure becomes a
CommandError with a message, never a traceback."""

import json
import sys
from collections.abc import Callable
from typing import Any, ClassVar

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db.models import Field, Model

from portal.jsonformat import FormatError
from portal.text import control_character_reason, forbidden_character, read_json


def read_document(
    path: str, *, max_bytes: int | None = None, too_large: Callable[[], str] = str
) -> dict:
    """Parse the JSON in `path` ("-" for stdin). With `max_bytes`, a larger file is refused
    with `too_large()` after reading no more than one byte past it."""
    limit = -1 if max_bytes is None else max_bytes + 1
    try:
        if path == "-":
            # Read bytes where we can, so the file's UTF-8 does not depend on the locale.
            stdin = getattr(sys.stdin, "buffer", None)
            raw = stdin.read(limit) if stdin else sys.stdin.read(limit).encode()
        else:
            with open(path, "rb") as file:
                raw = file.read(limit)
        if max_bytes is not None and len(raw) > max_bytes:
            raise CommandError(too_large())
        text = raw.decode("utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        raise CommandError(f"Cannot read {path}: {error}") from error
    try:
        return read_json(text, unique_keys=True)
    except json.JSONDecodeError as error:
        raise CommandError(
            f"{'stdin' if path == '-' else path} is not valid JSON: {error.msg} "
            f"(line {error.lineno}, column {error.colno})."
        ) from error


def checked(model: type[Model], field: str, value: str, what: str) -> str:
    """A command's `value` for `model.field`, by the rules the console's and the admin's forms
    take from that field (its column's length, its validators), in their words; and one line,
    as every name is (docs/security.md). CommandError naming `what` if not: PostgreSQL refused
    a value longer than its column with a traceback, SQLite stored it."""
    char = forbidden_character(value)
    if char is not None:
        raise CommandError(f"{what} {control_character_reason(char)}.")
    column = model._meta.get_field(field)
    assert isinstance(column, Field)  # a column, not a relation
    try:
        return column.clean(value, None)
    except ValidationError as error:
        raise CommandError(f"{what}: {' '.join(error.messages)}") from error


def write_document(command: BaseCommand, data: dict, path: str | None, *, what: str) -> None:
    """Write `data` as indented UTF-8 JSON to `path`, or to the command's stdout (None, "-")."""
    text = json.dumps(data, ensure_ascii=False, indent=2)
    if not path or path == "-":
        command.stdout.write(text)
        return
    try:
        with open(path, "w", encoding="utf-8") as file:
            file.write(text + "\n")
    except OSError as error:
        raise CommandError(f"Cannot write {path}: {error}") from error
    command.stdout.write(f"Exported {what} to {path}.")


class ExportCommand(BaseCommand):
    """What every export command does: find one record by the key it is named by, or say that
    there is none; write its document to stdout or to -o FILE. A subclass only declares: the
    key, the model and field it looks up, the messages, and the exporter."""

    key: str  # the positional argument, e.g. "eurl"; its metavar is the key in capitals
    key_type: type = str
    key_help: str
    model: type[Model]
    lookup: str  # the model field the key is, e.g. "pk"
    not_found: str  # formatted with key=, e.g. "No exam with eurl {key}."
    what: str  # formatted with record=, for "Exported <what> to FILE."
    exporter: ClassVar[Callable[[Any], dict]]  # a plain function, called unbound

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            self.key, type=self.key_type, metavar=self.key.upper(), help=self.key_help
        )
        parser.add_argument(
            "-o", "--output", metavar="FILE", help="Write to FILE instead of stdout."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        key = options[self.key]
        record = self.model._default_manager.filter(**{self.lookup: key}).first()
        if record is None:
            raise CommandError(self.not_found.format(key=key))
        document = type(self).exporter(record)
        write_document(self, document, options["output"], what=self.what.format(record=record))


class ImportCommand(BaseCommand):
    """What every import command does: read the document FILE (or stdin), load it, and turn
    the format's own error into a CommandError with its precise message (never a traceback).
    A subclass adds its options and says how to load; what `load` returns is printed, and may
    set the largest file it reads (`max_bytes`, refused with `too_large()`)."""

    max_bytes: ClassVar[int | None] = None

    def too_large(self) -> str:
        return f"The file is larger than {self.max_bytes} bytes."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", metavar="FILE", help='JSON file, or "-" to read stdin.')

    def load(self, data: Any, options: dict[str, Any]) -> str:
        raise NotImplementedError

    def handle(self, *args: Any, **options: Any) -> None:
        data = read_document(options["file"], max_bytes=self.max_bytes, too_large=self.too_large)
        try:
            output = self.load(data, options)
        except FormatError as error:  # the loader's refusal, worded for the operator
            raise CommandError(error.message) from error
        self.stdout.write(output)
