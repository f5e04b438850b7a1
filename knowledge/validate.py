"""Checks over the whole KB: schema errors (from the loaders), duplicate codes, guide codes that override nothing,
dangling ``related`` / ``renews`` codes. Used by ``KnowledgeBase.load`` and ``jinxiaoer kb validate``.

Rules (docs/knowledge.md):

* Catalogue files (``*.jsonl``) must not repeat a code, and neither must guides.
* A guide whose code is a catalogue code overrides that entry (:func:`merge`). A guide whose code is not in the
  catalogue must use a project code (``JN-…``, or ``GD-…`` for a Guangdong-import matter).
* ``related`` and ``renews`` must name codes that exist, and not the matter itself.
* ``verified: true`` needs a ``source_ref`` saying what it was checked against.
* The halls file (``halls.yml`` in the KB folder) and the streets file it names: :func:`knowledge.halls.check_halls`.

A guide edited in the staff workbench goes through the same checks (:func:`check_guide`).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from knowledge.errors import Issue, display_path
from knowledge.halls import HALL_FILE_NAMES, HALLS_FILE, check_halls, read_streets
from knowledge.loaders.guides import GUIDE_SUFFIXES, guide_matter, load_guides
from knowledge.loaders.jsonl import read_matters
from knowledge.schema import Matter

#: Prefixes of codes that need no catalogue entry.
PROJECT_PREFIXES = ("JN-", "GD-")
#: Fields a guide inherits from the catalogue entry it overrides when it leaves them empty.
INHERITED_FIELDS = ("department", "main_item", "matter_type", "online_link", "consult_phone", "complaint_phone",
                    "source_ref")


@dataclass
class Entry:
    """A matter with where it came from.

    Attributes:
        matter: the matter.
        file: the file it was read from.
        lines: line of each field (``"code"``, ``"related.0"``); jsonl records have only ``"-"``.
        checked: whether problems in this entry are reported (False for context files of a partial validate).
    """

    matter: Matter
    file: Path
    lines: dict[str, int] = field(default_factory=dict)
    checked: bool = True

    def line(self, where: str = "code") -> int:
        """The line of field ``where`` (falls back to the field's key, then the record)."""
        return self.lines.get(where) or self.lines.get(where.split(".")[0]) or self.lines.get("-") or 1

    def issue(self, where: str, message: str, severity: str = "error") -> Issue:
        """An :class:`Issue` about field ``where`` of this entry."""
        return Issue(display_path(self.file), self.line(where), where, message, severity)


@dataclass
class Collected:
    """Everything read, before merging.

    Attributes:
        catalogue: entries from catalogue files (``*.jsonl``, Guangdong), in file order.
        guides: valid authored guides, in file-name order.
        issues: problems found so far (schema errors of checked files).
    """

    catalogue: list[Entry] = field(default_factory=list)
    guides: list[Entry] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)


def read_catalogue_file(path: Path, checked: bool = True) -> tuple[list[Entry], list[Issue]]:
    """Read one KB ``.jsonl`` file into entries.

    Args:
        path: the file.
        checked: whether the entries' problems are to be reported.
    """
    matters, issues = read_matters(path)
    return [Entry(m, Path(path), {"-": line}, checked) for line, m in matters], issues


def read_guides(paths: Iterable[Path], checked: bool = True) -> tuple[list[Entry], list[Issue]]:
    """Read guide files and/or folders into entries.

    Args:
        paths: guide files and/or folders.
        checked: whether the entries' problems are to be reported.
    """
    entries: list[Entry] = []
    issues: list[Issue] = []
    for parsed in load_guides(paths):
        issues.extend(parsed.issues)
        if parsed.matter is not None:
            entries.append(Entry(parsed.matter, parsed.path, parsed.lines, checked))
    return entries, issues


def merge(base: Matter, guide: Matter) -> Matter:
    """The matter served when an authored guide overrides a catalogue entry with the same code.

    The guide wins field by field. Fields in :data:`INHERITED_FIELDS` that the guide leaves empty keep the
    catalogue's value (link, department, …). The catalogue's name and aliases become aliases of the guide when
    the guide names the matter differently, so the official name still finds it. The guide's body (materials,
    places, limits, fee) is never mixed with a catalogue body.

    Args:
        base: the catalogue entry.
        guide: the authored guide with the same code.
    """
    data = guide.model_dump()
    for name in INHERITED_FIELDS:
        if not data[name]:
            data[name] = getattr(base, name)
    aliases = list(data["aliases"])
    for alt in [base.name, *base.aliases]:
        if alt != data["name"] and alt not in aliases:
            aliases.append(alt)
    data["aliases"] = aliases
    return Matter.model_validate(data)


def check(collected: Collected, extra_codes: Iterable[str] = (), ambiguity: bool = True) -> list[Issue]:
    """Cross-checks over everything collected.

    Args:
        collected: catalogue entries and guides.
        extra_codes: further codes that references may point at (e.g. matters not loaded here).
        ambiguity: also warn about phrases that point at two matters (validate does; loading skips it).

    Returns:
        Problems that concern at least one checked entry.
    """
    issues: list[Issue] = []
    first: dict[str, Entry] = {}
    for entry in collected.catalogue:
        code = entry.matter.code
        if code in first:
            prev = first[code]
            if entry.checked or prev.checked:
                issues.append(entry.issue("code", f"duplicate code {code}: also at "
                                                  f"{display_path(prev.file)}:{prev.line()}"))
        else:
            first[code] = entry
    catalogue_codes = set(first)
    guide_first: dict[str, Entry] = {}
    for entry in collected.guides:
        code = entry.matter.code
        if code in guide_first:
            prev = guide_first[code]
            if entry.checked or prev.checked:
                issues.append(entry.issue("code", f"duplicate code {code}: another guide has it "
                                                  f"({display_path(prev.file)}:{prev.line('code')})"))
            continue
        guide_first[code] = entry
        if code not in catalogue_codes and not code.startswith(PROJECT_PREFIXES) and entry.checked:
            issues.append(entry.issue("code", f"{code} is not a catalogue code; a matter the catalogue lacks "
                                              f"takes a project code JN-… (check for a typo)"))
    known = catalogue_codes | set(guide_first) | set(extra_codes)
    for entry in [*collected.catalogue, *collected.guides]:
        if not entry.checked:
            continue
        m = entry.matter
        for i, ref in enumerate(m.related):
            if ref == m.code:
                issues.append(entry.issue(f"related.{i}", "a matter cannot be related to itself"))
            elif ref not in known:
                issues.append(entry.issue(f"related.{i}", f"unknown code {ref} (no matter has it)"))
        if m.renews is not None:
            if m.renews == m.code:
                issues.append(entry.issue("renews", "a matter cannot renew itself"))
            elif m.renews not in known:
                issues.append(entry.issue("renews", f"unknown code {m.renews} (no matter has it)"))
        if m.verified and not m.source_ref:
            issues.append(entry.issue("verified", "verified: true needs source_ref: the official page it was "
                                                  "checked against (and when)"))
        if m.source == "authored" and not m.materials:
            issues.append(entry.issue("materials", "an authored guide without any material", "warning"))
    if ambiguity:
        issues += _ambiguity_warnings(collected, guide_first)
    return issues


def normalize_name(text: str) -> str:
    """The form names and phrases are compared in: NFKC (full-width brackets → ASCII), no whitespace, lower case.

    Args:
        text: a matter name, alias or phrase.
    """
    return "".join(unicodedata.normalize("NFKC", text).split()).lower()


def _ambiguity_warnings(collected: Collected, guides: dict[str, Entry]) -> list[Issue]:
    """Phrases that would point the NLU at two matters: the same example/colloquial phrase in two guides, or a
    guide alias that is another matter's name."""
    issues: list[Issue] = []
    names: dict[str, str] = {}
    for entry in [*collected.catalogue, *guides.values()]:
        names.setdefault(normalize_name(entry.matter.name), entry.matter.code)
    phrases: dict[str, tuple[str, Entry]] = {}
    for entry in guides.values():
        m = entry.matter
        for key in ("examples", "colloquial"):
            for i, phrase in enumerate(getattr(m, key)):
                seen = phrases.setdefault(normalize_name(phrase), (m.code, entry))
                if seen[0] != m.code and (entry.checked or seen[1].checked):
                    issues.append(entry.issue(f"{key}.{i}", f"{phrase!r} is also given for {seen[0]} "
                                                            f"({display_path(seen[1].file)})", "warning"))
        for i, alias in enumerate(m.aliases):
            other = names.get(normalize_name(alias))
            if other is not None and other != m.code and entry.checked:
                issues.append(entry.issue(f"aliases.{i}", f"{alias!r} is the name of another matter ({other})",
                                          "warning"))
    return issues


def _split(paths: Sequence[Path]) -> tuple[list[Path], list[Path], list[Path], list[Issue]]:
    catalogues: list[Path] = []
    guides: list[Path] = []
    halls: list[Path] = []
    issues: list[Issue] = []
    for p in map(Path, paths):
        if p.is_dir():
            catalogues += sorted(p.glob("*.jsonl"))
            halls += [p / name for name in HALL_FILE_NAMES if (p / name).is_file()]
            guides += sorted(f for f in p.iterdir()
                             if f.suffix in GUIDE_SUFFIXES and f.is_file() and f.name not in HALL_FILE_NAMES)
        elif not p.exists():
            issues.append(Issue(str(p), 0, "-", "no such file or folder"))
        elif p.name in HALL_FILE_NAMES:
            halls.append(p)
        elif p.suffix == ".jsonl":
            catalogues.append(p)
        elif p.suffix in GUIDE_SUFFIXES:
            guides.append(p)
        else:
            issues.append(Issue(display_path(p), 0, "-", "not a KB file (.jsonl) or a guide (.yml/.yaml)"))
    return catalogues, guides, halls, issues


def _hall_issues(files: Sequence[Path]) -> list[Issue]:
    """Problems in halls files (with the streets file each names) and in streets files given on their own."""
    issues: set[Issue] = set()
    for f in files:
        issues.update(check_halls(f) if f.name == HALLS_FILE.name else read_streets(f)[1])
    return list(issues)


def validate(paths: Sequence[Path], kb_dir: Path, guides_dir: Path) -> list[Issue]:
    """Validate KB files and guides.

    Args:
        paths: files and/or folders to check; empty means the whole default KB (``kb_dir`` + ``guides_dir``).
        kb_dir: the folder of catalogue ``.jsonl`` files; always read as context for codes.
        guides_dir: the folder of authored guides; always read as context for codes.

    Returns:
        Every problem in the checked files, sorted by file and line.
    """
    kb_dir, guides_dir = Path(kb_dir), Path(guides_dir)
    default_cat = sorted(kb_dir.glob("*.jsonl")) if kb_dir.is_dir() else []
    default_guides = ([f for f in sorted(guides_dir.iterdir()) if f.suffix in GUIDE_SUFFIXES and f.is_file()]
                      if guides_dir.is_dir() else [])
    if paths:
        cat_files, guide_paths, hall_files, issues = _split(paths)
    else:
        cat_files, guide_paths, issues = default_cat, default_guides, []
        hall_files = [kb_dir / HALLS_FILE.name] if (kb_dir / HALLS_FILE.name).is_file() else []
    checked = {p.resolve() for p in [*cat_files, *guide_paths]}
    collected = Collected(issues=issues)
    # Context files first (in their natural order), so a checked file that repeats a context code is the one
    # reported; checked files never appear twice.
    for f in [*default_cat, *[c for c in cat_files if c.resolve() not in {d.resolve() for d in default_cat}]]:
        is_checked = f.resolve() in checked
        entries, problems = read_catalogue_file(f, is_checked)
        collected.catalogue += entries
        if is_checked:
            collected.issues += problems
    extra_guides = [g for g in guide_paths if g.resolve() not in {d.resolve() for d in default_guides}]
    for f in [*default_guides, *extra_guides]:
        is_checked = f.resolve() in checked
        entries, problems = read_guides([f], is_checked)
        collected.guides += entries
        if is_checked:
            collected.issues += problems
    return sorted(collected.issues + check(collected) + _hall_issues(hall_files),
                  key=lambda i: (i.file, i.line, i.field))


def check_guide(data: Mapping[str, object], matters: Sequence[Matter], shown: str = "") -> tuple[Matter | None,
                                                                                                 list[Issue]]:
    """Check one guide as the workbench's guide editor or a guide import hands it over, with exactly the rules of
    ``jinxiaoer kb validate`` for a guide file: the schema and ``source: authored`` (:func:`guide_matter`), then
    :func:`check` against the rest of the KB (codes of ``related`` / ``renews``, ``verified`` needs a
    ``source_ref``, a guide without materials, phrases that point at two matters).

    Args:
        data: the guide's fields (a mapping of ``Matter`` field names).
        matters: the KB's matters as served now (the guide's current version among them, if it has one).
        shown: what to call the guide in issues (default ``guidebook/<code>``).

    Returns:
        ``(matter, issues)``: ``matter`` is ``None`` when an issue is an error; issues hold warnings too.
    """
    code = str(data.get("code") or "")
    shown = shown or f"guidebook/{code or '-'}"
    matter, issues = guide_matter(data, shown)
    if matter is None:
        return None, issues
    where = Path(shown)
    collected = Collected()
    # every matter served now is context (the guide's current version too: a guide of a catalogue code
    # overrides it), the other guides are context for phrase clashes; only the edited guide is checked
    collected.catalogue = [Entry(m, Path(f"guidebook/{m.code}"), {"-": 0}, checked=False) for m in matters]
    collected.guides = [Entry(m, Path(f"guidebook/{m.code}"), {"-": 0}, checked=False) for m in matters
                        if m.source == "authored" and m.code != matter.code]
    collected.guides.append(Entry(matter, where, {"-": 0}, checked=True))
    issues = [Issue(shown, 0, i.field, i.message, i.severity) for i in check(collected)]
    return (None if any(i.severity == "error" for i in issues) else matter), issues
