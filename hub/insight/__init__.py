"""Foresight on the hub: SLA risk of open orders (hub.insight.risk) and the
Prometheus metrics (hub.insight.metrics)."""

__all__: list[str] = []
