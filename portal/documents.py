"""Reading and writing the JSON content files of the operator commands (exams, clusters,
scorecards): every failure becomes a CommandError with a message, never a traceback."""

import json
import sys

from django.core.management.base import BaseCommand, CommandError


def read_document(path: str) -> dict:
    """Parse the JSON in `path` ("-" for stdin)."""
    try:
        if path == "-":
            # Read bytes where we can, so the file's UTF-8 does not depend on the locale.
            stdin = getattr(sys.stdin, "buffer", None)
            text = stdin.read().decode("utf-8-sig") if stdin else sys.stdin.read()
        else:
            with open(path, encoding="utf-8-sig") as file:
                text = file.read()
    except (OSError, UnicodeDecodeError) as error:
        raise CommandError(f"Cannot read {path}: {error}") from error
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise CommandError(
            f"{'stdin' if path == '-' else path} is not valid JSON: {error.msg} "
            f"(line {error.lineno}, column {error.colno})."
        ) from error


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
