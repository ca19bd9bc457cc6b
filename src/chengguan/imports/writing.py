"""Writing many rows of a model in one `executemany` (`COPY` on PostgreSQL), columns in, no
model instances.

The import writes five rows or more per case (case, task, events, clock, raw record); making
a model instance of each would cost more than the database does. These helpers fill every
column the model has — the given values, else the field's default — and reserve primary keys
in advance where later rows must point at earlier ones.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import repeat

import numpy as np
import polars as pl
from django.db import connection, models


def datetime_format() -> str:
    """How an aware UTC instant is written to this database as text (as the ORM writes it)."""
    return "%Y-%m-%d %H:%M:%S" if connection.vendor == "sqlite" else "%Y-%m-%d %H:%M:%S+00:00"


def instants(series: pl.Series) -> list:
    """UTC datetimes (or nulls) → values ready for the database."""
    return series.dt.convert_time_zone("UTC").dt.strftime(datetime_format()).to_list()


def reserve_ids(model: type[models.Model], count: int) -> np.ndarray:
    """`count` new primary keys for `model`, unused by anyone else.

    SQLite: the caller holds the write lock (an IMMEDIATE transaction), so the keys after the
    largest one used so far are free. PostgreSQL: taken from the table's sequence.
    """
    if count == 0:
        return np.empty(0, dtype=np.int64)
    table = model._meta.db_table
    pk = model._meta.pk.column
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)", [table, pk, count]
            )
            return np.array([row[0] for row in cursor.fetchall()], dtype=np.int64)
        cursor.execute(f"SELECT MAX({connection.ops.quote_name(pk)}) FROM {connection.ops.quote_name(table)}")  # noqa: S608
        last = cursor.fetchone()[0] or 0
        cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
        row = cursor.fetchone()
        if row is not None:
            last = max(last, row[0])
    return np.arange(last + 1, last + 1 + count, dtype=np.int64)


def insert(model: type[models.Model], count: int, values: dict[str, Sequence | object]) -> None:
    """Insert `count` rows (`executemany`; `COPY` on PostgreSQL).

    `values`: field attname → a sequence of `count` database-ready values (a list, a numpy
    array or a polars series), or one value for every row. Fields not named get their default
    (or NULL); the primary key is left to the database unless named."""
    if count == 0:
        return
    sqlite = connection.vendor == "sqlite"
    fields = [f for f in model._meta.concrete_fields if not (f.primary_key and f.attname not in values)]
    columns: list[_Same | _Column] = []
    seen: dict[int, _Same | _Column] = {}  # one sequence given for several fields is converted once
    for f in fields:
        if f.attname in values:
            given = values[f.attname]
            if isinstance(given, (list, tuple, np.ndarray, pl.Series)):
                if len(given) != count:
                    raise ValueError(f"{model.__name__}.{f.attname}: {len(given)} values for {count} rows")
                if id(given) not in seen:
                    seen[id(given)] = _Column.of(given, integers=sqlite)
                columns.append(seen[id(given)])
            else:
                columns.append(_Same(f.get_db_prep_save(given, connection)))
        elif f.has_default() or not f.null:
            default = f.get_default()  # "" for a text column without a default
            if default is None:
                raise ValueError(f"{model.__name__}.{f.attname} needs a value")
            columns.append(_Same(f.get_db_prep_save(default, connection)))
        else:
            columns.append(_Same(None))
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    names = ", ".join(quote(f.column) for f in fields)
    with connection.cursor() as cursor:
        if not sqlite:  # COPY: the rows stream in, no statement per row
            rows = zip(*[repeat(c.value, count) if isinstance(c, _Same) else c.values for c in columns], strict=False)
            with cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            return
        for sql, rows in _sqlite_statements(f"INSERT INTO {table} ({names}) VALUES ", columns, count):  # noqa: S608
            cursor.executemany(sql, rows)


class _Column:
    """A column's values, and which of them are NULL (None: none is)."""

    __slots__ = ("nulls", "values")

    def __init__(self, values: list, nulls: np.ndarray | None):
        self.values = values
        self.nulls = nulls

    @classmethod
    def of(cls, given: Sequence | pl.Series, *, integers: bool) -> _Column | _Same:
        """From a polars series (it knows its nulls and type) or a sequence; a column all NULL is
        one value; bools as 0 and 1 with `integers`."""
        if isinstance(given, pl.Series):
            if given.null_count() == len(given):
                return _Same(None)
            if integers and given.dtype == pl.Boolean:
                given = given.cast(pl.Int8)
            return cls(given.to_list(), given.is_null().to_numpy() if given.null_count() else None)
        values = given.tolist() if isinstance(given, np.ndarray) else list(given)
        if integers and type(next((v for v in values if v is not None), None)) is bool:  # one type a column
            values = [v if v is None else int(v) for v in values]
        if None not in values:
            return cls(values, None)
        nulls = np.fromiter((v is None for v in values), dtype=bool, count=len(values))
        return _Same(None) if nulls.all() else cls(values, nulls)


class _Same:
    """One value for every row."""

    __slots__ = ("value",)

    def __init__(self, value):
        self.value = value


def _literal(value) -> str | None:
    """`value` as an SQLite literal, or None when it is better bound. `%` is doubled for the
    cursor's placeholder conversion."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str) and "\x00" not in value and len(value) <= 1000:
        return "'" + value.replace("'", "''").replace("%", "%%") + "'"
    return None


def _sqlite_statements(head: str, columns: list[_Same | _Column], count: int):
    """(statement, rows) pairs that insert the rows in order.

    Python's sqlite3 binds an int or a string in well under 0.2 µs but None or a bool in
    about 0.6 and 0.3 µs (they go through its adapter lookup), and a wide table's rows are
    mostly such values. So a value shared by every row is written into the statement, bools
    are bound as integers (what SQLite stores for them anyway), and rows are grouped by which
    of their columns are NULL, each group with NULL written into its statement: only values
    that differ from row to row are bound. Groups run in the order of their first row; a
    caller that keeps rows of one pattern together keeps its order."""
    literal = [_literal(c.value) if isinstance(c, _Same) else None for c in columns]
    for k, c in enumerate(columns):
        if isinstance(c, _Same) and literal[k] is None:  # not writable as a literal: bound on every row after all
            columns[k] = _Column([c.value] * count, None)
    varying = [k for k, c in enumerate(columns) if isinstance(c, _Column)]
    nullable = [k for k in varying if columns[k].nulls is not None][:62]
    if nullable:
        masks = np.zeros(count, dtype=np.int64)
        for bit, k in enumerate(nullable):
            masks |= columns[k].nulls.astype(np.int64) << bit
        keys, first, inverse, sizes = np.unique(masks, return_index=True, return_inverse=True, return_counts=True)
        members = np.split(np.argsort(inverse, kind="stable"), np.cumsum(sizes)[:-1])
        groups = [(int(keys[g]), members[g]) for g in np.argsort(first, kind="stable")]
    else:
        groups = [(0, None)]
    for key, rows in groups:
        nulls = {k for bit, k in enumerate(nullable) if key >> bit & 1}
        bound = [k for k in varying if k not in nulls]
        parts = ["%s" if k in bound else ("NULL" if k in nulls else literal[k]) for k in range(len(columns))]
        sql = head + "(" + ", ".join(parts) + ")"
        if rows is None or len(rows) == count:
            data = [columns[k].values for k in bound]
        else:
            take = rows.tolist()
            data = [[columns[k].values[i] for i in take] for k in bound]
        yield sql, list(zip(*data, strict=True)) if data else [()] * (count if rows is None else len(rows))
