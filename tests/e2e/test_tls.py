"""TLS (issue 17, finding 8): `backroom hub serve --cert --key` serves https, a
device enrolled with the certificate (`--ca-file`) syncs over it, and a device
refuses a plain http hub on another machine unless told `--insecure`."""

from __future__ import annotations

import shutil
import ssl
import subprocess

import httpx
import pytest

from tests.e2e.procs import BACKROOM, HubProcess, Processes, free_port, run_backroom, wait_until

pytestmark = pytest.mark.slow


def self_signed(folder) -> tuple[str, str]:
    cert, key = str(folder / "hub.crt"), str(folder / "hub.key")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert, "-days", "2",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
                   check=True, capture_output=True)
    return cert, key


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command to make a certificate")
def test_a_device_syncs_with_a_hub_over_https_and_refuses_plain_http(tmp_path):
    procs = Processes(tmp_path / "logs")
    try:
        cert, key = self_signed(tmp_path)
        hub = HubProcess(procs, f"sqlite:///{tmp_path / 'hub.db'}", free_port())
        hub.seed_demo()
        hub.proc = procs.start("hub", "hub", "serve", "--db", hub.db_url, "--port", str(hub.port), "--cert", cert, "--key", key)
        url = f"https://127.0.0.1:{hub.port}"

        def up() -> bool:
            try:
                return httpx.get(f"{url}/healthz", verify=ssl.create_default_context(cafile=cert), timeout=2).status_code == 200
            except httpx.HTTPError:
                return False

        wait_until(up, 30, "the hub to answer over https")
        with pytest.raises(httpx.HTTPError):
            httpx.get(f"http://127.0.0.1:{hub.port}/healthz", timeout=2)  # no plain http beside it
        device = tmp_path / "device"
        run_backroom("edge", "enroll", "--hub", url, "--code", hub.enrollment_code("DEMO-1"), "--data-dir", str(device),
                     "--ca-file", cert)
        report = run_backroom("edge", "sync", "--data-dir", str(device), "--json")
        assert '"pulled": ' in report and '"error"' not in report
        refused = subprocess.run([BACKROOM, "edge", "enroll", "--hub", "http://192.0.2.10:8700", "--code", "ABCD-EFGH",
                                  "--data-dir", str(tmp_path / "other")], capture_output=True, text=True, timeout=60)
        assert refused.returncode != 0 and "plain http" in refused.stderr + refused.stdout
    finally:
        procs.kill_all()
