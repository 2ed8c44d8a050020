"""Who changed what: `record()` writes one AuditEntry; every staff-made change calls it."""

from collections.abc import Iterable, Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from portal.audit.models import AuditEntry
from portal.db import column_length

SECRET_MARK = "••••••"
_LABEL_LENGTH = column_length(AuditEntry, "target_label")
# A field whose name holds one of these is a secret: the log says it changed, never its value.
SECRET_WORDS = ("secret", "password", "token", "key_hash", "token_hash")


def is_secret(field: str) -> bool:
    lowered = field.lower()
    return any(word in lowered for word in SECRET_WORDS)


def plain(value: Any) -> Any:
    """A JSON-safe form of a field value."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = [plain(v) for v in value]
        return sorted(items, key=str) if isinstance(value, set | frozenset) else items
    return str(value)  # a model instance or anything else: its name


def snapshot(instance: Any, fields: Iterable[str]) -> dict[str, Any]:
    """The named fields of a model instance (or attributes of any object), JSON-safe.

    A many-to-many field gives the sorted names of its members.
    """
    values = {}
    for name in fields:
        value = getattr(instance, name)
        if hasattr(value, "all") and callable(value.all):
            value = sorted(str(member) for member in value.all())
        values[name] = plain(value)
    return values


def diff(before: Mapping[str, Any] | None, after: Mapping[str, Any] | None) -> dict[str, list]:
    """{field: [before, after]} for each field that differs; secrets masked."""
    before, after = before or {}, after or {}
    changes = {}
    for field in dict.fromkeys([*before, *after]):
        old, new = before.get(field), after.get(field)
        if old == new:
            continue
        if is_secret(field):
            old = SECRET_MARK if old else ""
            new = SECRET_MARK if new else ""
            if old == new:  # a secret replaced by another: say so, without either value
                old, new = SECRET_MARK, SECRET_MARK + " (new)"
        changes[field] = [plain(old), plain(new)]
    return changes


def record(
    *,
    actor: Any,
    action: str,
    target: Any = None,
    target_type: str = "",
    target_id: str = "",
    target_label: str = "",
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
    note: str = "",
):
    """Write one audit row. `actor` is the staff user (None for the system, e.g. a command).

    `target` (a model instance) fills type, id and label unless they are given. Call it in the
    transaction of the change, so the log and the change commit or roll back together.
    """
    if target is not None:
        target_type = target_type or target._meta.model_name
        target_id = target_id or str(target.pk)
        target_label = target_label or str(target)
    label = ""
    if actor is not None:
        label = actor.get_username() if hasattr(actor, "get_username") else str(actor)
    return AuditEntry.objects.create(
        actor=actor if getattr(actor, "pk", None) else None,
        actor_label=label or "system",
        action=action,
        target_type=target_type,
        target_id=str(target_id),
        target_label=str(target_label)[:_LABEL_LENGTH],
        changes=diff(before, after),
        note=note,
    )
