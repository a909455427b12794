"""What the CSV import says of each bad row: the line it is on (the header is line 1)
and the field at fault, for the shapes a spreadsheet export really has (a byte-order
mark, spaces around the header, quoted commas and line breaks, short and long rows)."""

from __future__ import annotations

import pytest

from hub.access import Access, network_admin
from hub.imports import check, text_of
from hub.seed import seed_demo
from hub.store.db import Database
from hub.store.migrations import migrate


@pytest.fixture
def db(sqlite_hub_url):
    database = Database(sqlite_hub_url)
    migrate(database)
    seed_demo(database)
    yield database
    database.dispose()


def bad_rows(db: Database, kind: str, text: str, access: Access | None = None) -> list[tuple[int, str]]:
    with db.read() as conn:
        report, _rows = check(conn, access or network_admin("test"), kind, text_of(text.encode()))
    return report.bad


@pytest.mark.parametrize(("kind", "text", "expected"), [
    ("items", "\ufeff sku , name \nA-1,Fine\n", []),
    ("items", 'sku,name\nA-1,"Tea, green"\nA-2,"two\nlines"\nA-3,\n', [
        (3, "name: has a line break or another control character"), (5, "name: String should have at least 1 character")]),
    ("items", "sku,name\nA-1,Fine,extra\n", [(2, "this row has more fields than the header's 2")]),
    ("items", "sku,name,unit_weight_g\nA-1,Fine,1.5\n", [(2, "unit_weight_g: '1.5' is not a whole number")]),
    ("items", "sku,name,unit_weight_g\nA-1,Fine,-3\n", [(2, "unit_weight_g: Input should be greater than or equal to 0")]),
    ("items", "sku,name,gtins\nA-1,Fine,4006381333931\n", [(2, "gtins: 4006381333931 already belongs to MILK-1L")]),
    ("items", "sku,name,gtins\nA-1,Fine,96385074\nA-2,Same,96385074\n", [(3, "gtins: 96385074 is A-1's on line 2")]),
    ("items", "sku,name,colour\nA-1,Fine,red\n", [(1, "header: unknown column colour (columns: sku,name,gtins,"
                                                       "unit_weight_g,length_mm,width_mm,height_mm,hazmat,min_age,"
                                                       "category,size_qty,size_unit,price)")]),
        # substitution at pick: what the substitute rule compares
        ("items", "sku,name,price\nA-1,Fine,2.495\nA-2,Fine,cheap\n", [(2, "price: '2.495' is not a price like 2.49"),
                                                                       (3, "price: 'cheap' is not a price like 2.49")]),
        ("items", "sku,name,size_qty,size_unit\nA-1,Fine,0,g\nA-2,Fine,5,kg!\n", [
            (2, "size_qty: Input should be greater than 0"), (3, "size_unit: String should match pattern '^[A-Za-z]+$'")]),
    ("bins", "location,code,seq\nDEMO-1,N-1,5\nDEMO-1,N-1,6\n", [(3, "code: bin N-1 at DEMO-1 is on line 2 too")]),
    ("bins", "location,code,seq\nDEMO-1,N-1,\n", [(2, "seq: Field required")]),
    ("stock", "location,bin,sku,on_hand\nDEMO-1,A-01-1,MILK-1L,-1\n", [(2, "on_hand: Input should be greater than or equal to 0")]),
    ("stock", "location,bin,sku,on_hand\n,A-01-1,MILK-1L,1\n", [(2, "location: a location code is required")]),
    ("stock", "location,bin,sku,on_hand\nDEMO-1,A-01-1,NOPE,1\n", [(2, "sku: unknown SKU 'NOPE'")]),
])
def test_each_bad_row_is_named_by_its_line_and_field(db, kind, text, expected):
    assert bad_rows(db, kind, text) == expected


def test_a_store_manager_imports_only_at_its_own_locations(db):
    manager = Access("store_manager", "console:sam", frozenset({"DEMO-1"}))
    text = "location,code,seq\nDEMO-1,N-1,5\nDEMO-DS,N-2,6\nNOWHERE,N-3,7\n"
    assert bad_rows(db, "bins", text, manager) == [(3, "location: unknown location 'DEMO-DS'"),
                                                   (4, "location: unknown location 'NOWHERE'")]
    assert bad_rows(db, "items", "sku,name\nA,B\n", manager)[0][1].startswith("the catalogue is the network's")
