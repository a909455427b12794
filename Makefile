# Two commands set Backroom up on a fresh Debian/Ubuntu machine: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
SYSTEM_PACKAGES := libzbar0 chromium nginx-light

.PHONY: demo test install system-deps bench-scan clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

# System libraries: pyzbar needs libzbar0, the browser tests need Debian's Chromium, the
# packaging check runs `nginx -t` on the TLS proxy example.
system-deps:
	@missing=""; for p in $(SYSTEM_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ]; then apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q $$missing; \
	else echo "Backroom needs these system packages:$$missing"; \
	     echo "Install them with: sudo apt-get install -y$$missing"; exit 1; fi

demo: system-deps $(STAMP)
	$(PY) -m backroom_cli demo

# The type checker first (its configuration is in pyproject.toml: strict for sync/ and
# devices/), then the whole suite.
test: system-deps $(STAMP)
	$(PY) -m mypy
	$(PY) -m pytest -q -ra

clean:
	rm -rf $(VENV) .backroom .pytest_cache

# The floor app's sources staged for `flet build` (packaging/README.md).
.PHONY: floor-app-src
floor-app-src:
	$(PYTHON) packaging/floor-app/stage.py

# Scanning benchmark: decode time per 1280x720 frame per decoder, wedge throughput, and the corpus
# tables (read rate per distortion and false reads, ours beside raw zxing-cpp and pyzbar, goals beside).
# pyzbar needs libzbar0: installed here as `make system-deps` would when run as root; otherwise its
# rows are skipped with a note and the rest runs.
bench-scan: $(STAMP)
	@dpkg -s libzbar0 >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then (apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q libzbar0) \
	    || echo "note: libzbar0 could not be installed; pyzbar is skipped"; \
	  else echo "note: libzbar0 is missing (sudo apt-get install -y libzbar0); pyzbar is skipped"; fi; }
	$(PY) -m benchmarks.bench_scan $(BENCH_SCAN_ARGS)

# The floor app in Chromium at a handheld's size: scan → on-screen feedback p50/p95 over
# 200 scans, and first load to the sign-in screen, with the goals beside them.
.PHONY: bench-floor
bench-floor: system-deps $(STAMP)
	$(PY) -m benchmarks.floor

# Floor and hub benchmarks (scan→commit, bootstrap, pull, push ingest on SQLite and PostgreSQL,
# the raw database limits beside them); writes the table to docs/benchmarks.md.
.PHONY: bench
bench: $(STAMP)
	$(PY) -m benchmarks.run

# sync: the long soak, not part of `make test` (simulator/soak.py): 10,000 seeded schedules
# with hub restores from backup among the faults; prints a summary and any violation's replay.
.PHONY: soak
SOAK_SCHEDULES ?= 10000
soak: $(STAMP)
	$(PY) -m simulator.soak --schedules $(SOAK_SCHEDULES) $(SOAK_ARGS)

# sync: the hour of real processes, not part of `make test` (simulator/real_soak.py): two
# `hub serve` instances on a fresh PostgreSQL database (dropped after) behind a lossy proxy,
# ten `backroom edge` devices, SIGKILLs of every process, one hub restore from a pg_dump
# backup; prints lost, doubled, oversold and diverged counts (all must be 0) and exits 1 otherwise.
# Needs PostgreSQL (BACKROOM_SOAK_PG, default postgresql://postgres@127.0.0.1:5432/postgres) and
# pg_dump/pg_restore of its version. Run from the checkout: it reuses tests/e2e's machinery.
.PHONY: soak-real
SOAK_MINUTES ?= 60
soak-real: $(STAMP)
	$(PY) -m simulator.real_soak --minutes $(SOAK_MINUTES) $(SOAK_REAL_ARGS)
