"""Many seeds of the camera scanner's corpus test: false reads and read rate.

``python -m benchmarks.scan_sweep [--seeds 1-200] [--seed 26278 ...] [--per-class 3]`` runs the
clips of ``tests/unit/devices/test_scan_corpus.py`` (``generate_clips(seed=…, per_class=3)``)
for every seed through the camera screen's scanner and prints, per distortion, the clips
whose code was reported, and every false read with its seed and clip. Nothing here is a test.
"""

from __future__ import annotations

import argparse
import time
from collections import Counter

from devices.corpus import DEGRADATIONS, generate_clips, judge_clip
from devices.decoders import DecoderConfig, make_decoder

__all__ = ["main", "sweep"]


def sweep(seeds: list[int], per_class: int = 3, *, verbose: bool = True) -> tuple[Counter[str], Counter[str], list[str]]:
    """(clips per distortion, clips read per distortion, false reads as ``seed clip``)."""
    camera = make_decoder(DecoderConfig(center_zoom=True))  # as the camera screen has it
    clips_seen: Counter[str] = Counter()
    read: Counter[str] = Counter()
    false: list[str] = []
    for seed in seeds:
        for clip in generate_clips(seed=seed, per_class=per_class):
            ok, wrong = judge_clip(camera, clip)
            clips_seen[clip.degradation] += 1
            read[clip.degradation] += ok
            if wrong:
                false.append(f"seed {seed} {clip.name} (code {clip.expected})")
                if verbose:
                    print("FALSE READ", false[-1], flush=True)
    return clips_seen, read, false


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
    clips_seen, read, false = sweep(seeds, args.per_class)
    total = sum(clips_seen.values())
    print(f"{len(seeds)} seeds ({seeds[0]}..{seeds[-1]}), {total} clips of 3 frames, "
          f"{time.perf_counter() - started:.0f} s")
    print("distortion     read / clips")
    for degradation in DEGRADATIONS:
        print(f"{degradation:<14} {read[degradation]:>4} / {clips_seen[degradation]}")
    print(f"{'all':<14} {sum(read.values()):>4} / {total} ({100 * sum(read.values()) / max(total, 1):.1f} %)")
    print(f"false reads: {len(false)}")
    for line in false:
        print("  ", line)


if __name__ == "__main__":
    main()
