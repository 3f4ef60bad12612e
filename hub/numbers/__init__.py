"""Number lifecycle events and reassignment questions (PROTOCOL.md section 10)."""
