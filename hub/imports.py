"""CSV import and export of the catalogue, bins and stock.

An import reads the whole file first and checks every row against the file and the
hub (a dry run stops there): every bad row is reported with its line number, and if
there is one, nothing is applied. A good file is applied in batches of IMPORT_BATCH
rows, each batch one logged hub command in its own transaction, so devices get the
rows through their normal feed. Running the same file again changes nothing more:
items and bins are upserts, and a stock row sets the bin's figure (the ledger records
the difference as a `snapshot` movement).

    items   sku,name,gtins,unit_weight_g,length_mm,width_mm,height_mm,hazmat,min_age[,category,size_qty,size_unit,price]
    bins    location,code,seq,zone
    stock   location,bin,sku,on_hand

`gtins` holds barcodes separated by `|`; `hazmat` is yes/no (also true/false, 1/0).
The last four item columns (optional, what the substitute rule compares) are the
item's category, its size (500 and g), and its price in the currency's units (2.49)."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import IO, Any

from pydantic import BaseModel, ValidationError

from hub.access import Access
from hub.commands import IMPORT_BATCH, BinAdded, ItemUpserted, SnapshotRow
from hub.errors import Forbidden, Invalid
from hub.log import run_hub_command
from hub.network_actions import gtin_problem
from hub.store.db import Database
from hub.store.tx import Tx
from sync.kinds import PRINTABLE

__all__ = ["COLUMNS", "KINDS", "REQUIRED", "Report", "apply", "check", "export_csv", "import_csv", "text_of"]

KINDS = ("items", "bins", "stock")
COLUMNS = {
    "items": ("sku", "name", "gtins", "unit_weight_g", "length_mm", "width_mm", "height_mm", "hazmat", "min_age",
              "category", "size_qty", "size_unit", "price"),  # substitution at pick: the last four
    "bins": ("location", "code", "seq", "zone"),
    "stock": ("location", "bin", "sku", "on_hand"),
}
REQUIRED = {"items": ("sku", "name"), "bins": ("location", "code", "seq"), "stock": ("location", "bin", "sku", "on_hand")}
_INTS = {"unit_weight_g", "length_mm", "width_mm", "height_mm", "min_age", "seq", "on_hand", "size_qty"}
_YES, _NO = {"yes", "y", "true", "1"}, {"no", "n", "false", "0", ""}
_CHUNK = 5000  # keys per look-up query
MAX_BAD_SHOWN = 1000  # a report names this many bad rows at most, and says how many there were


@dataclass
class Report:
    """What an import found and did."""

    kind: str
    rows: int = 0  # data rows read
    bad: list[tuple[int, str]] = field(default_factory=list)  # (line, what is wrong), in line order
    applied: int = 0  # rows applied (0 for a dry run or a file with bad rows)
    batches: int = 0
    dry_run: bool = True

    @property
    def ok(self) -> bool:
        return not self.bad

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "rows": self.rows, "bad_rows": len(self.bad), "applied": self.applied,
                "batches": self.batches, "dry_run": self.dry_run,
                "errors": [{"line": line, "error": error} for line, error in self.bad[:MAX_BAD_SHOWN]]}


@dataclass
class _Row:
    line: int
    model: Any  # ItemUpserted, BinAdded, or (location, SnapshotRow)


def check(conn: Tx, access: Access, kind: str, text: Iterable[str]) -> tuple[Report, list[_Row]]:
    """Read and check every row; changes nothing. Raises Invalid for an unknown kind."""
    if kind not in KINDS:
        raise Invalid(f"kind: {kind!r} is not one of {', '.join(KINDS)}")
    report = Report(kind)
    if kind == "items" and access.role != "network_admin":
        report.bad.append((1, "the catalogue is the network's: only a network admin imports items"))
        return report, []
    rows = list(_parse(kind, text, report))
    {"items": _check_items, "bins": _check_bins, "stock": _check_stock}[kind](conn, access, rows, report)
    bad_lines = {line for line, _ in report.bad}
    report.bad.sort()
    return report, [r for r in rows if r.line not in bad_lines]


def _parse(kind: str, text: Iterable[str], report: Report) -> Iterator[_Row]:
    reader = csv.DictReader(text)
    header = [h.strip() for h in reader.fieldnames or []]
    reader.fieldnames = header
    missing = [c for c in REQUIRED[kind] if c not in header]
    unknown = [c for c in header if c not in COLUMNS[kind]]
    if missing or unknown:
        said = ([f"missing column {', '.join(missing)}"] if missing else []) + (
            [f"unknown column {', '.join(unknown)}"] if unknown else [])
        report.bad.append((1, f"header: {'; '.join(said)} (columns: {','.join(COLUMNS[kind])})"))
        return
    last = reader.line_num
    for record in reader:
        report.rows += 1
        line, last = last + 1, reader.line_num  # a quoted line break: the row's first line
        if None in record:
            report.bad.append((line, f"this row has more fields than the header's {len(header)}"))
            continue
        try:
            yield _Row(line, _model(kind, record))
        except _BadRow as exc:
            report.bad.append((line, str(exc)))


class _BadRow(Exception):
    """A row that does not read."""


def _model(kind: str, record: dict[str, str | None]) -> Any:
    values: dict[str, Any] = {}
    for column, raw in record.items():
        text = (raw or "").strip()
        if column in _INTS:
            if text == "":
                continue
            try:
                values[column] = int(text)
            except ValueError:
                raise _BadRow(f"{column}: {text!r} is not a whole number") from None
        elif column == "hazmat":
            if text.lower() not in _YES | _NO:
                raise _BadRow(f"hazmat: {text!r} is not yes or no")
            values[column] = text.lower() in _YES
        elif column == "price" and text:
            values["price_cents"] = _cents(text)
        elif column == "gtins":
            values["barcodes"] = [code.strip() for code in text.split("|") if code.strip()]
        elif text != "" or column in REQUIRED[kind]:
            values[column] = text
    if kind == "stock":
        location = values.pop("location", "")
        if not location:
            raise _BadRow("location: a location code is required")
        return location, _validated(SnapshotRow, values)
    return _validated(ItemUpserted if kind == "items" else BinAdded, values)


def _cents(text: str) -> int:
    """A price as typed (2.49, 2, 2.5) in cents; raises _BadRow."""
    whole, _, frac = text.partition(".")
    if not whole.isdigit() or not (frac.isdigit() or frac == "") or len(frac) > 2:
        raise _BadRow(f"price: {text[:20]!r} is not a price like 2.49")
    return int(whole) * 100 + int(frac.ljust(2, "0") or 0)


def _validated(model: type[BaseModel], values: dict[str, Any]) -> Any:
    try:
        return model.model_validate(values)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"]).replace("barcodes", "gtins")
        said = "has a line break or another control character" if err.get("ctx", {}).get("pattern") == PRINTABLE else err["msg"]
        raise _BadRow(f"{where}: {said}") from None


def _chunks(values: list[str]) -> Iterator[list[str]]:
    for start in range(0, len(values), _CHUNK):
        yield values[start:start + _CHUNK]


def _check_items(conn: Tx, _access: Access, rows: list[_Row], report: Report) -> None:
    first_sku: dict[str, int] = {}
    owner: dict[str, tuple[str, int]] = {}
    for r in rows:
        item: ItemUpserted = r.model
        if item.sku in first_sku:
            report.bad.append((r.line, f"sku: {item.sku} is on line {first_sku[item.sku]} too"))
            continue
        first_sku[item.sku] = r.line
        for code in item.barcodes:
            if problem := gtin_problem(code):
                report.bad.append((r.line, problem))
            elif code in owner and owner[code][0] != item.sku:
                report.bad.append((r.line, f"gtins: {code} is {owner[code][0]}'s on line {owner[code][1]}"))
            else:
                owner.setdefault(code, (item.sku, r.line))
    for chunk in _chunks(sorted(owner)):
        for row in conn.execute("SELECT code, sku FROM barcodes WHERE code IN :c", {"c": chunk}):
            if row.sku != owner[row.code][0]:
                report.bad.append((owner[row.code][1], f"gtins: {row.code} already belongs to {row.sku}"))


def _locations(conn: Tx, access: Access, wanted: set[str]) -> dict[str, str | None]:
    """Each location named → None if the caller may change it, else why not."""
    known = {r.code for r in conn.execute("SELECT code FROM locations WHERE code IN :l", {"l": sorted(wanted)})}
    return {loc: (None if loc in known and access.changes(loc) else
                  f"location: unknown location {loc!r}" if loc not in known or not access.sees(loc) else
                  f"location: a {access.role.replace('_', ' ')} may not change {loc}") for loc in wanted}


def _check_bins(conn: Tx, access: Access, rows: list[_Row], report: Report) -> None:
    allowed = _locations(conn, access, {r.model.location for r in rows})
    first: dict[tuple[str, str], int] = {}
    for r in rows:
        key = (r.model.location, r.model.code)
        if problem := allowed[r.model.location]:
            report.bad.append((r.line, problem))
        elif key in first:
            report.bad.append((r.line, f"code: bin {key[1]} at {key[0]} is on line {first[key]} too"))
        else:
            first[key] = r.line


def _check_stock(conn: Tx, access: Access, rows: list[_Row], report: Report) -> None:
    allowed = _locations(conn, access, {r.model[0] for r in rows})
    bins = {(r.location, r.code) for loc in allowed if allowed[loc] is None
            for r in conn.execute("SELECT location, code FROM bins WHERE location = :l", {"l": loc})}
    skus: set[str] = set()
    for chunk in _chunks(sorted({r.model[1].sku for r in rows})):
        skus.update(conn.execute("SELECT sku FROM items WHERE sku IN :s", {"s": chunk}).scalars().all())
    first: dict[tuple[str, str, str], int] = {}
    for r in rows:
        location, row = r.model
        key = (location, row.bin, row.sku)
        if problem := allowed[location]:
            report.bad.append((r.line, problem))
        elif (location, row.bin) not in bins:
            report.bad.append((r.line, f"bin: no bin {row.bin!r} at {location!r}"))
        elif row.sku not in skus:
            report.bad.append((r.line, f"sku: unknown SKU {row.sku!r}"))
        elif key in first:
            report.bad.append((r.line, f"sku: {row.sku} in bin {row.bin} at {location} is on line {first[key]} too"))
        else:
            first[key] = r.line


Progress = Callable[[int, int], None]  # (rows applied so far, rows in all)


def _batches(kind: str, rows: list[_Row]) -> Iterator[tuple[str, dict[str, Any], int]]:
    """(command kind, payload, rows in it) for each batch; stock batches are per location."""
    if kind == "stock":
        by_location: dict[str, list[dict[str, Any]]] = {}
        for r in rows:
            by_location.setdefault(r.model[0], []).append(r.model[1].model_dump())
        for location, found in by_location.items():
            for start in range(0, len(found), IMPORT_BATCH):
                part = found[start:start + IMPORT_BATCH]
                yield "stock.snapshot_imported", {"location": location, "rows": part}, len(part)
        return
    command, key = ("catalogue.items_imported", "items") if kind == "items" else ("bins.imported", "bins")
    for start in range(0, len(rows), IMPORT_BATCH):
        part = [r.model.model_dump(exclude_defaults=True) for r in rows[start:start + IMPORT_BATCH]]
        yield command, {key: part}, len(part)


def apply(db: Database, access: Access, kind: str, rows: list[_Row], report: Report,
          progress: Progress | None = None) -> Report:
    """Apply checked rows in batches, each its own transaction and logged hub command."""
    report.dry_run = False
    for command, payload, count in _batches(kind, rows):
        with db.write() as conn:
            run_hub_command(conn, command, payload, actor=access.actor)
        report.applied += count
        report.batches += 1
        if progress:
            progress(report.applied, len(rows))
    return report


def import_csv(db: Database, access: Access, kind: str, text: Iterable[str], dry_run: bool = False,
               progress: Progress | None = None) -> Report:
    """Check a CSV file and, unless `dry_run` or a row is bad, apply it. Raises Forbidden
    for a viewer, Invalid for an unknown kind."""
    if access.role == "viewer":
        raise Forbidden("a viewer may not import")
    with db.read() as conn:
        report, rows = check(conn, access, kind, text)
    report.dry_run = dry_run
    if dry_run or not report.ok:
        return report
    return apply(db, access, kind, rows, report, progress)


_EXPORT_SQL = {
    "items": "SELECT sku, name, unit_weight_g, length_mm, width_mm, height_mm, hazmat, min_age, "
             "category, size_qty, size_unit, price_cents FROM items "
             "WHERE sku > :k ORDER BY sku LIMIT :n",
    "bins": "SELECT location, code, seq, zone FROM bins WHERE (location, code) > (:l, :k) ORDER BY location, code LIMIT :n",
    "stock": "SELECT location, bin, sku, on_hand FROM stock WHERE (location, bin, sku) > (:l, :b, :k) "
             "ORDER BY location, bin, sku LIMIT :n",
}


def export_csv(db: Database, access: Access, kind: str, out: IO[str]) -> int:
    """Write every row the caller may see as CSV (the import's columns), page by page;
    returns the number of rows. Raises Invalid for an unknown kind."""
    if kind not in KINDS:
        raise Invalid(f"kind: {kind!r} is not one of {', '.join(KINDS)}")
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS[kind])
    key: dict[str, Any] = {"l": "", "b": "", "k": ""}
    written = 0
    while True:
        with db.read() as conn:
            page = [dict(r) for r in conn.execute(_EXPORT_SQL[kind], {**key, "n": _CHUNK}).mappings()]
            if kind == "items" and page:
                codes: dict[str, list[str]] = {r["sku"]: [] for r in page}
                for row in conn.execute("SELECT sku, code FROM barcodes WHERE sku IN :s ORDER BY code", {"s": list(codes)}):
                    codes[row.sku].append(row.code)
        if not page:
            return written
        for r in page:
            if kind == "items":
                writer.writerow([r["sku"], r["name"], "|".join(codes[r["sku"]]), *_blank(r["unit_weight_g"], r["length_mm"],
                                 r["width_mm"], r["height_mm"]), "yes" if r["hazmat"] else "no", _blank(r["min_age"])[0],
                                 *_blank(r["category"], r["size_qty"], r["size_unit"]), _price(r["price_cents"])])
            elif access.sees(r["location"]):
                writer.writerow([_blank(v)[0] for v in r.values()])
            else:
                continue
            written += 1
        last = page[-1]
        key = {"l": last.get("location", ""), "b": last.get("bin", ""), "k": last.get("sku", last.get("code", ""))}


def _price(cents: int | None) -> str:
    return "" if cents is None else f"{cents // 100}.{cents % 100:02d}"


def _blank(*values: Any) -> list[Any]:
    return ["" if v is None else v for v in values]


def text_of(data: bytes) -> io.StringIO:
    """An uploaded file's text (UTF-8, a byte-order mark allowed); raises Invalid."""
    try:
        return io.StringIO(data.decode("utf-8-sig"), newline="")
    except UnicodeDecodeError as exc:
        raise Invalid(f"file: not UTF-8 text (byte {exc.start})") from exc
