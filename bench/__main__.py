"""``python -m bench`` (``make bench``): run every benchmark area that exists (``bench/<area>.py`` exposing
``run(settings) -> str`` markdown) and write ``docs/benchmarks.md`` with the date and the machine facts."""

from __future__ import annotations

import datetime as dt
import importlib
import os
import pkgutil
import platform
import sys
import time
import traceback
from pathlib import Path

import bench
from assistant.settings import REPO_ROOT, Settings

#: Areas in this order first; any other ``bench/<area>.py`` with a ``run`` follows alphabetically.
ORDER = ("nlu", "chat", "voice", "cost", "fault")
OUT = REPO_ROOT / "docs" / "benchmarks.md"


def machine_facts() -> list[str]:
    """CPU model, cores, memory, OS, Python and load average, as markdown list lines."""
    cpu = platform.processor() or ""
    mem = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                mem = f"{int(line.split()[1]) / 1024 / 1024:.1f} GB"
                break
    except OSError:
        pass
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "?"
    return [f"- CPU: {cpu or '?'} × {os.cpu_count()} logical cores; memory {mem or '?'}",
            f"- OS: {platform.platform()}; Python {platform.python_version()}",
            f"- load average at start (1/5/15 min): {load} — the machine is shared, timings vary"]


def areas() -> list[str]:
    """The benchmark modules present, in run order."""
    found = {m.name for m in pkgutil.iter_modules(bench.__path__) if not m.name.startswith("_")}
    found = {n for n in found if n in ORDER or not n.startswith("rasa_")}
    return [a for a in ORDER if a in found] + sorted(found - set(ORDER))


def main(argv: list[str] | None = None) -> int:
    """Run the areas named in ``argv`` (default all) and write the report."""
    argv = list(sys.argv[1:] if argv is None else argv)
    settings = Settings()
    wanted = [a for a in argv if not a.startswith("-")] or areas()
    started = dt.datetime.now().astimezone()
    parts = ["# 金小二 — benchmarks", "",
             f"Written by `python -m bench` ({' '.join(wanted)}) on {started:%Y-%m-%d %H:%M %Z}.", "",
             *machine_facts(), ""]
    status = 0
    for area in wanted:
        try:
            mod = importlib.import_module(f"bench.{area}")
        except ImportError as exc:
            parts += [f"## {area}", "", f"not run: {exc}", ""]
            status = 1
            continue
        if not hasattr(mod, "run"):
            continue
        t0 = time.perf_counter()
        print(f"bench: {area} …", file=sys.stderr)
        try:
            parts.append(mod.run(settings).rstrip() + "\n")
        except Exception:  # noqa: BLE001 - one failing area must not lose the others' numbers
            parts += [f"## {area}", "", "failed:", "", "```", traceback.format_exc()[-2000:], "```", ""]
            status = 1
        parts.append(f"_{area}: {time.perf_counter() - t0:.0f} s_\n")
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text("\n".join(parts), encoding="utf-8")
    print(f"bench: wrote {OUT}", file=sys.stderr)
    return status


if __name__ == "__main__":
    sys.exit(main())
