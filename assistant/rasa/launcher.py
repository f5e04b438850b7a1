"""Starts the Rasa server (``rasa run …``) with one fix: the action server's answer is validated against a
schema compiled once instead of on every custom-action turn.

Rasa 3.6 calls ``jsonschema.validate(result, spec)`` for every custom-action answer, which re-checks the schema
itself each time (measured ~35–45 ms a turn on this machine). The launcher keeps the validation — the same
schema, the same errors — but builds the validator once.

It runs inside the Rasa venv (Python 3.10) by path, ``.venv-rasa/bin/python assistant/rasa/launcher.py run …``,
so it imports nothing of the app; the arguments are ``rasa``'s own, plus ``--auth-token`` from the environment
variable ``JXE_RASA_AUTH_TOKEN`` (set by the supervisor; kept off the command line).
"""

from __future__ import annotations

import sys
from typing import Any


def compile_action_validator() -> None:
    """Replace ``RemoteAction._validate_action_result`` with a validator built once from the same spec."""
    from jsonschema import ValidationError
    from jsonschema.validators import validator_for
    from rasa.core.actions.action import RemoteAction
    from rasa.shared.constants import DOCS_BASE_URL

    spec = RemoteAction.action_response_format_spec()
    validator_cls = validator_for(spec)
    validator_cls.check_schema(spec)
    validator = validator_cls(spec)

    def _validate_action_result(self: Any, result: dict[str, Any]) -> bool:
        try:
            validator.validate(result)
        except ValidationError as e:
            e.message += (". Failed to validate Action server response from API, make sure your response from the "
                          f"Action endpoint is valid. For more information about the format visit "
                          f"{DOCS_BASE_URL}/custom-actions")
            raise
        return True

    RemoteAction._validate_action_result = _validate_action_result


def apply_auth_token(argv: list[str], environ: dict[str, str]) -> list[str]:
    """``argv`` of ``rasa run`` with ``--auth-token`` taken from ``JXE_RASA_AUTH_TOKEN`` (removed from
    ``environ``), so the token never appears on the process's command line (``ps`` shows that to every user)."""
    token = environ.pop("JXE_RASA_AUTH_TOKEN", "")
    if token and len(argv) > 1 and argv[1] == "run" and "--auth-token" not in argv:
        return [*argv, "--auth-token", token]
    return argv


def main() -> None:
    """``rasa`` with the compiled validator (and the API token from the environment)."""
    import os

    sys.argv = apply_auth_token(sys.argv, os.environ)
    compile_action_validator()
    from rasa.__main__ import main as rasa_main

    sys.argv[0] = "rasa"
    rasa_main()


if __name__ == "__main__":
    main()
