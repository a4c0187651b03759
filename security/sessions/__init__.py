"""Signed-in sessions: the index of open sessions, the session engine, the per-request rules."""
