"""The scan field under latency, reordering, lost clears and outages: every scan whole and once."""

import pytest

from devices.errors import IncompleteScan
from devices.scan import BinLabel
from devices.scan_field import MARKS, FieldConfig, FieldReader
from devices.wedge import WedgeConfig

from field_network import Network, in_order_subset, simulate

WIFI = Network(up=(0.02, 0.07), down=(0.05, 0.2))
SLOW = Network(up=(0.1, 0.4), down=(0.3, 0.8))
FAR = Network(up=(0.9, 1.3), down=(0.9, 1.3))  # a round trip past 2 s
TCP = Network(up=(0.1, 0.4), down=(0.3, 0.8), in_order=True)  # Flet's WebSocket: nothing overtakes
# The reader is told how far changes may overtake each other (the spread of the up latency).
FOR_WIFI = FieldConfig()
FOR_SLOW = FieldConfig(reorder_window=0.3, scan_gap=0.35)
FOR_FAR = FieldConfig(reorder_window=0.4, scan_gap=0.45)
FOR_TCP = FieldConfig(reorder_window=0.0, scan_gap=0.35)
NETWORKS = [("wifi", WIFI, FOR_WIFI), ("slow", SLOW, FOR_SLOW), ("far", FAR, FOR_FAR), ("tcp", TCP, FOR_TCP)]


@pytest.mark.parametrize(("name", "network", "config"), NETWORKS, ids=[n for n, _, _ in NETWORKS])
def test_every_scan_is_read_whole_and_once_in_order_whatever_the_round_trip(name, network, config):
    run = simulate(FieldReader(config), network, scans=1500, seed=hash(name) % 1000)
    assert run.read == run.scanned
    assert run.refused == [] and run.landed == run.clears > 100  # the field really was cleared, often mid-scan


@pytest.mark.parametrize(("name", "network", "config"), NETWORKS[:2], ids=["wifi", "slow"])
def test_clears_that_never_arrive_change_nothing(name, network, config):
    lossy = Network(network.up, network.down, lost_clears=0.3)
    run = simulate(FieldReader(config), lossy, scans=1000, seed=7)
    assert run.read == run.scanned and run.landed < run.clears


def test_through_outages_no_scan_is_read_twice_or_wrong_and_every_one_is_read_or_refused():
    lossy = Network(SLOW.up, SLOW.down, lost_clears=0.2, outages_per_hour=60)
    run = simulate(FieldReader(FOR_SLOW), lossy, scans=1500, seed=11)
    assert in_order_subset(run.read, run.scanned)
    assert len(run.read) + len(run.refused) == len(run.scanned)
    assert all("connection dropped" in b.problem for b in run.refused)
    assert len(run.read) > 0.9 * len(run.scanned)


@pytest.mark.parametrize(("name", "network", "config"), NETWORKS, ids=[n for n, _, _ in NETWORKS])
def test_digits_typed_before_a_scan_never_merge_with_it(name, network, config):
    jitter = network.up[1] - network.up[0]
    pause = (config.scan_gap + jitter + 0.05, 2.0)  # a person needs a moment to pick up the scanner
    run = simulate(FieldReader(config), network, scans=600, seed=3, typing_first=0.3, pause=pause)
    assert in_order_subset(run.read, run.scanned)
    assert len(run.read) + len(run.refused) == len(run.scanned) and len(run.refused) > 100
    for burst in run.refused:
        with pytest.raises(IncompleteScan, match="typed characters ran into a scan"):
            burst.to_scan()


def test_with_a_scanner_prefix_typing_and_scans_are_told_apart_exactly_on_any_network():
    config = FieldConfig(wedge=WedgeConfig(prefix="$"), reorder_window=0.4, scan_gap=0.45)
    run = simulate(FieldReader(config), FAR, scans=600, seed=5, typing_first=0.3, pause=(0.0, 1.0), prefix="$")
    assert run.read == run.scanned  # every scan, even right after the typing
    assert all(b.text.isdigit() and not b.by_scanner for b in run.refused)  # only the typed digits


# The pieces, one by one. Values are what Flet's change event carries: the whole field.
M0, M1 = MARKS[0], MARKS[1]


def codes(bursts):
    return [b.text for b in bursts if b.complete]


def test_a_repeat_scan_after_a_clear_is_read_again():
    reader = FieldReader(FieldConfig(clear_at_lines=1))
    assert codes(reader.on_change(M0 + "BIN:A-01-1\n", 1.0)) == ["BIN:A-01-1"]
    assert reader.clear_value(2.5) == M1
    reader.on_change(M1 + "BIN:A-01-1\n", 3.0)
    assert codes(reader.flush(3.5)) == ["BIN:A-01-1"]
    assert reader.on_change(M0 + "BIN:A-01-1\n", 3.6) == []  # a late copy of the old value


def test_a_clear_landing_mid_scan_gives_one_whole_scan():
    reader = FieldReader(FieldConfig(clear_at_lines=1))
    reader.on_change(M0 + "TOTE:T1\n", 1.0)
    reader.clear_value(2.5)
    reader.on_change(M0 + "TOTE:T1\nBIN:A-", 2.6)  # typed before the clear landed
    reader.on_change(M1 + "01-1\n", 2.7)  # the rest, after
    assert reader.flush(2.8) == [] and codes(reader.flush(3.1)) == ["BIN:A-01-1"]
    assert reader.on_change(M0 + "TOTE:T1\nBIN:A-0", 3.2) == []  # a straggler changes nothing


def test_changes_that_overtake_each_other_are_read_in_typing_order():
    reader = FieldReader()
    out = reader.on_change(M0 + "BIN:A-01-1\n", 1.0) + reader.on_change(M0 + "BIN:A-0", 1.01)
    assert codes(out) == ["BIN:A-01-1"]


def test_a_persons_edit_replaces_the_unfinished_line():
    reader = FieldReader()
    for at, value in enumerate(["A", "A-", "A-9", "A-", "A-0", "A-01", "A-01\n"]):
        out = reader.on_change(M0 + value, float(at))
    (burst,) = out
    assert burst.text == "A-01" and not burst.by_scanner


def test_a_scanner_that_stalls_inside_a_scan_is_one_code_in_the_field_too():
    reader = FieldReader()
    value, out, t = M0, [], 1.0
    for index, char in enumerate("BIN:A-01-12\n"):
        value += char
        t += 0.004 + (0.8 if index == 7 else 0.0)  # stalls after BIN:A-0
        out += reader.on_change(value, t)
    assert [(b.to_scan().meaning, b.by_scanner) for b in out] == [(BinLabel("A-01-12"), True)]


def test_the_field_is_cleared_only_when_quiet_and_no_scan_is_unfinished():
    reader = FieldReader(FieldConfig(clear_at_lines=2, quiet_before_clear=1.0))
    reader.on_change(M0 + "A1X\nB2Y\nC", 1.0)
    assert reader.clear_value(5.0) is None  # a scan is half typed
    reader.on_change(M0 + "A1X\nB2Y\nC3Z\n", 5.0)
    assert reader.clear_value(5.5) is None and reader.clear_value(6.0) == M1


def test_a_field_without_its_mark_is_read_as_the_newest_one():
    reader = FieldReader()
    reader.on_change(M0 + "X1", 1.0)
    assert codes(reader.on_change("X12\n", 2.0)) == ["X12"]  # the person deleted the mark with the text


def _keyed(reader: FieldReader, arrivals: list[tuple[str, float]]) -> list:
    """Feed one change per key, each with the time the app took it."""
    value, out = M0, []
    for char, at in arrivals:
        value += char
        out += reader.on_change(value, at)
    return out


def _stalled_scan(code: str, before: int, start: float, stall: float) -> list[tuple[str, float]]:
    """A scanner's keys as a held-up app takes them: `before` keys at scanner speed, then
    nothing for `stall` seconds, then the rest (queued meanwhile) all at once."""
    keys = [(c, start + 0.004 * i) for i, c in enumerate(code[:before])]
    resumed = start + 0.004 * before + stall
    return keys + [(c, resumed + 0.0005 * i) for i, c in enumerate(code[before:] + "\n")]


def test_a_pause_the_app_made_itself_does_not_make_a_scan_look_typed():
    arrivals = _stalled_scan("BIN:A-01-1", before=3, start=10.0, stall=0.6)
    blind = FieldReader()
    (refused,) = _keyed(blind, arrivals)
    assert not refused.complete and "typed characters ran into a scan" in refused.problem  # what CI saw

    told = FieldReader()
    told.stalled(10.05, 10.6)  # the app's timer was due at 10.05 and ran at 10.6
    (scan,) = _keyed(told, arrivals)
    assert scan.complete and scan.by_scanner and scan.to_scan().meaning == BinLabel("A-01-1")


def test_a_stall_elsewhere_does_not_excuse_typing_run_into_a_scan():
    typed = [(c, 20.0 + 0.3 * i) for i, c in enumerate("12")]
    scanned = [(c, 21.0 + 0.004 * i) for i, c in enumerate("4006381333931\n")]
    reader = FieldReader()
    reader.stalled(5.0, 9.0)  # long before the line
    reader.stalled(20.9, 20.95)  # too short to close the person's pause before the scan
    (refused,) = _keyed(reader, typed + scanned)
    assert not refused.complete and "typed characters ran into a scan" in refused.problem


def test_one_stall_reported_twice_is_counted_once():
    reader = FieldReader()
    reader.stalled(10.05, 10.3)  # the field saw the loop late at a key ...
    reader.stalled(10.05, 10.6)  # ... and the timer saw the same stall end later
    arrivals = [(c, 10.0 + 0.004 * i) for i, c in enumerate("ABC")] + [(c, 10.9 + 0.0005 * i) for i, c in enumerate("DEFGHIJ\n")]
    (refused,) = _keyed(reader, arrivals)  # 0.9 s less a 0.55 s stall: a pause of 0.34 s is still a pause
    assert not refused.complete
