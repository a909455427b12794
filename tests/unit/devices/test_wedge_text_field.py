"""Wedge input through a text field: only new characters are fed, nothing is lost or merged."""

from devices.wedge import WedgeReader
from devices.wedge_field import TextFieldFeed


def test_scans_typed_into_a_field_that_is_never_cleared_come_out_one_by_one():
    feed = TextFieldFeed()
    value, t, bursts = "", 0.0, []
    for code in ["BIN:A-01-1", "TOTE:T1", "ORD:SO-9"]:
        for char in code:
            value += char
            t += 0.003
            bursts += feed.on_change(value, t)
        bursts += feed.on_submit(value, t)
    assert [(b.text, b.by_scanner) for b in bursts] == [("BIN:A-01-1", True), ("TOTE:T1", True), ("ORD:SO-9", True)]


def test_several_characters_arriving_in_one_change_are_all_fed():
    feed = TextFieldFeed()
    assert feed.on_change("TOTE:", 1.0) == []
    assert [b.text for b in feed.on_submit("TOTE:T42", 1.01)] == ["TOTE:T42"]


def test_backspace_by_a_person_removes_the_character_from_the_pending_input():
    feed = TextFieldFeed(WedgeReader())
    for i, value in enumerate(["A", "A-", "A-0", "A-9", "A-", "A-0", "A-01"]):
        feed.on_change(value, i * 0.3)
    (burst,) = feed.on_submit("A-01", 3.0)
    assert burst.text == "A-01" and not burst.by_scanner


def test_the_field_may_be_cleared_only_when_nothing_is_pending_and_it_has_been_quiet():
    feed = TextFieldFeed(quiet_before_clear=1.0)
    feed.on_change("TOTE:T", 0.0)
    assert not feed.may_clear(5.0)  # a scan is half typed
    feed.on_submit("TOTE:T7", 0.01)
    assert not feed.may_clear(0.5) and feed.may_clear(1.5)
    feed.cleared()
    assert [b.text for b in feed.on_submit("BIN:B1", 2.0)] == ["BIN:B1"]


def test_a_value_replaced_by_the_app_is_read_as_new_input():
    feed = TextFieldFeed()
    feed.on_submit("TOTE:T1", 0.0)
    assert [b.text for b in feed.on_submit("BIN:Z9", 1.0)] == ["BIN:Z9"]


def _codes(bursts) -> list[str]:
    return [b.text for b in bursts]


def test_a_scan_begun_before_the_clear_reached_the_field_is_read_whole_and_once():
    # The app clears after TOTE:T2; the next scan's first characters are typed onto the
    # old value before the clear arrives, the rest into the cleared field.
    feed = TextFieldFeed(quiet_before_clear=0.6)
    bursts = feed.on_change("TOTE:T2\n", 0.0)
    feed.cleared(0.6)
    bursts += feed.on_change("TOTE:T2\nBIN:A-0", 0.65)
    bursts += feed.on_change("2-1\n", 0.7)
    assert _codes(bursts) == ["TOTE:T2", "BIN:A-02-1"]


def test_the_same_code_scanned_again_once_the_clear_has_landed_is_a_new_scan():
    feed = TextFieldFeed(quiet_before_clear=0.6)
    bursts = feed.on_change("0123456789012\n", 0.0)
    feed.cleared(0.6)
    bursts += feed.on_change("0123456789012\n", 1.5)
    assert _codes(bursts) == ["0123456789012", "0123456789012"]


def test_past_the_landing_window_a_value_starting_with_the_cleared_one_is_all_new():
    feed = TextFieldFeed(quiet_before_clear=0.6, landing_window=2.0)
    bursts = feed.on_change("TOTE:T2\n", 0.0)
    feed.cleared(0.6)
    bursts += feed.on_change("TOTE:T2\nBIN:B1\n", 5.0)
    assert _codes(bursts) == ["TOTE:T2", "TOTE:T2", "BIN:B1"]
