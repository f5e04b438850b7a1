"""Loader for the Guangdong guide export (广东政务服务网 办事指南, ``policy.json``: one JSON object per line).

Mapping of a record to ``Matter`` (see docs/knowledge.md for the full table):

* ``code`` = ``GD-<TASK_CODE>``; ``name`` = ``TASK_NAME`` (whitespace trimmed); ``matter_name`` /
  ``subTaskName`` / ``matter_short`` become aliases where they differ.
* ``department`` = ``DEPT_NAME``, ``main_item`` = ``parentCatalogName``, ``matter_type`` = ``TASK_TYPE_TEXT``,
  ``service_object`` = ``service_object_name``, ``conditions`` = [``accept_standard``].
* ``materials`` = one ``Material`` per ``material_intro`` entry. The export says nothing about original/copy or
  the number of copies, so ``form`` is ``其他`` (not stated) and ``copies`` 1.
* ``legal_time_limit`` / ``promised_time_limit`` from ``handle_time`` / ``handle_time_limit``
  (``20(工作日)`` → ``20个工作日``).
* ``places``: ``handle_location`` without its ``办理地点：`` prefix as the address of a place named after the
  department (level ``其他``: it is not a 金牛区 hall); ``无线下办理窗口`` becomes an online-only place.
* ``online_link`` = ``URL``; ``consult_phone`` / ``complaint_phone`` from the phones.

The value ``无`` (none) is treated as empty everywhere. Everything unusual is counted in :class:`GuangdongReport`.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from knowledge.schema import Material, Matter, Place

_NONE = {"", "无", "null", "None"}
_LIMIT = re.compile(r"^\s*(\d+)\s*[(（]\s*(工作日|自然日)\s*[)）]\s*$")
_LOCATION_PREFIX = "办理地点："
_NO_OFFLINE = "无线下办理窗口"


@dataclass
class GuangdongReport:
    """What the import found.

    Attributes:
        records: records read.
        imported: records that became a ``Matter``.
        odd: count per kind of oddity (``materials.none``: ``material_intro`` is ``无``, …).
        examples: up to three example record references per kind of oddity.
        errors: records that could not be imported, as ``line N: message``.
    """

    records: int = 0
    imported: int = 0
    odd: Counter = field(default_factory=Counter)
    examples: dict[str, list[str]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)

    def note(self, kind: str, ref: str) -> None:
        """Count one oddity of ``kind`` seen in record ``ref``."""
        self.odd[kind] += 1
        ex = self.examples.setdefault(kind, [])
        if len(ex) < 3:
            ex.append(ref)

    def lines(self) -> list[str]:
        """The report as text lines (for the CLI and docs)."""
        out = [f"records: {self.records}", f"imported: {self.imported}", f"errors: {len(self.errors)}"]
        out += [f"  {e}" for e in self.errors[:20]]
        for kind, n in sorted(self.odd.items()):
            out.append(f"{kind}: {n}  (e.g. {', '.join(self.examples.get(kind, []))})")
        return out


@dataclass
class GuangdongImport:
    """Matters (in export order) and the import report."""

    matters: list[Matter]
    report: GuangdongReport


def _text(value: Any) -> str:
    if value is None:
        return ""
    text = str(value).strip()
    return "" if text in _NONE else text


def _limit(value: Any, kind: str, ref: str, report: GuangdongReport) -> str:
    text = _text(value)
    if not text:
        report.note(f"{kind}.none", ref)
        return ""
    m = _LIMIT.match(text)
    if not m:
        report.note(f"{kind}.unparsed", ref)
        return text
    if m.group(2) == "自然日":
        report.note(f"{kind}.calendar_days", ref)
    return f"{m.group(1)}个{m.group(2)}"


def matter_from_record(rec: dict[str, Any], report: GuangdongReport, ref: str) -> Matter:
    """Turn one export record into a ``Matter``.

    Args:
        rec: the decoded JSON object.
        report: collects oddities.
        ref: how to refer to the record in the report (``line 12``).

    Raises:
        KeyError: ``TASK_CODE`` or a name is missing.
        pydantic.ValidationError: the mapped values do not fit the schema.
    """
    task_code = _text(rec.get("TASK_CODE"))
    if not task_code:
        raise KeyError("TASK_CODE")
    raw_name = rec.get("TASK_NAME") or rec.get("matter_name") or ""
    name = str(raw_name).strip().replace("\u3000", "").strip()
    if name != raw_name:
        report.note("name.whitespace_trimmed", ref)
    if not name:
        raise KeyError("TASK_NAME")

    aliases: list[str] = []
    for key in ("matter_name", "subTaskName", "matter_short"):
        alt = _text(rec.get(key)).replace("\u3000", "").strip()
        if alt and alt != name and alt not in aliases:
            aliases.append(alt)
    if _text(rec.get("matter_name")) and _text(rec.get("matter_name")) != name:
        report.note("name.matter_name_differs", ref)

    raw_materials = rec.get("material_intro")
    materials: list[Material] = []
    if isinstance(raw_materials, list):
        seen: set[str] = set()
        for item in raw_materials:
            text = _text(item)
            if not text:
                report.note("materials.empty_item", ref)
            elif text in seen:
                report.note("materials.duplicate_item", ref)
            else:
                seen.add(text)
                materials.append(Material(name=text, form="其他"))
        if not materials:
            report.note("materials.empty_list", ref)
    elif _text(raw_materials):
        report.note("materials.single_string", ref)
        materials.append(Material(name=_text(raw_materials), form="其他"))
    else:
        report.note("materials.none", ref)

    places: list[Place] = []
    location = _text(rec.get("handle_location"))
    if location.startswith(_LOCATION_PREFIX):
        location = _text(location[len(_LOCATION_PREFIX):])
    if location == _NO_OFFLINE:
        report.note("place.online_only", ref)
        places.append(Place(name=_NO_OFFLINE, level="线上"))
    elif location:
        places.append(Place(name=_text(rec.get("DEPT_NAME")) or "办理窗口", level="其他", address=location))
    else:
        report.note("place.none", ref)

    conditions = [c for c in [_text(rec.get("accept_standard"))] if c]
    if not conditions:
        report.note("conditions.none", ref)
    link = _text(rec.get("URL"))
    if not link:
        report.note("online_link.none", ref)
    phone = _text(rec.get("consult_phone"))
    if not phone:
        report.note("consult_phone.none", ref)
    objects = rec.get("service_object_name") or []
    if not isinstance(objects, list):
        report.note("service_object.not_a_list", ref)
        objects = [objects]

    return Matter(
        code=f"GD-{task_code}",
        name=name,
        aliases=aliases,
        department=_text(rec.get("DEPT_NAME")),
        main_item=_text(rec.get("parentCatalogName")),
        matter_type=_text(rec.get("TASK_TYPE_TEXT")) or _text(rec.get("matter_type")),
        service_object=[_text(o) for o in objects if _text(o)],
        conditions=conditions,
        materials=materials,
        legal_time_limit=_limit(rec.get("handle_time"), "legal_time_limit", ref, report),
        promised_time_limit=_limit(rec.get("handle_time_limit"), "promised_time_limit", ref, report),
        places=places,
        online_link=link,
        consult_phone=phone,
        complaint_phone=_text(rec.get("complain_phone")),
        source="guangdong-guides",
        source_ref=f"gdzwfw:{task_code}",
        verified=False,
    )


def export_file(src: Path) -> Path:
    """The export file for ``src`` (a directory holding ``policy.json``, or the file itself).

    Raises:
        FileNotFoundError: nothing to read there.
    """
    src = Path(src)
    if src.is_dir():
        src = src / "policy.json"
    if not src.is_file():
        raise FileNotFoundError(f"{src}: no such file (expected a Guangdong guide export, policy.json)")
    return src


def is_raw_export(path: Path) -> bool:
    """Whether ``path`` is a raw guide export (first record has ``TASK_CODE``) rather than a KB ``.jsonl``."""
    with Path(path).open(encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                try:
                    return "TASK_CODE" in json.loads(line)
                except (json.JSONDecodeError, TypeError):
                    return False
    return False


def import_guangdong(src: Path) -> GuangdongImport:
    """Import a whole guide export.

    Args:
        src: directory holding ``policy.json`` or the export file (JSON lines, one record per line).

    Returns:
        The matters in export order (a record whose code repeats an earlier one is skipped and reported) and
        the report.

    Raises:
        FileNotFoundError: the export is missing.
    """
    path = export_file(src)
    report = GuangdongReport()
    matters: list[Matter] = []
    codes: set[str] = set()
    names: Counter = Counter()
    with path.open(encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                continue
            report.records += 1
            ref = f"line {lineno}"
            try:
                rec = json.loads(line)
                if not isinstance(rec, dict):
                    raise TypeError(f"expected a JSON object, got {type(rec).__name__}")
                if f"GD-{_text(rec.get('TASK_CODE'))}" in codes:
                    report.note("code.duplicate_skipped", ref)
                    continue
                matter = matter_from_record(rec, report, ref)
            except json.JSONDecodeError as exc:
                report.errors.append(f"{ref}: not valid JSON ({exc.msg})")
                continue
            except (KeyError, TypeError) as exc:
                report.errors.append(f"{ref}: missing or wrong field {exc}")
                continue
            except ValidationError as exc:
                first = exc.errors()[0]
                report.errors.append(f"{ref}: {'.'.join(map(str, first['loc']))}: {first['msg']}")
                continue
            codes.add(matter.code)
            names[matter.name] += 1
            matters.append(matter)
    report.imported = len(matters)
    for name, n in names.items():
        if n > 1:
            report.odd["name.shared_by_several_records"] += n
            ex = report.examples.setdefault("name.shared_by_several_records", [])
            if len(ex) < 3:
                ex.append(name)
    return GuangdongImport(matters, report)
