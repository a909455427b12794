"""Scanning benchmark: decode time per 1280x720 frame, wedge throughput, corpus read rates.

Run ``make bench-scan`` or ``python -m benchmarks.bench_scan [--frames N] [--corpus|--no-corpus]
[--seed N] [--per-class N] [--clips-per-class N]``. It prints tables; nothing here is a test.
Frames are generated on the fly (``devices.corpus``). The corpus tables
(``benchmarks.scan_corpus``) use a fresh seed each run unless ``--seed`` is given, and
print it. pyzbar needs the system library libzbar0; without it its rows are skipped with
a note (``make system-deps`` installs it).
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import statistics
import time
from typing import Callable, Iterable

from benchmarks import scan_corpus
from devices.corpus import FRAME, place_in_frame, render_code
from devices.decoders import DecoderConfig, make_decoder
from devices.errors import DecoderUnavailable
from devices.parse import parse_scan
from devices.scan import Symbology
from devices.wedge import WedgeReader

__all__ = ["main"]

ALL_FORMATS = frozenset({
    Symbology.EAN8, Symbology.EAN13, Symbology.UPCA, Symbology.UPCE, Symbology.CODE128,
    Symbology.QR, Symbology.ITF14, Symbology.DATABAR,
})
CODE128_ONLY = frozenset({Symbology.CODE128})

CONFIGS: tuple[tuple[str, DecoderConfig], ...] = (
    ("zxing  site formats (DEFAULT)", DecoderConfig()),
    ("zxing  site + centre zoom (camera)", DecoderConfig(center_zoom=True)),
    ("zxing  site, upright only", DecoderConfig(any_angle=False, guard=False)),
    ("zxing  Code128 only", DecoderConfig(formats=CODE128_ONLY)),
    ("zxing  raw (library defaults)", DecoderConfig(raw=True)),
    ("pyzbar site formats", DecoderConfig(backend="pyzbar", formats=ALL_FORMATS - {Symbology.EAN8, Symbology.UPCE, Symbology.ITF14, Symbology.DATABAR})),
    ("pyzbar Code128 only", DecoderConfig(backend="pyzbar", formats=CODE128_ONLY)),
    ("pyzbar raw (library defaults)", DecoderConfig(backend="pyzbar", raw=True)),
)


def _frames() -> dict[str, object]:
    import numpy as np

    samples = {
        "Code128": (Symbology.CODE128, "BIN:A-01-1"),
        "EAN-13": (Symbology.EAN13, "590123412345"),
        "GS1-128": (Symbology.GS1_128, "0109501101530003172612311" + "0AB12"),
        "QR": (Symbology.QR, "PICKUP:SO-100234:7Q4K9M"),
        "GS1 DM": (Symbology.GS1_DATAMATRIX, "(01)09501101530003(17)261231(10)AB12"),
    }
    frames: dict[str, object] = {name: place_in_frame(render_code(sym, data)) for name, (sym, data) in samples.items()}
    frames["empty"] = np.full(FRAME, 235, dtype=np.uint8)
    return frames


def _time_ms(call: Callable[[], object], repeat: int) -> list[float]:
    call()  # warm up
    out = []
    for _ in range(repeat):
        start = time.perf_counter()
        call()
        out.append((time.perf_counter() - start) * 1000)
    return out


def _p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1] if len(values) >= 20 else max(values)


def bench_decoders(repeat: int) -> None:
    """Median and p95 ms per frame for every decoder configuration and frame kind."""
    frames = _frames()
    names = list(frames)
    print(f"\nDecode time per 1280x720 grayscale frame, ms (median / p95 of {repeat} runs)")
    print(f"{'decoder and formats':38}" + "".join(f"{n:>16}" for n in names) + f"{'all frames':>16}")
    for label, config in CONFIGS:
        try:
            decoder = make_decoder(config)
        except DecoderUnavailable as exc:
            print(f"{label:38}skipped: {exc}")
            continue
        cells, everything = [], []
        for name in names:
            frame = frames[name]
            times = _time_ms(lambda: decoder.decode(frame), repeat)
            everything += times
            cells.append(f"{statistics.median(times):7.2f} /{_p95(times):6.2f}")
        overall = f"{statistics.median(everything):7.2f} /{_p95(everything):6.2f}"
        print(f"{label:38}" + "".join(f"{c:>16}" for c in cells) + f"{overall:>16}")
    _bench_bgr(frames, repeat)


def _bench_bgr(frames: dict[str, object], repeat: int) -> None:
    """The default decoder on colour frames, as a webcam gives them (gray conversion included)."""
    import cv2

    decoder = make_decoder(DecoderConfig())
    times: list[float] = []
    for frame in frames.values():
        bgr = cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR)
        times += _time_ms(lambda: decoder.decode(bgr), repeat)
    label = "zxing  DEFAULT, BGR webcam frames"
    print(f"{label:38}{'(all frame kinds, incl. BGR->gray)':>80}{statistics.median(times):7.2f} /{_p95(times):6.2f}")


def _codes(count: int) -> list[str]:
    rng = random.Random(1)
    kinds = [
        lambda n: f"BIN:A-{n % 99:02d}-{n % 7}",
        lambda n: f"TOTE:T{n:05d}",
        lambda n: _ean13(n),
        lambda n: f"0109501101530003172612311" + f"0LOT{n}~21S{n}",
    ]
    return [rng.choice(kinds)(n) for n in range(count)]


def _ean13(n: int) -> str:
    body = f"20{n:010d}"
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(body))
    return body + str((10 - total % 10) % 10)


def bench_wedge(count: int) -> None:
    """Keys and scans per second through WedgeReader alone, and through WedgeReader + parse_scan."""
    codes = _codes(count)
    events: list[tuple[str, float]] = []
    t = 0.0
    for code in codes:
        for char in code + "\r\n":
            events.append((char, t))
            t += 0.002
        t += 0.02
    print(f"\nWedge throughput ({count} scans, {len(events)} key events, simulated timestamps)")
    for label, parse in (("cut into bursts only", False), ("cut + parse_scan", True)):
        reader = WedgeReader()
        start = time.perf_counter()
        done = 0
        for char, at in events:
            for burst in reader.feed(char, at):
                done += 1
                if parse:
                    parse_scan(burst.text, gs_substitutes="~")
        elapsed = time.perf_counter() - start
        print(f"  {label:24} {done / elapsed:10,.0f} scans/s  {len(events) / elapsed:12,.0f} keys/s  ({done} of {count} scans out)")


def bench_parse(count: int) -> None:
    """parse_scan alone, per kind of code."""
    samples = {
        "own label (BIN:)": "BIN:A-01-1",
        "EAN-13": "5901234123457",
        "GS1-128 (4 AIs)": "]C1010950110153000317261231\x1d10AB12\x1d21XYZ",
        "free text": "SUPPLIER#77",
    }
    print(f"\nparse_scan, microseconds per call (median of {count})")
    for label, raw in samples.items():
        times = _time_ms(lambda: parse_scan(raw), count)
        print(f"  {label:24} {statistics.median(times) * 1000:8.1f} us")


def _machine() -> str:
    return f"{platform.python_implementation()} {platform.python_version()}, {os.cpu_count()} CPUs, {platform.machine()}"


def main(argv: Iterable[str] | None = None) -> None:
    """Parse arguments and print the chosen benchmarks."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--frames", type=int, default=100, help="timed decodes per frame kind and decoder")
    parser.add_argument("--scans", type=int, default=20_000, help="scans fed through the wedge reader")
    parser.add_argument("--corpus", action="store_true", help="only the corpus tables")
    parser.add_argument("--no-corpus", action="store_true", help="skip the corpus tables")
    parser.add_argument("--seed", type=int, default=None, help="corpus seed (default: a fresh one, printed)")
    parser.add_argument("--per-class", type=int, default=200, help="single frames per distortion (11 of them)")
    parser.add_argument("--clips-per-class", type=int, default=70, help="3-frame clips per distortion")
    args = parser.parse_args(list(argv) if argv is not None else None)
    print(f"bench-scan on {_machine()}, load average {', '.join(f'{x:.2f}' for x in os.getloadavg())}")
    if not args.corpus:
        bench_decoders(args.frames)
        bench_wedge(args.scans)
        bench_parse(2000)
    if not args.no_corpus:
        seed = args.seed if args.seed is not None else random.SystemRandom().randrange(1, 10**6)
        scan_corpus.run(seed, args.per_class, args.clips_per_class)
        print(f"\nload average after: {', '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
