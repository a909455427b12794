"""What a lost handheld gives away (issue 17, finding 4; docs/security.md): its files
are readable by their owner only, and they hold the device token (which the hub can
revoke) but no PIN, no PIN hash and no session key."""

from __future__ import annotations

import os
import re
import stat

import pytest

from edge_app.errors import InsecureHub
from edge_app.hub_url import checked_hub_url
from edge_app.local import outbox
from edge_app.local.replica import DB_FILE, Replica
from edge_app.workflows.signin import sign_in_pin
from tests.unit.floor_store import store


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_the_replica_folder_is_0700_and_its_files_0600_whatever_the_umask(tmp_path):
    old = os.umask(0o022)
    try:
        replica = Replica(tmp_path / "device")
        replica.set_meta("token", "dev_secret")
    finally:
        os.umask(old)
    folder = tmp_path / "device"
    assert mode(folder) == 0o700
    files = [p for p in folder.iterdir() if p.name.startswith(DB_FILE)]
    assert {p.name for p in files} >= {DB_FILE, DB_FILE + "-wal"} and all(mode(p) == 0o600 for p in files)
    replica.close()


def test_a_replica_left_world_readable_by_an_older_app_is_closed_on_open(tmp_path):
    Replica(tmp_path / "d").close()
    os.chmod(tmp_path / "d", 0o755)
    os.chmod(tmp_path / "d" / DB_FILE, 0o644)
    Replica(tmp_path / "d").close()
    assert (mode(tmp_path / "d"), mode(tmp_path / "d" / DB_FILE)) == (0o700, 0o600)


def test_a_lost_handheld_holds_no_pin_hash_and_no_session_key(tmp_path):
    replica = store(tmp_path / "device")
    sign_in_pin(replica, "S1", "999999")
    with replica.transaction() as conn:
        outbox.record_op(conn, "count.recorded", {"bin": "A-01-1", "sku": "MILK-1L", "counted": 3}, "S1", outbox.PendingEffect())
    replica.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    from edge_app.local import sessions

    nonce, key = sessions._SESSIONS[("dev-1", "S1")]
    on_disk = b"".join(p.read_bytes() for p in (tmp_path / "device").iterdir())
    assert key not in on_disk and key.hex().encode() not in on_disk  # the session key lives in memory only
    # No PIN hash (`scrypt$N$r$p$` and 64 hex digits): an 8-bit check per operator, too little to find a PIN.
    assert re.search(rb"scrypt\$\d+\$\d+\$\d+\$[0-9a-f]{64}", on_disk) is None
    checks = [r["pin_check"] for r in replica.query("SELECT pin_check FROM operators")]
    assert checks and all(len(c) == 2 for c in checks)
    replica.close()


@pytest.mark.parametrize("url, insecure, ok", [
    ("https://hub.store.example:8700", False, True),
    ("http://hub.store.example:8700", False, False),
    ("http://10.0.0.5:8700", False, False),
    ("http://10.0.0.5:8700", True, True),
    ("http://127.0.0.1:8700", False, True),
    ("http://localhost:8700/", False, True),
    ("http://[::1]:8700", False, True),
    ("ftp://hub.store.example", True, False),
])
def test_devices_refuse_plain_http_to_another_machine_unless_told_insecure(url, insecure, ok):
    if ok:
        assert checked_hub_url(url, insecure) == url.rstrip("/")
    else:
        with pytest.raises(InsecureHub):
            checked_hub_url(url, insecure)


def test_an_enrolled_device_with_a_plain_http_hub_will_not_sync_to_it(tmp_path):
    from edge_app.agent import hub_client

    replica = store(tmp_path / "device")
    replica.set_meta("hub_url", "http://hub.store.example:8700")
    replica.set_meta("token", "dev_x")
    with pytest.raises(InsecureHub):
        hub_client(replica)
    replica.set_meta("insecure", "1")  # enrolled with --insecure
    assert str(hub_client(replica).base_url) == "http://hub.store.example:8700"
    replica.close()
