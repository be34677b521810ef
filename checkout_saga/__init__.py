"""The checkout saga's domain core: aggregates, pure decisions, ports. No I/O here."""
