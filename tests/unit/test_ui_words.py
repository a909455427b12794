"""The words the floor app shows: status bar, sync issues, pick-line progress.
Pure functions, so no browser is needed."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from edge_app.sync_loop import SyncStatus
from edge_app.ui.runtime import StatusBoard
from edge_app.ui.screens.issues import describe_issue
from edge_app.ui.status_bar import ago, describe
from edge_app.ui.words import line_progress
from edge_app.workflows.pick_list import PickLine

NOW = datetime(2026, 11, 24, 6, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    ("seconds", "words"),
    [(None, "not synced yet"), (1, "synced just now"), (12, "synced 12 s ago"), (600, "synced 10 min ago"),
     (3 * 3600, "synced 3 h ago")],
)
def test_last_sync_reads_as_time_ago(seconds, words):
    then = None if seconds is None else NOW - timedelta(seconds=seconds)
    assert ago(then, NOW) == words


@pytest.mark.parametrize(("online", "state"), [(True, "Online"), (False, "Offline"), (None, "Connecting…")])
def test_status_bar_names_the_connection_state_and_the_outbox(online, state):
    words = describe(SyncStatus(online=online, outbox_depth=3), NOW)
    assert (words.state, words.waiting) == (state, "3 waiting to send")


def test_offline_says_work_goes_on_and_a_refusing_hub_says_whom_to_tell():
    offline = describe(SyncStatus(online=False, last_error="hub not reachable: ConnectError"), NOW)
    refused = describe(SyncStatus(online=False, last_error="hub refused GET /v1/changes: 401 unknown token"), NOW)
    assert (offline.state, offline.synced) == ("Offline", "not synced yet · working offline")
    assert (refused.state, refused.synced) == ("Hub refused", "not synced yet · tell your supervisor")


def test_refused_op_reads_as_what_was_done_and_why():
    row = {"kind": "pick.confirmed", "payload": json.dumps({"sku": "MILK-1L", "qty": 2, "bin": "A-01-1"}),
           "reason_code": "line_closed", "message": "That order line was already picked.",
           "result": json.dumps({"status": "rejected", "compensations": []})}
    issue = describe_issue(row)
    assert issue.refused
    assert issue.title == "Pick of 2 × MILK-1L from bin A-01-1 was refused by the hub"
    assert issue.lines == ("Why: That order line was already picked.",)


def test_applied_op_with_compensation_reads_as_follow_up_work():
    row = {"kind": "pick.confirmed", "payload": json.dumps({"sku": "TOM-CAN", "qty": 1, "bin": "A-03-2"}),
           "reason_code": None, "message": None,
           "result": json.dumps({"status": "applied", "compensations": [
               {"kind": "put_back", "sentence": "Put 1 × TOM-CAN back in bin A-03-2: the order was cancelled."}]})}
    issue = describe_issue(row)
    assert not issue.refused
    assert issue.lines == ("To do: Put 1 × TOM-CAN back in bin A-03-2: the order was cancelled.",)


def test_line_progress_names_shorts():
    line = PickLine("o", 1, "MILK-1L", "Milk", "A-01-1", 11, qty=3, picked=1, short=2)
    assert line_progress(line) == "1 of 3 picked, 2 short"


def test_status_board_keeps_telling_the_others_when_one_listener_breaks():
    board, heard = StatusBoard(), []

    def broken(_status):
        raise RuntimeError("tab closed")

    board.subscribe(broken)
    board.subscribe(heard.append)
    board.publish(SyncStatus(online=True))
    board.publish(SyncStatus(online=False))
    assert [s.online for s in heard] == [True, False]


def test_every_op_kind_has_floor_words_on_the_sync_issues_screen():
    from edge_app.ui.screens.issues import _KIND_WORDS
    from sync.kinds import KINDS

    assert set(KINDS) <= set(_KIND_WORDS)
    assert all("." not in words for words in _KIND_WORDS.values())
