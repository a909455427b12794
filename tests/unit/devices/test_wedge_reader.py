"""Keyboard-wedge reader: scanner bursts vs typing, prefixes, suffixes, GS substitutes, no lost scans."""

import random

import pytest

from devices.errors import CheckDigitError
from devices.scan import BinLabel, ScanSource
from devices.wedge import WedgeConfig, WedgeReader, key_to_char

KEY_GAP = 0.004  # a typical wedge scanner: a few ms between characters


def type_into(reader, text, start, gap):
    """Feed ``text`` one key at a time; returns (bursts, time after the last key)."""
    bursts, t = [], start
    for char in text:
        bursts += reader.feed(char, t)
        t += gap
    return bursts, t


def ean13(n):
    """A valid EAN-13 built from a serial number."""
    body = f"20{n:010d}"
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(body))
    return body + str((10 - total % 10) % 10)


def test_twenty_scans_a_second_for_a_minute_all_arrive_in_order_and_unmerged():
    reader = WedgeReader(WedgeConfig(suffix="\r\n"))
    codes = [ean13(n) for n in range(20 * 60)]
    rng = random.Random(7)
    bursts = []
    for index, code in enumerate(codes):
        start = index * 0.05 + rng.uniform(0, 0.002)  # 20 per second, a little jitter
        out, _ = type_into(reader, code + "\r\n", start, rng.uniform(0.001, 0.003))
        bursts += out
    assert [b.text for b in bursts] == codes
    assert all(b.by_scanner for b in bursts)
    assert [b.to_scan().gtin[1:] for b in bursts[:3]] == codes[:3]


def test_back_to_back_scans_without_any_pause_are_still_separated_by_their_suffix():
    reader = WedgeReader()
    stream = "".join(f"BIN:A-{i:02d}-1\n" for i in range(50))
    bursts, _ = type_into(reader, stream, 0.0, 0.001)
    assert [b.to_scan().meaning for b in bursts] == [BinLabel(f"A-{i:02d}-1") for i in range(50)]


def test_slow_human_typing_is_not_taken_for_a_scan():
    reader = WedgeReader()
    bursts, _ = type_into(reader, "A-01-1\n", 0.0, 0.18)
    assert len(bursts) == 1 and not bursts[0].by_scanner
    assert bursts[0].to_scan().source == ScanSource.KEYBOARD


def test_a_scan_arriving_while_a_person_is_typing_comes_out_separately():
    reader = WedgeReader()
    typed, t = type_into(reader, "A-0", 0.0, 0.2)
    scanned, _ = type_into(reader, "BIN:B-02-2\n", t + 0.5, KEY_GAP)
    assert typed == []
    assert [(b.text, b.by_scanner) for b in scanned] == [("A-0", False), ("BIN:B-02-2", True)]


def test_a_configured_prefix_starts_a_new_scan_even_when_a_suffix_was_lost():
    reader = WedgeReader(WedgeConfig(prefix="\x02", suffix="\x03"))
    bursts, _ = type_into(reader, "\x02TOTE:T1\x02TOTE:T2\x03", 0.0, KEY_GAP)
    assert [(b.text, b.by_scanner) for b in bursts] == [("TOTE:T1", True), ("TOTE:T2", True)]


def test_with_a_prefix_configured_unprefixed_input_is_typing():
    reader = WedgeReader(WedgeConfig(prefix="\x02", suffix="\n"))
    bursts, _ = type_into(reader, "TOTE:T1\n", 0.0, KEY_GAP)
    assert [(b.text, b.by_scanner) for b in bursts] == [("TOTE:T1", False)]


def test_a_multi_character_suffix_is_removed_from_the_scan():
    reader = WedgeReader(WedgeConfig(suffix="##"))
    bursts, _ = type_into(reader, "ORD:SO-1##ORD:SO-2##", 0.0, KEY_GAP)
    assert [b.text for b in bursts] == ["ORD:SO-1", "ORD:SO-2"]


def test_a_scanner_burst_without_suffix_is_ended_by_flush_after_the_reset_gap():
    reader = WedgeReader(WedgeConfig(suffix=""))
    _, t = type_into(reader, "TOTE:T9", 0.0, KEY_GAP)
    assert reader.flush(t + 0.1) == []
    bursts = reader.flush(t + 0.3)
    assert [(b.text, b.by_scanner) for b in bursts] == [("TOTE:T9", True)]
    assert reader.pending() == ""


def test_a_substitute_for_gs_reaches_the_parser_as_gs():
    reader = WedgeReader(WedgeConfig(gs_substitutes="~|"))
    bursts, _ = type_into(reader, "010950110153000310AB12~21SER9|3712\n", 0.0, KEY_GAP)
    meaning = bursts[0].to_scan().meaning
    assert (meaning.batch, meaning.serial, meaning.count) == ("AB12", "SER9", 12)


def test_a_real_gs_character_passes_through_the_wedge():
    reader = WedgeReader()
    bursts, _ = type_into(reader, "010950110153000310AB12\x1d21SER9\n", 0.0, KEY_GAP)
    assert bursts[0].to_scan().meaning.serial == "SER9"


def test_a_misread_scan_comes_out_as_a_burst_whose_parse_names_the_check_digit():
    reader = WedgeReader()
    bursts, _ = type_into(reader, "5901234123458\n", 0.0, KEY_GAP)
    with pytest.raises(CheckDigitError):
        bursts[0].to_scan()


def test_an_enter_alone_produces_nothing():
    reader = WedgeReader()
    assert reader.feed("\n", 0.0) == [] and reader.feed("\r", 0.01) == []


def test_key_names_from_flet_keyboard_events_are_typed_including_numpad_digits():
    reader = WedgeReader()
    keys = ["Numpad 5", "9", "0", "1", "2", "3", "4", "1", "2", "3", "4", "5", "Numpad 7", "Shift Left", "Enter"]
    bursts = []
    for index, key in enumerate(keys):
        bursts += reader.feed_key(key, index * KEY_GAP)
    assert [b.text for b in bursts] == ["5901234123457"]


@pytest.mark.parametrize(
    ("key", "shift", "char"),
    [("A", False, "a"), ("A", True, "A"), (";", True, ":"), ("Numpad Subtract", False, "-"), ("Caps Lock", False, "")],
)
def test_key_to_char_maps_key_names_to_characters(key, shift, char):
    assert key_to_char(key, shift=shift) == char


def test_feed_text_treats_a_pasted_chunk_as_one_fast_burst():
    reader = WedgeReader()
    bursts = reader.feed_text("TOTE:T7\n", 1.0)
    assert [(b.text, b.by_scanner) for b in bursts] == [("TOTE:T7", True)]


def test_quick_key_rollover_at_the_end_of_typing_is_not_split_off_as_a_scan():
    reader = WedgeReader()
    typed, t = type_into(reader, "A-01", 0.0, 0.15)
    rollover, _ = type_into(reader, "-12\n", t, 0.03)
    assert typed == [] and [(b.text, b.by_scanner) for b in rollover] == [("A-01-12", False)]
