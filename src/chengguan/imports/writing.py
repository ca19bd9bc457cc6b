"""Writing many rows of a model in one `executemany`, columns in, no model instances.

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

    `values`: field attname → a sequence of `count` database-ready values, or one value for
    every row. Fields not named get their default (or NULL); the primary key is left to the
    database unless named."""
    if count == 0:
        return
    fields = [f for f in model._meta.concrete_fields if not (f.primary_key and f.attname not in values)]
    columns = []
    for f in fields:
        if f.attname in values:
            given = values[f.attname]
            if isinstance(given, (list, tuple, np.ndarray)):
                if len(given) != count:
                    raise ValueError(f"{model.__name__}.{f.attname}: {len(given)} values for {count} rows")
                columns.append(given.tolist() if isinstance(given, np.ndarray) else given)
            else:
                columns.append(repeat(f.get_db_prep_save(given, connection), count))
        elif f.has_default() or not f.null:
            default = f.get_default()  # "" for a text column without a default
            if default is None:
                raise ValueError(f"{model.__name__}.{f.attname} needs a value")
            columns.append(repeat(f.get_db_prep_save(default, connection), count))
        else:
            columns.append(repeat(None, count))
    quote = connection.ops.quote_name
    head = f"INSERT INTO {quote(model._meta.db_table)} ({', '.join(quote(f.column) for f in fields)}) VALUES "  # noqa: S608
    one = f"({', '.join(['%s'] * len(fields))})"
    rows = zip(*columns, strict=False)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":  # COPY: the rows stream in, no statement per row
            names = ", ".join(quote(f.column) for f in fields)
            with cursor.cursor.copy(f"COPY {quote(model._meta.db_table)} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            return
        cursor.executemany(head + one, list(rows))
