"""A pytest plugin: no silent skips.

A required part that is missing (the Rasa venv, ../shared, Chromium, the NLU …) makes its tests FAIL with the
reason, so a green ``make test`` always means the whole tier ran. A test that may legitimately not run here is
marked ``@pytest.mark.optional``; the summary says how many of those did not run, and how many passed tests used
the real parts (Rasa, PostgreSQL, Chromium, ASR).
"""

from __future__ import annotations

import pytest


_REAL_PARTS = {
    "real Rasa": lambda item: "live" in item.fixturenames or item.get_closest_marker("rasa") is not None,
    "PostgreSQL": lambda item: item.get_closest_marker("postgres") is not None
    or "[postgres" in item.nodeid,
    "Chromium": lambda item: "page_factory" in item.fixturenames or "page" in item.fixturenames
    or item.get_closest_marker("browser") is not None,
    "ASR": lambda item: bool({"whisper_engine", "pipeline", "transcripts", "vosk_ko"} & set(item.fixturenames)),
}
_COUNTS = pytest.StashKey[dict]()
_MISSING = pytest.StashKey[dict]()
_PHRASE = "a required part is missing"
_OPTIONAL_NOT_RUN = pytest.StashKey[list]()


def pytest_configure(config):
    config.addinivalue_line("markers", "optional: may not run on every machine (reported, not failed, when skipped)")
    config.stash[_COUNTS] = {name: 0 for name in _REAL_PARTS}
    config.stash[_OPTIONAL_NOT_RUN] = []
    config.stash[_MISSING] = {}


def _missing_reason(text: str) -> str | None:
    """The "a required part is missing …" line of a failure, if it is one."""
    for line in text.splitlines():
        if _PHRASE in line:
            return line.split(_PHRASE, 1)[1].lstrip(" :,").strip() or line.strip()
    return None


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        if item.get_closest_marker("optional") is not None:
            if report.when in ("setup", "call"):
                item.config.stash[_OPTIONAL_NOT_RUN].append(f"{item.nodeid}: {reason}")
            return
        report.outcome = "failed"
        report.longrepr = f"{_PHRASE}, so this test did not run: {reason}"
        missing = item.config.stash[_MISSING]
        missing[reason] = missing.get(reason, 0) + 1
        return
    if report.failed:
        reason = _missing_reason(str(report.longrepr))
        if reason is not None:
            missing = item.config.stash[_MISSING]
            missing[reason] = missing.get(reason, 0) + 1
    if report.when == "call" and report.passed:
        for name, uses in _REAL_PARTS.items():
            if uses(item):
                item.config.stash[_COUNTS][name] += 1


def pytest_terminal_summary(terminalreporter):
    stash = terminalreporter.config.stash
    missing = stash[_MISSING]
    if missing:
        total = sum(missing.values())
        terminalreporter.write_line(
            f"REQUIRED PARTS MISSING: {total} tests failed because a part they need is not here "
            "(run scripts/setup.sh / make test, which installs and starts them):", red=True, bold=True)
        for reason, n in sorted(missing.items(), key=lambda kv: -kv[1]):
            terminalreporter.write_line(f"  {n} × {reason}", red=True)
    counts = ", ".join(f"{n} {name}" for name, n in stash[_COUNTS].items())
    terminalreporter.write_line(f"real parts: passed tests that used them — {counts}")
    not_run = stash[_OPTIONAL_NOT_RUN]
    if not_run:
        terminalreporter.write_line(f"optional tests that did not run: {len(not_run)}")
        for line in not_run:
            terminalreporter.write_line(f"  {line}")
