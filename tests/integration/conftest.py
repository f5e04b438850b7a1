"""The integration tests use the session-wide ``live`` stack of ``tests/live_stack.py`` (app + real Rasa)."""
