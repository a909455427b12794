"""bench-scan runs where libzbar0 is missing, and prints the goals beside the figures."""

import sys

from benchmarks import scan_corpus


def test_without_the_zbar_library_pyzbar_is_skipped_with_a_note(monkeypatch):
    monkeypatch.setitem(sys.modules, "pyzbar", None)  # import fails as it does without libzbar0
    made, notes = scan_corpus.decoders()
    assert "raw pyzbar" not in made and "raw zxing-cpp" in made
    assert len(notes) == 1 and "libzbar0" in notes[0]


def test_a_tiny_run_prints_both_tables_and_every_goal(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "pyzbar", None)
    scan_corpus.run(seed=5, per_class=1, clips_per_class=1)
    out = capsys.readouterr().out
    assert "raw pyzbar skipped" in out and "single frames" in out and "clips of 3 frames" in out
    for goal in ("0 false reads reported", "read rate >= raw zxing-cpp", "median <= 5 ms", "p95 <= 15 ms"):
        assert out.count(goal) == 2  # for the camera screen's decoder and the default one
