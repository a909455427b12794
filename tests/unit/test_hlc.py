from hypothesis import given
from hypothesis import strategies as st

from sync.hlc import HybridClock, Timestamp


def test_clock_never_goes_backwards_when_wall_time_does():
    clock = HybridClock("a")
    first = clock.now(1_000)
    second = clock.now(500)
    assert second > first and second.wall_ms == 1_000 and second.counter == 1


def test_observing_a_later_remote_moves_the_clock_past_it():
    clock = HybridClock("a")
    clock.now(1_000)
    seen = clock.observe(Timestamp(5_000, 7, "b"), 1_100)
    assert seen > Timestamp(5_000, 7, "b")


def test_encoded_timestamps_sort_like_timestamps():
    stamps = [Timestamp(5, 2, "x"), Timestamp(10, 0, "a"), Timestamp(5, 10, "a")]
    assert sorted(s.encode() for s in stamps) == [s.encode() for s in sorted(stamps)]


@given(st.lists(st.integers(min_value=0, max_value=10**12), min_size=1, max_size=50))
def test_every_reading_is_later_than_the_one_before(walls):
    clock = HybridClock("n")
    readings = [clock.now(w) for w in walls]
    assert readings == sorted(readings) and len(set(readings)) == len(readings)


def test_decode_names_the_bad_text():
    import pytest

    with pytest.raises(ValueError, match="not an HLC timestamp: 'garbage'"):
        Timestamp.decode("garbage")
