"""Capture's hot statements with server-side binding on Postgres: large parameters travel as they are.

Django's psycopg cursors bind on the client, quoting every parameter into the SQL text: a raw batch's gzip
payload becomes a hex literal twice its size, a group's events one escaped JSON string. Bound on the server,
bytes go as bytes and the statement text stays the same, so Postgres can reuse its plan.
"""
from __future__ import annotations

import functools
from collections.abc import Iterator
from datetime import datetime
from contextlib import contextmanager

from django.db import connection
from django.db.models import Field, Model


def _value(field: Field, obj: Model) -> object:
    """A column's value for psycopg: what it adapts itself (numbers, text, bytes, aware datetimes) as it is;
    anything else (JSON) as Django prepares it. Django's preparation of each field cost more than the insert."""
    value = getattr(obj, field.attname)
    if value is None or isinstance(value, (bool, int, float, str, bytes, bytearray, datetime)):
        return value
    return field.get_db_prep_save(value, connection)


@functools.cache
def _insert_sql(model: type[Model]) -> str:
    """INSERT ... RETURNING pk of every concrete column but the primary key."""
    meta = model._meta
    fields = [f for f in meta.concrete_fields if not f.primary_key]
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    marks = ", ".join(["%s"] * len(fields))
    return (f"INSERT INTO {connection.ops.quote_name(meta.db_table)} ({columns}) VALUES ({marks}) "
            f"RETURNING {connection.ops.quote_name(meta.pk.column)}")


@contextmanager
def bound_cursor() -> Iterator[object]:
    """A psycopg cursor with server-side binding on Django's connection (same transaction, Django's errors)."""
    import psycopg

    connection.ensure_connection()
    with connection.wrap_database_errors, psycopg.Cursor(connection.connection) as cursor:
        yield cursor


def insert(obj: Model) -> Model:
    """INSERT an unsaved model instance (no signals, no save() hooks) and return it with its primary key."""
    if connection.vendor != "postgresql":
        obj.save(force_insert=True)
        return obj
    fields = [f for f in obj._meta.concrete_fields if not f.primary_key]
    for field in fields:
        field.pre_save(obj, add=True)  # auto_now_add and friends
    with bound_cursor() as cursor:
        cursor.execute(_insert_sql(type(obj)), [_value(f, obj) for f in fields])
        obj.pk = cursor.fetchone()[0]
    obj._state.adding, obj._state.db = False, "default"
    return obj
