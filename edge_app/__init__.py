"""The device: local SQLite replica, outbox, sync agent, workflows and the Flet UI."""
