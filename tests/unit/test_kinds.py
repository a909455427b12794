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


# -- schema versions: the support window (docs/sync.md, "Schema versions") ---------------
from sync.kinds import SCHEMA_VERSION, SUPPORT_WINDOW, SUPPORTED_SCHEMA_VERSIONS, UPCASTS  # noqa: E402


def test_the_hub_reads_the_current_schema_version_and_those_of_the_two_app_releases_before_it():
    assert SUPPORT_WINDOW == 2
    # Version 1 is the first there was: the window reaches back to it, no further.
    assert SUPPORTED_SCHEMA_VERSIONS == frozenset(range(max(1, SCHEMA_VERSION - SUPPORT_WINDOW), SCHEMA_VERSION + 1))
    assert min(SUPPORTED_SCHEMA_VERSIONS) == 1 and max(SUPPORTED_SCHEMA_VERSIONS) == SCHEMA_VERSION


@pytest.mark.parametrize("version", [-1, 0, SCHEMA_VERSION + 1, 99, 2**31 - 1])
def test_a_schema_version_outside_the_window_is_refused_by_name(version):
    with pytest.raises(UnsupportedSchema, match=f"schema version {version} is not supported"):
        parse_payload("pick.confirmed", version, GOOD)


def test_every_upcast_step_starts_inside_the_window_and_names_a_kind():
    for kind, version in UPCASTS:
        assert kind in KINDS and version in SUPPORTED_SCHEMA_VERSIONS and version < SCHEMA_VERSION


@pytest.mark.parametrize("version", sorted(SUPPORTED_SCHEMA_VERSIONS))
def test_a_payload_from_every_version_in_the_window_reads_as_the_current_one(version):
    written = {"order_id": "o1", "staging": "LOCKER-4"} if version == 1 else {"order_id": "o1", "place": "LOCKER-4"}
    assert parse_payload("order.staging_set", version, written) == parse_payload("order.staging_set", SCHEMA_VERSION,
                                                                                 {"order_id": "o1", "place": "LOCKER-4"})
    # Kinds no version changed read the same at every version in the window.
    assert parse_payload("pick.confirmed", version, GOOD) == PickConfirmed(**GOOD)
