"""The central hub: order intake and routing, reservations, applying ops, the change feed."""
