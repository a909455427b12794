"""Many rows in one statement (PostgreSQL; and INSERT … RETURNING on both).

psycopg's executemany sends one Bind/Execute per row, with Python work on each; a
group commit writes a few thousand rows, so that was most of its time. `Tx.executemany` hands the statements of these shapes, with `?`
parameters and tuple rows, to this module instead:

    INSERT INTO t (a, b) VALUES (?, ?)               → COPY t (a, b) FROM STDIN
    INSERT INTO t (a, b) VALUES (?, ?) ON CONFLICT …  → INSERT … SELECT * FROM unnest(…) ON CONFLICT …
    UPDATE t SET a = ?, b = ? WHERE k = ? AND j = ?   → UPDATE t … FROM unnest(…) WHERE …
    DELETE FROM t WHERE k = ? AND j = ?               → DELETE FROM t USING unnest(…) WHERE …

One statement per call; the arrays are typed from the table's own columns.
Anything else, and any batch naming the same key twice (which one statement
would apply once, not twice), goes to executemany as before."""

from __future__ import annotations

import re
import weakref
from typing import Any, Sequence

__all__ = ["write_rows", "returning_rows"]

_INSERT = re.compile(r"INSERT INTO (\w+) \(([\w, ]+)\) VALUES \(\?(?:, \?)*\)(.*)", re.S)
_UPDATE = re.compile(r"UPDATE (\w+) SET ((?:\w+ = \?, )*\w+ = \?) WHERE ((?:\w+ = \? AND )*\w+ = \?)", re.S)
_DELETE = re.compile(r"DELETE FROM (\w+) WHERE ((?:\w+ = \? AND )*\w+ = \?)", re.S)
_CONFLICT = re.compile(r"\s*ON CONFLICT \(([\w, ]+)\)")

# Column types per table, per connection (another connection may see another schema).
_TYPES: "weakref.WeakKeyDictionary[Any, dict[str, dict[str, str]]]" = weakref.WeakKeyDictionary()


def write_rows(cursor, sql: str, rows: Sequence[tuple]) -> bool:
    """Write `rows` with one statement if `sql` has a shape above; False if not."""
    if m := _INSERT.fullmatch(sql):
        table, columns, tail = m.group(1), _names(m.group(2)), m.group(3)
        if not tail.strip():
            return _copy(cursor, table, columns, rows)
        conflict = _CONFLICT.match(tail)
        if conflict and _unique(rows, [columns.index(c) for c in _names(conflict.group(1)) if c in columns]):
            return _unnest_insert(cursor, table, columns, tail, rows)
        return False
    if m := _UPDATE.fullmatch(sql):
        sets, keys = _assigned(m.group(2), ", "), _assigned(m.group(3), " AND ")
        return _unnest_update(cursor, m.group(1), sets, keys, rows) if _unique(rows, range(len(sets), len(sets) + len(keys))) else False
    if m := _DELETE.fullmatch(sql):
        keys = _assigned(m.group(2), " AND ")
        return _unnest_delete(cursor, m.group(1), keys, rows) if _unique(rows, range(len(keys))) else False
    return False


# SQLite: rows per multi-row VALUES statement, well within its 32,766 parameters.
_SQLITE_ROWS = 256


def returning_rows(cursor, sql: str, rows: Sequence[tuple], is_sqlite: bool) -> list[tuple]:
    """Run `INSERT INTO t (…) VALUES (?, …) [ON CONFLICT (…) …] RETURNING …` for every
    row and return what it returned: multi-row VALUES on SQLite (3.35+), one unnest'ed
    statement on PostgreSQL; row by row for other shapes or a repeated conflict key."""
    m = _INSERT.fullmatch(sql)
    if m and " RETURNING " in m.group(3):
        table, columns, tail = m.group(1), _names(m.group(2)), m.group(3)
        conflict = _CONFLICT.match(tail)
        if not conflict or _unique(rows, [columns.index(c) for c in _names(conflict.group(1)) if c in columns]):
            if is_sqlite:
                return _sqlite_values_returning(cursor, table, columns, tail, rows)
            found = _arrays(cursor, table, columns, rows)
            if found is not None:
                cursor.execute(f"INSERT INTO {table} ({', '.join(columns)}) SELECT * FROM {found[0]}{tail.replace('%', '%%')}",
                               found[1])
                return cursor.fetchall()
    out: list[tuple] = []
    for row in rows:
        cursor.execute(sql if is_sqlite else sql.replace("?", "%s"), row)
        out.extend(cursor.fetchall())
    return out


def _sqlite_values_returning(cursor, table: str, columns: list[str], tail: str, rows: Sequence[tuple]) -> list[tuple]:
    row_marks = "(" + ", ".join("?" * len(columns)) + ")"
    out: list[tuple] = []
    for start in range(0, len(rows), _SQLITE_ROWS):
        chunk = rows[start:start + _SQLITE_ROWS]
        cursor.execute(f"INSERT INTO {table} ({', '.join(columns)}) VALUES {', '.join([row_marks] * len(chunk))}{tail}",
                       [v for row in chunk for v in row])
        out.extend(cursor.fetchall())
    return out


def _names(text: str) -> list[str]:
    return [n.strip() for n in text.split(",")]


def _assigned(text: str, sep: str) -> list[str]:
    return [part.split(" = ")[0] for part in text.split(sep)]


def _unique(rows: Sequence[tuple], key_positions) -> bool:
    keys = {tuple(row[i] for i in key_positions) for row in rows}
    return len(keys) == len(rows)


def _copy(cursor, table: str, columns: list[str], rows: Sequence[tuple]) -> bool:
    with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
    return True


def _arrays(cursor, table: str, columns: list[str], rows: Sequence[tuple]) -> tuple[str, list[list[Any]]] | None:
    """`unnest(%s::type[], …) AS v(col, …)` and one list per column, or None if a type is unknown."""
    types = _column_types(cursor, table)
    if any(c not in types for c in columns):
        types = _column_types(cursor, table, again=True)  # a migration may have added it
        if any(c not in types for c in columns):
            return None
    casts = ", ".join(f"%s::{types[c]}[]" for c in columns)
    return f"unnest({casts}) AS v({', '.join(columns)})", [_array(col, types[c]) for c, col in zip(columns, zip(*rows))]


_INTEGERS = {"integer", "bigint", "smallint"}
_TEXTS = ("character", "text")  # "character" also starts "character varying(n)"


def _array(values: tuple, pg_type: str) -> Any:
    """One column's values as a PostgreSQL array literal for the `::type[]` cast, where
    the type is text or an integer and every value is of that kind (None is NULL);
    anything else as a list, for psycopg to adapt.

    psycopg adapts a list element by element in Python, and a group's arrays hold tens
    of thousands of elements. The literal is one join: each text element in double quotes, with its backslashes and
    double quotes escaped (nothing else is special inside the quotes)."""
    if pg_type in _INTEGERS and all(type(v) is int or v is None for v in values):
        return "{" + ",".join("NULL" if v is None else str(v) for v in values) + "}"
    if pg_type.startswith(_TEXTS) and all(type(v) is str or v is None for v in values):
        return "{" + ",".join("NULL" if v is None else '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
                              for v in values) + "}"
    return list(values)


def _unnest_insert(cursor, table: str, columns: list[str], tail: str, rows: Sequence[tuple]) -> bool:
    found = _arrays(cursor, table, columns, rows)
    if found is None:
        return False
    source, params = found
    tail = tail.replace("%", "%%")
    cursor.execute(f"INSERT INTO {table} ({', '.join(columns)}) SELECT * FROM {source}{tail}", params)
    return True


def _unnest_update(cursor, table: str, sets: list[str], keys: list[str], rows: Sequence[tuple]) -> bool:
    found = _arrays(cursor, table, sets + keys, rows)
    if found is None:
        return False
    source, params = found
    assign = ", ".join(f"{c} = v.{c}" for c in sets)
    match = " AND ".join(f"t.{k} = v.{k}" for k in keys)
    cursor.execute(f"UPDATE {table} AS t SET {assign} FROM {source} WHERE {match}", params)
    return True


def _unnest_delete(cursor, table: str, keys: list[str], rows: Sequence[tuple]) -> bool:
    found = _arrays(cursor, table, keys, rows)
    if found is None:
        return False
    source, params = found
    match = " AND ".join(f"t.{k} = v.{k}" for k in keys)
    cursor.execute(f"DELETE FROM {table} AS t USING {source} WHERE {match}", params)
    return True


def _column_types(cursor, table: str, again: bool = False) -> dict[str, str]:
    """The table's column types as PostgreSQL names them, cached per connection."""
    cache = _TYPES.setdefault(cursor.connection, {})
    if again or table not in cache:
        cursor.execute(
            "SELECT a.attname, format_type(a.atttypid, a.atttypmod) FROM pg_attribute a "
            "WHERE a.attrelid = %s::regclass AND a.attnum > 0 AND NOT a.attisdropped",
            (table,),
        )
        cache[table] = dict(cursor.fetchall())
    return cache[table]
