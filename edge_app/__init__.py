"""The device: local SQLite replica, outbox, sync agent, workflows and the Flet UI."""

# Reported to the hub with every health report (the console's fleet page). The same as
# pyproject.toml's and packaging/floor-app's version (tests/unit/test_packaging.py checks).
APP_VERSION = "0.1.0"
