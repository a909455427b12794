import pytest

from sync.errors import MalformedPayload, UnknownOpKind, UnsupportedSchema
from sync.kinds import KINDS, Nature, PickConfirmed, parse_payload

GOOD = {"order_id": "o1", "line_no": 1, "bin": "A-01-1", "sku": "MILK-1L", "qty": 2}


def test_every_kind_is_a_fact_or_a_request():
    assert all(kind.nature in (Nature.FACT, Nature.REQUEST) for kind in KINDS.values())


def test_picks_and_shorts_are_facts():
    assert KINDS["pick.confirmed"].nature is Nature.FACT
    assert KINDS["pick.shorted"].nature is Nature.FACT


def test_well_formed_payload_parses():
    assert parse_payload("pick.confirmed", 1, GOOD) == PickConfirmed(**GOOD)


@pytest.mark.parametrize(
    "payload, field",
    [
        ({**GOOD, "qty": 0}, "payload.qty"),
        ({**GOOD, "qty": "two"}, "payload.qty"),
        ({k: v for k, v in GOOD.items() if k != "sku"}, "payload.sku"),
        ({**GOOD, "colour": "red"}, "payload.colour"),
    ],
)
def test_malformed_payload_names_the_field(payload, field):
    with pytest.raises(MalformedPayload, match=field):
        parse_payload("pick.confirmed", 1, payload)


def test_unknown_kind_and_unknown_schema_are_told_apart():
    with pytest.raises(UnknownOpKind):
        parse_payload("pick.teleported", 1, GOOD)
    with pytest.raises(UnsupportedSchema):
        parse_payload("pick.confirmed", 99, GOOD)
