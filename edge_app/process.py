"""What the floor app does to its own process once it has started."""

from __future__ import annotations

import gc

__all__ = ["settle_after_start"]


def settle_after_start() -> None:
    """Put every object alive now (modules, the app, the replica) out of the
    garbage collector's reach: they live as long as the process, and every
    full collection walked all of them again. Collections during a bootstrap
    (a few million short-lived objects) took a quarter of its time:
    42,000 → 55,000 rows/s (docs/benchmarks.md), peak RSS unchanged."""
    gc.freeze()
