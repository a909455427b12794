"""Many seeds of the camera scanner's corpus test: false reads and read rate, with and
without the guard's two newer checks (``devices.misread_guard``: the sharper look at an
EAN/UPC, two rows through one code).

``python -m benchmarks.scan_sweep [--seeds 1-200] [--seed 26278 ...] [--per-class 3]`` runs the
clips of ``tests/unit/devices/test_scan_corpus.py`` (``generate_clips(seed=…, per_class=3)``)
for every seed through the camera screen's scanner and prints, per distortion, the clips
whose code was reported, and every false read with its seed and clip. "Before" is the
same scanner with those checks switched off; it is decoded again only for clips where one
of them fired (elsewhere the two are the same by construction).
A line per seed shows progress. Nothing here is a test.
"""

from __future__ import annotations

import argparse
import time
from collections import Counter

from typing import Any

from devices import misread_guard
from devices.corpus import DEGRADATIONS, generate_clips, judge_clip
from devices.decoders import DecoderConfig, make_decoder

__all__ = ["main", "sweep"]


class _Check:
    """One of the guard's newer checks, counting when it fires; ``on=False`` is the scanner
    before it existed."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.real = getattr(misread_guard, name)
        self.on, self.fired = True, 0

    def __call__(self, *args: Any) -> bool:
        if not self.on:
            return False
        fired = bool(self.real(*args))
        self.fired += fired
        return fired


_NEW_CHECKS = ("_sharper_look_disagrees", "_same_span")  # the sharper look; two rows through one code


class Tally:
    """Clips, reads and false reads per distortion, after and before."""

    def __init__(self) -> None:
        self.clips: Counter[str] = Counter()
        self.read: Counter[str] = Counter()
        self.read_before: Counter[str] = Counter()
        self.false: list[str] = []
        self.false_before: list[str] = []


def sweep(seeds: list[int], per_class: int = 3, *, verbose: bool = True) -> Tally:
    """Every seed's clips through the camera screen's scanner, with and without the sharper look."""
    camera = make_decoder(DecoderConfig(center_zoom=True))  # as the camera screen has it
    checks = [_Check(name) for name in _NEW_CHECKS]
    for check in checks:
        setattr(misread_guard, check.name, check)
    tally = Tally()
    try:
        for seed in seeds:
            for clip in generate_clips(seed=seed, per_class=per_class):
                for check in checks:
                    check.fired = 0
                ok, wrong = judge_clip(camera, clip)
                before = (ok, wrong)
                if any(check.fired for check in checks):
                    for check in checks:
                        check.on = False
                    before = judge_clip(camera, clip)
                    for check in checks:
                        check.on = True
                where = f"seed {seed} {clip.name} (code {clip.expected})"
                tally.clips[clip.degradation] += 1
                tally.read[clip.degradation] += ok
                tally.read_before[clip.degradation] += before[0]
                tally.false += [where] * bool(wrong)
                tally.false_before += [where] * bool(before[1])
                if verbose and (wrong or before[1]):
                    print(f"false read {'after' if wrong else 'before only'}: {where}", flush=True)
            if verbose:
                print(f"seed {seed}: {sum(tally.clips.values())} clips, read {sum(tally.read.values())} "
                      f"(before {sum(tally.read_before.values())}), false {len(tally.false)} "
                      f"(before {len(tally.false_before)})", flush=True)
    finally:
        for check in checks:
            setattr(misread_guard, check.name, check.real)
    return tally


def _seeds(text: str) -> list[int]:
    first, _, last = text.partition("-")
    return list(range(int(first), int(last or first) + 1))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="1-200", help="a range such as 1-200")
    parser.add_argument("--seed", type=int, action="append", default=[], help="one more seed (repeatable)")
    parser.add_argument("--per-class", type=int, default=3)
    args = parser.parse_args(argv)
    seeds = sorted(set(_seeds(args.seeds) + args.seed))
    started = time.perf_counter()
    t = sweep(seeds, args.per_class)
    total = sum(t.clips.values())
    print(f"{len(seeds)} seeds ({seeds[0]}..{seeds[-1]}), {total} clips of 3 frames, "
          f"{time.perf_counter() - started:.0f} s")
    print("distortion     read after / before / clips")
    for degradation in DEGRADATIONS:
        print(f"{degradation:<14} {t.read[degradation]:>5} / {t.read_before[degradation]:>5} / {t.clips[degradation]}")
    after, before = sum(t.read.values()), sum(t.read_before.values())
    print(f"{'all':<14} {after:>5} / {before:>5} / {total} ({100 * after / max(total, 1):.1f} % vs "
          f"{100 * before / max(total, 1):.1f} %)")
    print(f"false reads after: {len(t.false)}, before: {len(t.false_before)}")
    for line in t.false:
        print("   after:", line)
    for line in t.false_before:
        print("   before:", line)


if __name__ == "__main__":
    main()
