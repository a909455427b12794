"""A seeded simulator that drives the real hub and real device replicas through
a faulty network, crashes and restarts, and checks the sync contract after every
step. `backroom simulate --help`."""
