"""Events out: every hub change as a CloudEvents 1.0 event, written to the `events`
outbox in the transaction of the change (hub.events.outbox, called by hub.log), then
published at least once by a relay to NATS JetStream (hub.events.relay) and to signed
webhooks (hub.events.webhooks). Event types and their data are modelled in
hub.events.types; their JSON Schemas are published under docs/events/."""

__all__: list[str] = []
