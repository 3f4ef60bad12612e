"""Reconciliation reports for the ministry (PROTOCOL.md section 8)."""
