"""Op ids are UUIDv7: unique, and later ones sort later (the hub's op-id index
then grows at its right edge)."""

from __future__ import annotations

import time
import uuid

from edge_app.local.outbox import new_op_id


def test_op_ids_are_version_7_uuids_carrying_the_millisecond_they_were_made():
    before = time.time_ns() // 1_000_000
    op_id = uuid.UUID(new_op_id())
    after = time.time_ns() // 1_000_000
    assert (op_id.version, op_id.variant) == (7, uuid.RFC_4122)
    assert before <= op_id.int >> 80 <= after


def test_op_ids_made_later_sort_later_and_never_repeat():
    earlier = [new_op_id() for _ in range(1000)]
    time.sleep(0.002)
    later = new_op_id()
    assert len(set(earlier)) == 1000
    assert all(later > op_id for op_id in earlier)
