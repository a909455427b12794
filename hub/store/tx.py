"""`Tx`: one hub transaction, speaking SQL straight to the database driver.

Handlers write SQL with `:name` parameters and read rows by column name. SQLAlchemy
Core cost several times the driver's own time per statement, and a pushed pick runs
a dozen statements, so the hub keeps SQLAlchemy for its engine, pool and schema
migrations only (docs/benchmarks.md).

Results are fetched whole: hub statements return a row, a page or a digest's
worth of rows, never a stream."""

from __future__ import annotations

import json
import re
from collections import namedtuple
from functools import lru_cache
from typing import Any, Callable, Iterator, Sequence

from hub.store.bulk import returning_rows, write_rows

__all__ = ["Tx", "Result", "TABLES", "FEED", "LOG"]

# Flush stages, in the order they are written (see Tx).
TABLES, FEED, LOG = 0, 1, 2

# A quoted string (only its % doubled), a PostgreSQL cast `::`, a `:name` parameter, a `?`, or a bare %.
_TOKENS = re.compile(r"'(?:[^']|'')*'|::|:([A-Za-z_]\w*)|\?|%")


@lru_cache(maxsize=2048)
def _to_pyformat(sql: str) -> str:
    """`:name` → `%(name)s` and `?` → `%s` for psycopg, with literal % doubled."""

    def swap(m: re.Match) -> str:
        token = m.group(0)
        if m.group(1):
            return f"%({m.group(1)})s"
        if token == "?":
            return "%s"
        return token if token == "::" else token.replace("%", "%%")

    return _TOKENS.sub(swap, sql)


def _expand_lists(sql: str, params: dict[str, Any], as_array: bool) -> tuple[str, dict[str, Any]]:
    """`x IN :ids` with a list value, as one statement text whatever the list's
    length, so the database prepares it once: on PostgreSQL (`as_array`)
    `x = ANY(:ids)` (`NOT IN`: `<> ALL`) with the list sent as one array; on SQLite
    `x IN (SELECT value FROM json_each(:ids))` with the list sent as JSON text.

    Not `x IN (:ids_0, :ids_1, …)` on SQLite: it matches each `:name` against those
    before it, which made long lists several times slower.
    Lists JSON can't carry as SQLite values (dates, bytes) still go that way."""
    for name, value in list(params.items()):
        if not isinstance(value, (list, tuple)):
            continue
        pattern = rf"\b(NOT\s+)?IN\s+:{name}\b"
        if as_array and value:
            sql, found = re.subn(pattern, lambda m: f"<> ALL(:{name})" if m.group(1) else f"= ANY(:{name})", sql,
                                 flags=re.IGNORECASE)
            if found:
                params[name] = list(value)
                continue
        if not as_array and all(type(v) in _JSON_SAFE for v in value):
            sql, found = re.subn(pattern, lambda m: f"{m.group(1) or ''}IN (SELECT value FROM json_each(:{name}))",
                                 sql, flags=re.IGNORECASE)
            if found:
                params[name] = json.dumps(value)
                continue
        names = [f"{name}_{i}" for i in range(len(value))] or [name + "_none"]
        params.update(zip(names, value) if value else [(names[0], None)])
        del params[name]
        sql = re.sub(rf":{name}\b", "(" + ", ".join(":" + n for n in names) + ")", sql)
    return sql, params


# Values that come back out of json_each as the same SQLite value they would bind as.
_JSON_SAFE = (str, int)


# A row as a named tuple of the statement's columns. Typed Any: its fields come from
# the SQL text, which no type checker reads.
Row = Any


@lru_cache(maxsize=1024)
def _row_type(columns: tuple[str, ...]) -> Callable[[tuple[Any, ...]], Row]:
    return namedtuple("Row", columns, rename=True)._make  # type: ignore[attr-defined]


class Result:
    """The rows of one statement (as named tuples), or the count it changed.

    Rows become named tuples when first asked for as rows; `scalars`, `mappings`
    and `tuples` read the driver's tuples directly (a 5,000-row feed page was
    spending a third of its time building tuples nobody read by name)."""

    __slots__ = ("_raw", "_named", "_columns", "rowcount")

    def __init__(self, columns: tuple[str, ...] | None, rows: list[tuple], rowcount: int):
        self._columns = columns
        self._raw = rows if columns else []
        self._named: list[Row] | None = None
        self.rowcount = rowcount

    @property
    def _rows(self) -> list[Row]:
        if self._named is None:
            self._named = list(map(_row_type(self._columns), self._raw)) if self._columns else []
        return self._named

    def tuples(self) -> list[tuple]:
        """The rows as the driver gave them: plain tuples in column order."""
        return self._raw

    def __iter__(self) -> Iterator[Row]:
        return iter(self._rows)

    def all(self) -> list[Row]:
        return self._rows

    fetchall = all

    def first(self) -> Row | None:
        return self._rows[0] if self._rows else None

    fetchone = first

    def one(self) -> Row:
        if len(self._rows) != 1:
            raise LookupError(f"expected one row, got {len(self._rows)}")
        return self._rows[0]

    def one_or_none(self):
        if len(self._rows) > 1:
            raise LookupError(f"expected at most one row, got {len(self._rows)}")
        return self.first()

    def scalar(self):
        return self._raw[0][0] if self._raw else None

    def scalar_one(self):
        return self.one()[0]

    def scalars(self) -> "Listing":
        """The first column of every row."""
        return Listing(row[0] for row in self._raw)

    def mappings(self) -> "Listing":
        """Every row as a dict keyed by column name."""
        columns = self._columns or ()
        return Listing(dict(zip(columns, row)) for row in self._raw)


class Listing(list):
    """Values or dict rows from a Result, with the same all/first/one."""

    def all(self) -> list:
        return self

    def first(self):
        return self[0] if self else None

    def one(self):
        if len(self) != 1:
            raise LookupError(f"expected one row, got {len(self)}")
        return self[0]


class Tx:
    """A transaction the hub's `Database` opened; `execute` runs one statement in it.

    `sa` is the SQLAlchemy connection underneath, for schema work (migrations).
    `staged` holds writes a module gathers during the transaction and writes in
    one go from a flush it registered with `on_flush`, stage by stage: state held
    in memory back into its tables (TABLES), then the change feed, which reads
    those tables (FEED), then the op log, whose answers carry the feed's head (LOG)."""

    __slots__ = ("sa", "_cursor", "is_sqlite", "staged", "_flushes")

    def __init__(self, sa_connection):
        self.sa = sa_connection
        # One cursor for the whole transaction: every result is fetched at once.
        self._cursor = sa_connection.connection.driver_connection.cursor()
        self.is_sqlite = sa_connection.dialect.name == "sqlite"
        self.staged: dict[str, Any] = {}
        self._flushes: dict[tuple[int, str], Callable[["Tx"], Any]] = {}

    def execute(self, sql, params: dict[str, Any] | None = None) -> Result:
        """Run `sql` (`:name` parameters, a str or a SQLAlchemy `text()`) with `params`."""
        sql = sql if isinstance(sql, str) else sql.text
        params = params or {}
        if any(isinstance(v, (list, tuple)) for v in params.values()):
            sql, params = _expand_lists(sql, dict(params), as_array=not self.is_sqlite)
        self._cursor.execute(sql if self.is_sqlite else _to_pyformat(sql), params)
        return self._result(self._cursor)

    def executemany(self, sql: str, rows: Sequence[dict[str, Any]] | Sequence[Sequence[Any]]) -> None:
        """Run `sql` once per row of parameters (no results): dicts for `:name`
        parameters, or tuples for `?` ones (the hot inserts: half the binding cost;
        on PostgreSQL, the shapes hub.store.bulk knows go as one statement)."""
        if not rows:
            return
        if not self.is_sqlite and isinstance(rows[0], tuple) and write_rows(self._cursor, sql, rows):  # type: ignore[arg-type]
            return
        self._cursor.executemany(sql if self.is_sqlite else _to_pyformat(sql), rows)

    def executemany_returning(self, sql: str, rows: Sequence[tuple]) -> list[tuple]:
        """`INSERT … VALUES (?, …) … RETURNING …` for every row (tuples); what it returned."""
        return returning_rows(self._cursor, sql, rows, self.is_sqlite) if rows else []

    def exec_driver_sql(self, sql: str, params: Sequence[Any] | None = None) -> Result:
        """Run `sql` exactly as the driver takes it (its own parameter style)."""
        if params:
            self._cursor.execute(sql, params)
        else:
            self._cursor.execute(sql)
        return self._result(self._cursor)

    def on_flush(self, name: str, flush: Callable[["Tx"], Any], stage: int = TABLES) -> None:
        """Have `flush(self)` run once at the next `flush()` that reaches `stage`,
        at the latest before commit; stages run in order (TABLES, FEED, LOG)."""
        self._flushes.setdefault((stage, name), flush)

    def flush(self, through: int = LOG) -> None:
        """Write what is staged up to and including stage `through` (the database
        flushes everything before it commits)."""
        while self._flushes:
            key = min(self._flushes)
            if key[0] > through:
                return
            self._flushes.pop(key)(self)

    def discard_staged(self) -> None:
        """Forget what is staged (its writes were rolled back)."""
        self.staged.clear()
        self._flushes.clear()

    def close(self) -> None:
        self._cursor.close()

    @staticmethod
    def _result(cursor) -> Result:
        if cursor.description is None:
            return Result(None, [], cursor.rowcount)
        columns = tuple(d[0] for d in cursor.description)
        return Result(columns, cursor.fetchall(), cursor.rowcount)
