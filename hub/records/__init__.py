"""Signed fraud-number records: ingest, routing, pull and look-ups (PROTOCOL.md section 4)."""
