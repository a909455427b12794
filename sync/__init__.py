"""The protocol the hub and the devices share: ops, changes, clocks and op kinds.

Pure code: pydantic and the standard library, no I/O, no clock reads.
"""
