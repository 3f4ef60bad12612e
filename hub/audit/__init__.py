"""The audit trail: who read which partner data, kept in the database (PROTOCOL 1.1 section 9).

``service.record(...)`` is the one way a read route writes its row;
``routes`` serves ``GET /v1/audit`` to the ministry; ``prune`` applies the
retention setting.
"""
