"""Enrolling a device: spend a one-time code at the hub, keep the identity locally."""

from __future__ import annotations

import httpx

from edge_app.errors import EnrollmentFailed, HubUnreachable
from edge_app.hub_url import checked_hub_url, tls_verify
from edge_app.local.replica import Replica
from sync.models import Enrollment

__all__ = ["enroll"]


async def enroll(replica: Replica, hub_url: str, code: str, name: str = "", transport: httpx.AsyncBaseTransport | None = None,
                 insecure: bool = False, ca_file: str | None = None) -> Enrollment:
    """Enroll this data directory as a device of the hub. `insecure` allows plain http to
    another machine; `ca_file` is the certificate (authority) to trust for https.

    Raises InsecureHub, EnrollmentFailed (code refused, or already enrolled) or HubUnreachable."""
    hub_url = checked_hub_url(hub_url, insecure)
    if replica.get_meta("device_id"):
        raise EnrollmentFailed(f"{replica.data_dir} is already enrolled as device {replica.get_meta('device_id')}")
    try:
        async with httpx.AsyncClient(base_url=hub_url, transport=transport, timeout=10.0,
                                     verify=tls_verify(ca_file)) as client:
            response = await client.post("/v1/devices/enroll", json={"code": code, "name": name})
    except httpx.HTTPError as exc:
        raise HubUnreachable(f"hub at {hub_url} not reachable: {exc}") from exc
    if response.status_code != 200:
        raise EnrollmentFailed(f"hub refused the code: {response.json().get('detail', response.text)}")
    enrollment = Enrollment.model_validate(response.json())
    with replica.transaction():
        for key, value in (
            ("device_id", enrollment.device_id),
            ("token", enrollment.token),
            ("hub_url", hub_url),
            ("insecure", "1" if insecure else ""),
            ("ca_file", ca_file or ""),
            ("location", enrollment.location),
            ("role", enrollment.role),
            ("device_name", name or enrollment.role),
            ("next_seq", "1"),
            ("cursor", "0"),
        ):
            replica.set_meta(key, value)
    return enrollment
