"""The use cases: tenants, entities, segments, real-time membership, events, time."""
