"""Hand-written SQL for the scorecard's per-request statements, and their rows back into model
instances exactly as the ORM makes them.

Every request of a visitor's assessment reads or writes a few rows by key. Building those
statements with the ORM cost more than running them (the flow's requests spent most of their
time compiling queries), so each statement is written once per process and database, and on
PostgreSQL prepared once per connection (portal.db.hot_cursor).
"""

from django.db import DEFAULT_DB_ALIAS
from django.db.backends.utils import CursorWrapper
from django.db.models import Field, Model

from portal.db import hot_cursor


def cursor(connection) -> CursorWrapper:
    """A cursor for one of these statements: prepared on PostgreSQL's default connection,
    Django's plain one elsewhere (SQLite caches its compiled statements itself)."""
    if connection.vendor == "postgresql" and connection.alias == DEFAULT_DB_ALIAS:
        return hot_cursor()
    return connection.cursor()


def column_field(model: type[Model], name: str) -> Field:
    """`model`'s field `name`, which has a column (get_field() also answers reverse relations,
    which have none)."""
    field = model._meta.get_field(name)
    if not isinstance(field, Field):
        raise TypeError(f"{model.__name__}.{name} is a reverse relation, not a column")
    return field


def active_version(connection, table: str) -> str:
    """`WHERE … ORDER BY … LIMIT 1` of the active version of the scorecard table aliased
    `table`, as Scorecard.objects.filter(is_active=True).first() finds it. The true is written
    in the statement, not bound: SQLite plans a statement again at every execution when a
    bound value decides whether a partial index applies (scorecard_one_active_version is
    `WHERE is_active`), which cost a start's visit INSERT, that reads the active version's id,
    half its time (80 of 150 µs)."""
    name = connection.ops.quote_name
    true = "true" if connection.vendor == "postgresql" else "1"
    return (
        f"WHERE {table}.{name('is_active')} = {true} "
        f"ORDER BY {table}.{name('created_at')} DESC, {table}.{name('id')} DESC LIMIT 1"
    )


_INSERTS: dict[tuple, tuple[str, list, list[str]]] = {}


def insert(
    instance: Model, connection, computed: dict[str, tuple[str, list]] | None = None
) -> None:
    """INSERT `instance` (a new one, its defaults set by its constructor) with every column but
    its automatic primary key, as Model.save() would (auto_now_add filled in, each value
    prepared by its field), and take the new key from RETURNING. `computed` gives some columns
    (by attribute name) as SQL instead, with its parameters: those values are read back too.
    The models written this way have no save() override and no signal receivers."""
    model = type(instance)
    computed = computed or {}
    key = (connection.alias, model, tuple((name, sql) for name, (sql, _) in computed.items()))
    prepared = _INSERTS.get(key)
    if prepared is None:
        name = connection.ops.quote_name
        fields = [field for field in model._meta.concrete_fields if not field.primary_key]
        values = [f"({computed[f.attname][0]})" if f.attname in computed else "%s" for f in fields]
        back = [model._meta.pk.attname, *computed]
        returning = [model._meta.pk.column] + [column_field(model, n).column for n in back[1:]]
        sql = (
            f"INSERT INTO {name(model._meta.db_table)} "
            f"({', '.join(name(field.column) for field in fields)}) "
            f"VALUES ({', '.join(values)}) "
            f"RETURNING {', '.join(name(column) for column in returning)}"
        )
        prepared = _INSERTS[key] = (sql, fields, back)
    sql, fields, back = prepared
    params = []
    for field in fields:
        if field.attname in computed:
            params += computed[field.attname][1]
        else:
            params.append(field.get_db_prep_save(field.pre_save(instance, True), connection))
    with cursor(connection) as executing:
        executing.execute(sql, params)
        row = executing.fetchone()
    for attname, value in zip(back, row, strict=True):
        setattr(instance, attname, value)
    instance._state.adding = False
    instance._state.db = connection.alias
