"""金帮办 staff: who a helper is (level, place, role) and what they did (the audit log)."""
