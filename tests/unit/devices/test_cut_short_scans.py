"""A scan cut short (a scanner that stalls, an Enter that never comes) is never read as a valid code."""

import pytest

from devices import parse_scan
from devices.codes import LabelRules, bin_label_data, tote_label_data
from devices.errors import IncompleteScan, LabelError, MalformedLabel
from devices.parse import ScanOptions
from devices.scan import BinLabel, GS1Data, ToteLabel
from devices.wedge import WedgeConfig, WedgeReader

KEY_GAP = 0.004


def type_with_pause(reader, text, pause_after, pause, start=0.0):
    """Type ``text`` at scanner speed, stalling ``pause`` seconds after ``pause_after`` characters."""
    bursts, t = [], start
    for index, char in enumerate(text):
        bursts += reader.feed(char, t)
        t += KEY_GAP + (pause if index + 1 == pause_after else 0.0)
    return bursts, t


@pytest.mark.parametrize("raw", ["BIN:A-", "TOTE:T", "BADGE:OP-", "ORD:SO_", "BIN:A-01/", "PICKUP:S:7Q4K9M"])
def test_an_own_label_ending_in_a_separator_or_one_character_long_is_refused(raw):
    with pytest.raises(MalformedLabel):
        parse_scan(raw)


def test_a_site_with_one_character_bins_can_allow_them():
    rules = LabelRules(min_length=1)
    assert parse_scan("BIN:A", options=ScanOptions(labels=rules)).meaning == BinLabel("A")
    assert bin_label_data("A", rules) == "BIN:A"
    with pytest.raises(MalformedLabel):
        parse_scan("BIN:A-", options=ScanOptions(labels=rules))


def test_a_site_can_allow_trailing_separators_too():
    options = ScanOptions(labels=LabelRules(trailing_separator=True))
    assert parse_scan("TOTE:T-", options=options).meaning == ToteLabel("T-")


@pytest.mark.parametrize("value", ["A", "A-", "T_"])
def test_labels_that_could_not_be_read_back_are_never_printed(value):
    with pytest.raises(LabelError):
        bin_label_data(value)
    with pytest.raises(LabelError):
        tote_label_data(value)


@pytest.mark.parametrize("pause", [0.3, 0.8, 1.2])
@pytest.mark.parametrize(("code", "cut"), [("BIN:A-01-1", 6), ("TOTE:T0042", 6), ("0109501101530003" + "21SER-12345", 22)])
def test_a_scanner_that_stalls_inside_a_scan_still_gives_one_whole_scan(code, cut, pause):
    reader = WedgeReader()
    bursts, t = type_with_pause(reader, code + "\n", cut, pause)
    bursts += reader.flush(t + 5.0)
    assert [(b.text, b.by_scanner, b.complete) for b in bursts] == [(code, True, True)]


def test_a_stalled_gs1_serial_is_read_whole():
    reader = WedgeReader()
    bursts, _ = type_with_pause(reader, "]C10109501101530003" + "21SER-12345\n", 24, 0.5)
    (burst,) = bursts
    meaning = burst.to_scan().meaning
    assert isinstance(meaning, GS1Data) and meaning.serial == "SER-12345"


def test_a_scan_whose_enter_never_comes_is_refused_as_incomplete():
    reader = WedgeReader()
    _, t = type_with_pause(reader, "0109501101530003" + "21SER-12", 0, 0.0)
    assert reader.flush(t + 1.0) == []  # still waiting: the scanner may only have stalled
    (burst,) = reader.flush(t + 2.0)
    assert not burst.complete
    with pytest.raises(IncompleteScan, match="scan it again"):
        burst.to_scan()


def test_without_a_configured_suffix_a_pause_still_ends_a_scan():
    reader = WedgeReader(WedgeConfig(suffix=""))
    bursts, t = type_with_pause(reader, "TOTE:T0042", 0, 0.0)
    assert [b.text for b in reader.flush(t + 0.3)] == ["TOTE:T0042"]
