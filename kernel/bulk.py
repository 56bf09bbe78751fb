"""Bulk writes without building model instances: what a university's enrollment sync needs to
write 10,000 learners and enrollments at once (accounts.services.learners, courses.enrollments), in
whichever app owns the table.

On PostgreSQL they use COPY (the technique of DESIGN.md's floor): rows stream straight into the
table, or into a temporary table followed by one INSERT ... ON CONFLICT. Elsewhere (SQLite in
embedded mode) they fall back on Django's bulk_create. Either way, columns the caller does not
give take the model's defaults, so a field added to a model later needs no change here.
Call them inside the caller's transaction."""

from django.conf import settings
from django.db import connection
from django.db.models import Field, ForeignKey, Lookup
from django.db.models.expressions import RawSQL
from psycopg import sql
from psycopg.types.json import Jsonb


def use_copy() -> bool:
    return connection.vendor == "postgresql" and getattr(settings, "INTEGRATIONS_SYNC_USE_COPY", True)


def _fields(model, columns: list[str]):
    by_attname = {f.attname: f for f in model._meta.concrete_fields}
    given = [by_attname[c] for c in columns]
    rest = []
    for f in model._meta.concrete_fields:
        if f.attname in columns or f.primary_key or f.has_db_default():
            continue
        rest.append(f)
    return given, rest


def _defaults(fields, now) -> tuple:
    values = []
    for f in fields:
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
            value = now
        else:
            value = f.get_default()
        values.append(f.get_db_prep_save(value, connection))
    return tuple(values)


def _adapt(fields, rows):
    """JSON columns need psycopg's Jsonb wrapper; everything else psycopg dumps as is."""
    json_at = [i for i, f in enumerate(fields) if f.get_internal_type() == "JSONField"]
    if not json_at:
        return rows
    out = []
    for r in rows:
        r = list(r)
        for i in json_at:
            r[i] = Jsonb(r[i])
        out.append(tuple(r))
    return out


def allocate_ids(model, n: int) -> list[int]:
    """Reserve n primary keys from the table's sequence (PostgreSQL)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [model._meta.db_table, model._meta.pk.column, n],
        )
        return [r[0] for r in cursor.fetchall()]


def _copy(cursor, table: str, columns: list[str], rows, tail: tuple) -> None:
    stmt = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(table), sql.SQL(", ").join(map(sql.Identifier, columns))
    )
    with connection.wrap_database_errors, cursor.cursor.copy(stmt) as copy:
        for r in rows:
            copy.write_row(r + tail)


def insert(model, columns: list[str], rows: list[tuple], *, now, with_pk: bool = False) -> None:
    """Insert rows (tuples in `columns` order, attnames); other columns get their defaults."""
    if not rows:
        return
    if not use_copy():
        model.objects.bulk_create([model(**dict(zip(columns, r, strict=True))) for r in rows], batch_size=1000)
        return
    cols = [c for c in columns if c != "id"] if not with_pk else columns
    given, rest = _fields(model, cols)
    pk = [model._meta.pk] if with_pk else []
    given = pk + [f for f in given if not f.primary_key]
    with connection.cursor() as cursor:
        _copy(
            cursor,
            model._meta.db_table,
            [f.column for f in given] + [f.column for f in rest],
            _adapt(given, rows),
            _defaults(rest, now),
        )


def upsert(model, columns: list[str], rows: list[tuple], *, unique: list[str], update: list[str], now) -> None:
    """Insert rows, or update the `update` columns of the row with the same `unique` columns."""
    if not rows:
        return
    if not use_copy():
        model.objects.bulk_create(
            [model(**dict(zip(columns, r, strict=True))) for r in rows],
            batch_size=1000,
            update_conflicts=True,
            unique_fields=unique,
            update_fields=update,
        )
        return
    given, rest = _fields(model, columns)
    all_cols = [f.column for f in given] + [f.column for f in rest]
    by_name = {f.name: f for f in model._meta.concrete_fields}
    conflict = [by_name[u].column for u in unique]
    updates = [by_name[u].column for u in update]
    table = model._meta.db_table
    tmp = sql.Identifier(f"tmp_{table}")
    cols_sql = sql.SQL(", ").join(map(sql.Identifier, all_cols))
    with connection.cursor() as cursor:
        cursor.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(tmp).as_string(cursor.cursor.connection))
        cursor.execute(
            sql.SQL("CREATE TEMP TABLE {} ON COMMIT DROP AS SELECT {} FROM {} WITH NO DATA")
            .format(tmp, cols_sql, sql.Identifier(table))
            .as_string(cursor.cursor.connection)
        )
        _copy(cursor, f"tmp_{table}", all_cols, _adapt(given, rows), _defaults(rest, now))
        cursor.execute(
            sql.SQL("INSERT INTO {} ({}) SELECT {} FROM {} ON CONFLICT ({}) DO UPDATE SET {}")
            .format(
                sql.Identifier(table),
                cols_sql,
                cols_sql,
                tmp,
                sql.SQL(", ").join(map(sql.Identifier, conflict)),
                sql.SQL(", ").join(sql.SQL("{0} = EXCLUDED.{0}").format(sql.Identifier(c)) for c in updates),
            )
            .as_string(cursor.cursor.connection)
        )
        cursor.execute(sql.SQL("DROP TABLE {}").format(tmp).as_string(cursor.cursor.connection))


class InArray(Lookup):
    """`field__in_array=[...]`: `field = ANY(%s)` with the list bound as ONE array parameter.
    With 10,000 values, `__in` spends longer building and splitting 10,000 placeholders than
    PostgreSQL spends answering. PostgreSQL only; see `in_filter`."""

    lookup_name = "in_array"
    prepare_rhs = False

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        return f"{lhs} = ANY(%s)", [*lhs_params, list(self.rhs)]


Field.register_lookup(InArray)
ForeignKey.register_lookup(InArray)


def in_filter(name: str, values) -> dict:
    """Keyword arguments for filter(): one array parameter on PostgreSQL, IN elsewhere."""
    values = list(values)
    return {f"{name}__in_array" if connection.vendor == "postgresql" else f"{name}__in": values}


def in_unnested(name: str, values) -> dict:
    """Like `in_filter`, for text matched through an expression index (`Lower("email")`): on
    PostgreSQL `IN (SELECT unnest(array))` lets the planner probe the index once per value, where
    `= ANY(array)` of 10,000 values made it scan the whole table (380 ms against 40 ms on 600,000
    users)."""
    values = list(values)
    if connection.vendor == "postgresql":
        return {f"{name}__in": RawSQL("SELECT unnest(%s::text[])", [values])}
    return {f"{name}__in": values}


class Stage:
    """A batch COPied into a temporary table (PostgreSQL; dropped at the commit), for the apps
    that own the tables to compare it with theirs in one statement each: a resync of unchanged
    rows then reads, compares in the database, and brings back nothing. `name` is the table's
    (quoted) identifier, safe to format into SQL."""

    def __init__(self, name: str, columns: list[tuple[str, str]], rows: list[tuple]):
        self.columns = [c for c, _type in columns]
        self.name = sql.Identifier(name).as_string(connection.connection)
        definition = sql.SQL(", ").join(
            sql.SQL("{} {}").format(sql.Identifier(c), sql.SQL(t)) for c, t in columns
        )  # types are the caller's literals ("text", "bigint")
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {self.name}")
            cursor.execute(
                sql.SQL("CREATE TEMP TABLE {} ({}) ON COMMIT DROP")
                .format(sql.Identifier(name), definition)
                .as_string(cursor.cursor.connection)
            )
            _copy(cursor, name, self.columns, rows, ())
            # No ANALYZE: the planner sizes a never-analyzed table from its pages, which is enough
            # for the hash joins a batch of at most INTEGRATIONS_SYNC_MAX_ROWS takes (the same
            # plans, measured), and ANALYZE was a fifth of an unchanged resync's time.


def stage(name: str, columns: list[tuple[str, str]], rows: list[tuple]) -> Stage:
    """COPY `rows` (tuples in `columns` order: (name, SQL type) each) into a temporary table, in
    the caller's transaction. PostgreSQL only (`use_copy`)."""
    return Stage(name, columns, rows)
