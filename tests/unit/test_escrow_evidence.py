"""Allotment evidence (sync.escrow_evidence): the hub's signature covers every field."""

from __future__ import annotations

import pytest

from sync.escrow_evidence import evidence_signed, sign_evidence

KEY = bytes(range(32))
SIGNED = sign_evidence("e1", KEY, "dev-1", "DARK-1", "MILK-1L", 5, "2026-12-05T18:00:00+00:00")


def test_evidence_the_hub_signed_checks_with_its_key_and_not_another():
    assert evidence_signed(KEY, SIGNED)
    assert not evidence_signed(bytes(32), SIGNED)


@pytest.mark.parametrize("field, value", [
    ("key_id", "e2"), ("device_id", "dev-2"), ("location", "DEMO-1"), ("sku", "COFFEE-250"),
    ("granted", 6), ("expires_at", "2026-12-06T18:00:00+00:00"),
])
def test_evidence_with_any_field_changed_does_not_check(field, value):
    assert not evidence_signed(KEY, SIGNED.model_copy(update={field: value}))
