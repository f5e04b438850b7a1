"""Problems found while loading or validating the KB, reported as ``file:line: field: message``."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, order=True)
class Issue:
    """One problem in a KB file.

    Attributes:
        file: the file the problem is in.
        line: 1-based line number (0 when the problem concerns the whole file).
        field: dotted path of the offending field (``materials.2.form``), or ``-`` for the whole record.
        message: what is wrong, in plain words.
        severity: ``error`` (the KB must not be served like this) or ``warning`` (worth a look).
    """

    file: str
    line: int
    field: str
    message: str
    severity: str = "error"

    def __str__(self) -> str:
        prefix = "warning: " if self.severity == "warning" else ""
        return f"{self.file}:{self.line}: {self.field}: {prefix}{self.message}"


class KBError(ValueError):
    """The KB cannot be loaded; ``issues`` lists every problem found."""

    def __init__(self, issues: list[Issue]):
        issues = [i for i in issues if i.severity == "error"] or issues
        self.issues = issues
        shown = "\n".join(str(i) for i in issues[:20])
        more = f"\n… and {len(issues) - 20} more" if len(issues) > 20 else ""
        super().__init__(f"{len(issues)} problem(s) in the knowledge base "
                         f"(run `jinxiaoer kb validate`):\n{shown}{more}")


def display_path(path: Path) -> str:
    """``path`` relative to the working directory when it lies below it, else as given."""
    try:
        return str(Path(path).resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)
