"""Acknowledgements of assignments (PROTOCOL.md section 5)."""
