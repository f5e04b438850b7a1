"""Loader for authored YAML guides (``knowledge/guides/*.yml``): one matter per file, the keys are exactly the
``Matter`` field names. Errors point at the file and line of the offending key or value."""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from knowledge.errors import Issue, display_path
from knowledge.schema import Matter

_Base: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml is much faster and still gives marks


class KeyCheckingLoader(_Base):  # type: ignore[misc,valid-type]
    """Safe loader that records keys appearing twice in a mapping (plain PyYAML keeps the last silently)."""

    def __init__(self, stream: str):
        super().__init__(stream)
        self.duplicates: list[tuple[str, int, int]] = []  # (key, line, first line)

    def construct_mapping(self, node, deep=False):  # noqa: D102 - PyYAML hook
        seen: dict[str, int] = {}
        for key, _ in node.value:
            if isinstance(key, yaml.ScalarNode):
                if key.value in seen:
                    self.duplicates.append((key.value, node_line(key), seen[key.value]))
                else:
                    seen[key.value] = node_line(key)
        return super().construct_mapping(node, deep=deep)

GUIDE_SUFFIXES = (".yml", ".yaml")


def guide_files(paths: Iterable[Path]) -> list[Path]:
    """The guide files named by ``paths``.

    Args:
        paths: files and/or folders; folders contribute their ``*.yml`` / ``*.yaml`` files (not recursive).

    Returns:
        The files, sorted by name within each folder, each once.
    """
    out: list[Path] = []
    seen: set[Path] = set()
    for p in paths:
        p = Path(p)
        files = sorted(f for f in p.iterdir() if f.suffix in GUIDE_SUFFIXES and f.is_file()) if p.is_dir() else [p]
        for f in files:
            key = f.resolve()
            if key not in seen:
                seen.add(key)
                out.append(f)
    return out


def node_line(node: yaml.Node) -> int:
    return node.start_mark.line + 1


def locate_line(root: yaml.Node, loc: tuple[Any, ...], on_key: bool) -> int:
    """The line of the node at pydantic location ``loc`` (the deepest node that exists)."""
    node = root
    for i, part in enumerate(loc):
        last = i == len(loc) - 1
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if isinstance(key, yaml.ScalarNode) and key.value == str(part):
                    if last and on_key:
                        return node_line(key)
                    node = value
                    break
            else:
                return node_line(node)
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value):
            node = node.value[part]
        else:
            return node_line(node)
    return node_line(node)


def _message(err: dict[str, Any]) -> str:
    msg = err["msg"]
    value = err.get("input")
    if err["type"] == "string_type" and isinstance(value, (int, float, bool, _dt.date)):
        msg += f" (YAML read {value!r} as {type(value).__name__}; put it in quotes)"
    elif err["type"] == "extra_forbidden":
        fields = ", ".join(Matter.model_fields) if len(err["loc"]) == 1 else ""
        msg = "unknown field" + (f" (a guide's keys are the Matter fields: {fields})" if fields else "")
    elif err["type"] == "literal_error":
        msg = f"{msg}, got {value!r}"
    return msg


@dataclass
class ParsedGuide:
    """One guide file after parsing.

    Attributes:
        path: the file.
        matter: the matter, or ``None`` when the file has errors.
        issues: every problem found, each with the line of the offending key or value.
        lines: line numbers of the top-level keys and of their list items (``"code"``, ``"related.1"``).
    """

    path: Path
    matter: Matter | None
    issues: list[Issue]
    lines: Mapping[str, int] = field(default_factory=dict)

    def line(self, where: str) -> int:
        """The line of ``where`` (``"related.1"``), falling back to its key, then to line 1."""
        return self.lines.get(where) or self.lines.get(where.split(".")[0]) or 1


class KeyLines(Mapping):
    """Line numbers of a guide's top-level keys and their list items (``"code"``, ``"related.1"``), computed
    only when asked for (they are needed only to report a problem)."""

    def __init__(self, node: yaml.Node | None):
        self._node = node
        self._lines: dict[str, int] | None = None

    def _build(self) -> dict[str, int]:
        if self._lines is None:
            lines: dict[str, int] = {}
            if isinstance(self._node, yaml.MappingNode):
                for key, value in self._node.value:
                    if isinstance(key, yaml.ScalarNode):
                        lines.setdefault(key.value, node_line(key))
                        if isinstance(value, yaml.SequenceNode):
                            for i, item in enumerate(value.value):
                                lines[f"{key.value}.{i}"] = node_line(item)
            self._lines, self._node = lines, None
        return self._lines

    def __getitem__(self, key: str) -> int:
        return self._build()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._build())

    def __len__(self) -> int:
        return len(self._build())


def parse_guide(path: Path) -> ParsedGuide:
    """Parse and check one guide file.

    Args:
        path: the YAML file.

    Returns:
        The parsed guide; ``matter`` is ``None`` when the file has errors (listed in ``issues``).
    """
    matter, issues, lines = _parse(Path(path))
    return ParsedGuide(Path(path), matter, issues, lines)


@dataclass
class YamlMapping:
    """A YAML file read as one mapping, with what is needed to point at its lines.

    Attributes:
        data: the mapping, or ``None`` when the file could not be read as one (see ``issues``).
        node: its root node (for :func:`locate_line`).
        issues: unreadable file, syntax error, not a mapping, keys given twice.
    """

    data: dict[str, Any] | None
    node: yaml.Node | None
    issues: list[Issue]


def read_yaml_mapping(path: Path, what: str) -> YamlMapping:
    """Read a YAML file that must hold one mapping, recording keys given twice.

    Args:
        path: the file.
        what: what the mapping is, for messages (``"one matter (a mapping of Matter fields)"``).
    """
    shown = display_path(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return YamlMapping(None, None, [Issue(shown, 0, "-", f"cannot read the file: {exc}")])
    loader = KeyCheckingLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return YamlMapping(None, None, [Issue(shown, 1, "-", f"the file is empty; expected {what}")])
        data = loader.construct_document(node)
        duplicates = loader.duplicates
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 0
        return YamlMapping(None, None, [Issue(shown, line, "-", f"YAML syntax error: {exc.problem or exc}")])
    except yaml.YAMLError as exc:
        return YamlMapping(None, None, [Issue(shown, 0, "-", f"YAML error: {exc}")])
    finally:
        loader.dispose()
    if not isinstance(data, dict):
        kind = "a list" if isinstance(data, list) else type(data).__name__
        return YamlMapping(None, node, [Issue(shown, node_line(node), "-", f"expected {what}, got {kind}")])
    issues = [Issue(shown, line, key, f"key appears twice (first on line {first}); only one is allowed")
              for key, line, first in duplicates]
    return YamlMapping(data, node, issues)


def guide_matter(data: Mapping[str, Any], shown: str, node: yaml.Node | None = None
                 ) -> tuple[Matter | None, list[Issue]]:
    """Check one guide's fields: the ``Matter`` schema and the guide rules (``source: authored``). The one check
    for a guide, whether it comes from a YAML file or from the workbench's guide editor.

    Args:
        data: the guide's fields (a mapping of ``Matter`` field names).
        shown: what to call it in issues (the file, or ``guidebook/<code>``).
        node: the YAML root node, to point issues at lines; ``None``: every issue is on line 0.

    Returns:
        ``(matter, issues)``; ``matter`` is ``None`` when there is an issue.
    """
    def line(loc: tuple[Any, ...], on_key: bool) -> int:
        return locate_line(node, loc, on_key) if node is not None else 0

    issues: list[Issue] = []
    try:
        matter = Matter.model_validate(dict(data))
    except ValidationError as exc:
        for err in exc.errors():
            loc = tuple(err["loc"])
            issues.append(Issue(shown, line(loc, err["type"] == "extra_forbidden"),
                                ".".join(str(p) for p in loc) or "-", _message(err)))
        return None, issues
    if matter.source != "authored":
        issues.append(Issue(shown, line(("source",), False), "source",
                            f"an authored guide must say `source: authored`, got {matter.source!r}"))
    return (None if issues else matter), issues


def _parse(path: Path) -> tuple[Matter | None, list[Issue], Mapping[str, int]]:
    shown = display_path(path)
    doc = read_yaml_mapping(path, "one matter (a mapping of Matter fields); one matter per file")
    if doc.data is None:
        return None, doc.issues, {}
    matter, issues = guide_matter(doc.data, shown, doc.node)
    issues = doc.issues + issues
    return (None if issues else matter), issues, KeyLines(doc.node)


def load_guides(paths: Iterable[Path]) -> list[ParsedGuide]:
    """Parse every guide named by ``paths``.

    Args:
        paths: guide files and/or folders of guides.

    Returns:
        One parsed guide per file, in file-name order; invalid ones have ``matter=None`` and their ``issues``.
    """
    return [parse_guide(f) for f in guide_files(paths)]
