"""A process beside `hub serve` (the event relay, the scheduled jobs): started by spawn
(no state forked from the HTTP side), a daemon, terminated when `hub serve` ends."""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

__all__ = ["beside_the_hub"]


@contextmanager
def beside_the_hub(target: Callable[..., None], args: tuple[Any, ...],
                   name: str) -> Iterator[multiprocessing.process.BaseProcess]:
    child = multiprocessing.get_context("spawn").Process(target=target, args=args, name=name, daemon=True)
    child.start()
    try:
        yield child
    finally:
        child.terminate()
        child.join(10)
