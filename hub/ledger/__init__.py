"""The append-only Merkle transparency log (PROTOCOL.md section 7)."""
