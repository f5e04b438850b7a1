"""The guidebook: every matter the assistant knows, merged from the catalogue, optional Guangdong guides and the
authored YAML guides."""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Iterable, Iterator
from pathlib import Path

from knowledge.errors import Issue, KBError
from knowledge.loaders.guangdong import export_file, import_guangdong, is_raw_export
from knowledge.loaders.jsonl import dumps_matter
from knowledge.schema import Matter
from knowledge.validate import Collected, Entry, check, merge, normalize_name, read_catalogue_file, read_guides

log = logging.getLogger(__name__)

#: ``../shared/data/guangdong-matter-guides`` beside the repository root (only for the scale test).
DEFAULT_GUANGDONG_PATH = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "guangdong-matter-guides"

__all__ = ["DEFAULT_GUANGDONG_PATH", "KnowledgeBase", "normalize_name"]

def _event(level: int, event: str, **fields: object) -> None:
    """Log a structured event the way ``assistant.logging`` formats them (``event`` + ``fields``), readable
    with a plain handler too."""
    if log.isEnabledFor(level):
        text = " ".join(f"{k}={v}" for k, v in fields.items())
        log.log(level, f"{event} {text}".strip(), extra={"event": event, "fields": fields})


_SOURCE_RANK = {"authored": 0, "sichuan-catalog": 1, "guangdong-guides": 2}


class KnowledgeBase:
    """All matters, indexed by code and name.

    Attributes:
        matters: every matter, in a deterministic order: catalogue files (by file name, then line; an authored
            guide replaces the entry it overrides in place), then authored matters the catalogue lacks.
        issues: problems found while loading (only warnings unless loaded with ``strict=False``).
        guide_files: the guide file of each authored matter, by code.
    """

    def __init__(self, matters: Iterable[Matter], issues: list[Issue] | None = None,
                 guide_files: dict[str, Path] | None = None):
        """Build the indexes.

        Args:
            matters: the matters; codes must be unique.
            issues: problems found while loading, kept for reports.
            guide_files: the guide file of each authored matter, by code.

        Raises:
            ValueError: two matters share a code.
        """
        self.matters: list[Matter] = list(matters)
        self.issues: list[Issue] = list(issues or [])
        self.guide_files: dict[str, Path] = dict(guide_files or {})
        self._by_code: dict[str, Matter] = {}
        for m in self.matters:
            if m.code in self._by_code:
                raise ValueError(f"duplicate matter code {m.code}")
            self._by_code[m.code] = m
        ranked = sorted(range(len(self.matters)),
                        key=lambda i: (_SOURCE_RANK.get(self.matters[i].source, 9), i))
        self._by_name: dict[str, list[Matter]] = {}
        self._by_alias: dict[str, list[Matter]] = {}
        for i in ranked:
            m = self.matters[i]
            self._by_name.setdefault(normalize_name(m.name), []).append(m)
            for alias in m.aliases:
                self._by_alias.setdefault(normalize_name(alias), []).append(m)
        self._fingerprint: str | None = None

    # --- loading ------------------------------------------------------------------------------------------------
    @classmethod
    def load(cls, kb_dir: Path, guides_dir: Path, include_guangdong: bool = False,
             guangdong_path: Path | None = None, *, strict: bool = False) -> "KnowledgeBase":
        """Load the KB.

        Args:
            kb_dir: folder of catalogue files (every ``*.jsonl`` in it, by file name; the committed KB is
                ``knowledge/data``).
            guides_dir: folder of authored guides (``*.yml`` / ``*.yaml``); may be missing.
            include_guangdong: also load the Guangdong guide export (scale test).
            guangdong_path: the export (folder with ``policy.json``, the file itself, or a ``.jsonl`` written
                by ``jinxiaoer kb import guangdong``); default ``../shared/data/guangdong-matter-guides``.
            strict: raise on any error. By default (``False``) an invalid guide or record is left out, a dangling
                reference is kept (lookups skip it), and every problem is logged (``knowledge.kb.issue``) and
                listed in ``issues`` — one bad guide does not take the service down; ``jinxiaoer kb validate``
                and CI are where errors fail.

        Returns:
            The merged knowledge base.

        Raises:
            FileNotFoundError: ``kb_dir`` or the Guangdong export does not exist.
            KBError: ``strict`` and the files have errors (each listed as ``file:line: field: message``).
        """
        t0 = time.perf_counter()
        kb_dir, guides_dir = Path(kb_dir), Path(guides_dir)
        if not kb_dir.is_dir():
            raise FileNotFoundError(f"KB folder {kb_dir} not found (run `jinxiaoer kb import sichuan --src DIR`)")
        collected = Collected()
        for f in sorted(kb_dir.glob("*.jsonl")):
            entries, problems = read_catalogue_file(f)
            collected.catalogue += entries
            collected.issues += problems
        if include_guangdong:
            collected.catalogue += _guangdong_entries(Path(guangdong_path or DEFAULT_GUANGDONG_PATH))
        if guides_dir.is_dir():
            entries, problems = read_guides([guides_dir])
            collected.guides += entries
            collected.issues += problems
        issues = collected.issues + check(collected, ambiguity=False)
        errors = [i for i in issues if i.severity == "error"]
        if errors and strict:
            raise KBError(errors)
        for issue in issues:
            _event(logging.WARNING, "knowledge.kb.issue", issue=str(issue), severity=issue.severity)

        matters: list[Matter] = []
        index: dict[str, int] = {}
        for entry in collected.catalogue:
            if entry.matter.code not in index:
                index[entry.matter.code] = len(matters)
                matters.append(entry.matter)
        guide_files: dict[str, Path] = {}
        for entry in collected.guides:
            code = entry.matter.code
            if code in guide_files:
                continue
            guide_files[code] = entry.file
            if code in index:
                matters[index[code]] = merge(matters[index[code]], entry.matter)
            else:
                index[code] = len(matters)
                matters.append(entry.matter)
        kb = cls(matters, issues, guide_files)
        _event(logging.INFO, "knowledge.kb.loaded", matters=len(kb), guides=len(guide_files), errors=len(errors),
               ms=round(1000 * (time.perf_counter() - t0)))
        return kb

    def with_matters(self, replacements: Iterable[Matter]) -> "KnowledgeBase":
        """A new KB with some matters replaced (same codes, same order; this KB is left as it is).

        Args:
            replacements: matters whose codes are in this KB; each takes the place of the matter with its code.

        Raises:
            KeyError: a replacement's code is not in this KB.
        """
        by_code = {m.code: m for m in replacements}
        unknown = [c for c in by_code if c not in self._by_code]
        if unknown:
            raise KeyError(f"no matter with code {unknown[0]}")
        return type(self)([by_code.get(m.code, m) for m in self.matters], self.issues, self.guide_files)

    # --- lookups ------------------------------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.matters)

    def __iter__(self) -> Iterator[Matter]:
        return iter(self.matters)

    def __contains__(self, code: object) -> bool:
        return code in self._by_code

    def get(self, code: str) -> Matter | None:
        """The matter with catalogue/project code ``code``, or ``None``."""
        return self._by_code.get(code)

    def by_name(self, name: str) -> Matter | None:
        """The matter called ``name`` (compared after :func:`normalize_name`), else the one with that alias.

        Where several matters share a name, an authored guide wins over the Sichuan catalogue over Guangdong,
        then KB order.

        Args:
            name: a matter name or alias as written anywhere (full- or half-width brackets, spaces).
        """
        hits = self.all_by_name(name)
        return hits[0] if hits else None

    def all_by_name(self, name: str) -> list[Matter]:
        """Every matter whose name, then every matter whose alias, is ``name`` (see :meth:`by_name`)."""
        key = normalize_name(name)
        hits = list(self._by_name.get(key, []))
        hits += [m for m in self._by_alias.get(key, []) if m not in hits]
        return hits

    def related(self, code: str) -> list[Matter]:
        """The matters listed in ``related`` of matter ``code`` (unknown codes skipped)."""
        m = self.get(code)
        return [r for r in (self.get(c) for c in (m.related if m else [])) if r is not None]

    def renewals_of(self, code: str) -> list[Matter]:
        """The matters that renew (``renews``) the licence issued by matter ``code``."""
        return [m for m in self.matters if m.renews == code]

    @property
    def authored(self) -> list[Matter]:
        """The matters that come from an authored guide."""
        return [m for m in self.matters if m.source == "authored"]

    def lexicon(self) -> list[tuple[str, str]]:
        """``(term, code)`` for every name, alias and colloquial phrase (for jieba's user dictionary and the
        voice correction), deduplicated, in KB order."""
        seen: set[tuple[str, str]] = set()
        out: list[tuple[str, str]] = []
        for m in self.matters:
            for term in [m.name, *m.aliases, *m.colloquial]:
                term = term.strip()
                if term and (term, m.code) not in seen:
                    seen.add((term, m.code))
                    out.append((term, m.code))
        return out

    def fingerprint(self) -> str:
        """A stable hash (SHA-256 hex) of the content: equal for equal matters in any order, different as soon as
        one field of one matter changes. Use it to key caches (embeddings, indexes)."""
        if self._fingerprint is None:
            h = hashlib.sha256()
            for line in sorted(dumps_matter(m) for m in self.matters):
                h.update(line.encode("utf-8"))
                h.update(b"\n")
            self._fingerprint = h.hexdigest()
        return self._fingerprint


def _guangdong_entries(path: Path) -> list[Entry]:
    if path.is_file() and path.suffix == ".jsonl" and not is_raw_export(path):
        entries, problems = read_catalogue_file(path)
        if problems:
            raise KBError(problems)
        return entries
    src = export_file(path)  # raises FileNotFoundError for a missing export
    result = import_guangdong(src)
    if result.report.errors:
        _event(logging.WARNING, "knowledge.guangdong.skipped", records=len(result.report.errors),
               first=result.report.errors[:5])
    return [Entry(m, src) for m in result.matters]
