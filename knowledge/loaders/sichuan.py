"""Loader for the Sichuan matter catalogue (四川政务服务网 办事指南目录).

The upstream export (github.com/v-luobo/zwfw, ``bszl-data.js``) lists the catalogue of 广安市广安区 as
department → main item (主项) → matter (name + sczwfw detail link). ``matters_flat.jsonl`` is the same data
flattened to one row per matter. Either file is accepted; both give identical matters.

What this loader does to each row (see docs/knowledge.md):

* ``code`` is the province-wide catalogue code, derived from the link's ``itemCode``: the part before the first
  ``-<12-digit area code>-`` segment (``511A0074300005-511602000000-…`` → ``511A0074300005``). Two rows have an
  ``itemCode`` without an area segment (``E-000004-001-11511301008778386B``); the flat file's naive split gives
  both the code ``E``. Their codes here are the ``<letter>-<6 digits>-<3 digits>`` catalogue prefix
  (``E-000004-001``, ``E-000021-001``), which is distinct, stable and the same form as the ``G-…``/``H-…`` codes
  that do carry an area segment.
* The link is re-pointed from 广安区 (``511602000000``) to 金牛区 (``510106000000``): the ``areaCode`` query
  parameter is set and the area segment inside ``itemCode`` replaced. Province-level item codes
  (``…-510000000000-…``) keep their area segment. The department credit code inside ``itemCode`` still belongs to
  广安区, so the link is a best guess and the matter stays ``verified: false``.
* ``matter_type`` comes from ``taskType`` through :data:`TASK_TYPES` (the national 事项类型 codes).
* Department and main item are kept as listed (``区市监局``, ``未分类``), except that a leading ``广安区`` is
  dropped (``广安区税务局`` → ``区税务局``, like the other 33 departments), so no 广安区 name reaches a 金牛区
  citizen.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from knowledge.schema import Matter

#: 金牛区, 成都市.
JINNIU_AREA_CODE = "510106000000"
#: 广安区, 广安市 — the area of the upstream export.
UPSTREAM_AREA_CODE = "511602000000"
UPSTREAM_AREA_NAME = "广安区"

#: ``taskType`` → 事项类型. The codes are the national 政务服务事项 type codes; the Guangdong export labels the
#: same codes 01/05/07/08/09 identically, and the Sichuan names agree (taskType 20 rows are 查询/咨询, 10 rows are
#: 备案, 5 rows are 补贴/资助发放, 9 rows are 裁决). Every taskType in the current export is mapped; an unknown one
#: leaves ``matter_type`` empty and is counted in the import report.
TASK_TYPES: dict[str, str] = {
    "1": "行政许可",
    "2": "行政处罚",
    "3": "行政强制",
    "4": "行政征收",
    "5": "行政给付",
    "6": "行政检查",
    "7": "行政确认",
    "8": "行政奖励",
    "9": "行政裁决",
    "10": "其他行政权力",
    "20": "公共服务",
}

_AREA_SEGMENT = re.compile(r"-(\d{12})-")
_LETTER_CODE = re.compile(r"^([A-Z]-\d{6}-\d{3})(?:-|$)")


class CatalogError(ValueError):
    """The catalogue export is missing or malformed (message says which file and row)."""


@dataclass(frozen=True)
class CatalogRow:
    """One matter row of the upstream catalogue.

    Attributes:
        department: 部门 as listed (``区市监局``).
        main_item: 主项 (``未分类`` where the catalogue has none).
        name: 事项名称.
        link: the sczwfw detail link as exported (广安区).
        where: ``file:line`` of the row, for error messages.
    """

    department: str
    main_item: str
    name: str
    link: str
    where: str


def catalog_code(item_code: str) -> str:
    """The catalogue code of a sczwfw ``itemCode``.

    Args:
        item_code: the ``itemCode`` query parameter of a sczwfw detail link.

    Returns:
        The part before the first 12-digit area segment, else the ``X-NNNNNN-NNN`` prefix, else the whole code.
    """
    m = _AREA_SEGMENT.search(item_code)
    if m:
        return item_code[: m.start()]
    m = _LETTER_CODE.match(item_code)
    if m:
        return m.group(1)
    return item_code


def repoint_link(link: str, area_code: str = JINNIU_AREA_CODE,
                 from_area: str = UPSTREAM_AREA_CODE) -> str:
    """Point a sczwfw detail link at another area.

    Args:
        link: the exported detail link.
        area_code: the 12-digit area code to point at (default 金牛区).
        from_area: the area code of the export, replaced inside ``itemCode``.

    Returns:
        The link with ``areaCode`` set and ``from_area`` replaced in ``itemCode``; other parameters unchanged
        and in their original order.
    """
    parts = urlsplit(link)
    query = parse_qsl(parts.query, keep_blank_values=True)
    out = []
    seen_area = False
    for key, value in query:
        if key == "areaCode":
            value, seen_area = area_code, True
        elif key == "itemCode":
            value = value.replace(f"-{from_area}-", f"-{area_code}-")
        out.append((key, value))
    if not seen_area:
        out.insert(0, ("areaCode", area_code))
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(out, safe="-"), parts.fragment))


def _rows_from_flat(path: Path) -> Iterator[CatalogRow]:
    with path.open(encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                continue
            where = f"{path}:{lineno}"
            try:
                rec = json.loads(line)
                yield CatalogRow(rec["department"], rec["main_item"], rec["name"], rec["link"], where)
            except (json.JSONDecodeError, KeyError, TypeError) as exc:
                raise CatalogError(f"{where}: not a catalogue row ({exc})") from exc


def _rows_from_js(path: Path) -> Iterator[CatalogRow]:
    text = path.read_text(encoding="utf-8")
    start, end = text.find("["), text.rfind("]")
    if start < 0 or end < start:
        raise CatalogError(f"{path}: no JSON array found (expected 'const bszlData = [...]')")
    try:
        data = json.loads(text[start:end + 1])
    except json.JSONDecodeError as exc:
        raise CatalogError(f"{path}: the array is not valid JSON ({exc})") from exc
    for dept in data:
        for item in dept.get("items", []):
            for sub in item.get("sub_items", []):
                try:
                    yield CatalogRow(dept["department"], item["main_item"], sub["name"], sub["link"],
                                     f"{path}:{sub['name']}")
                except KeyError as exc:
                    raise CatalogError(f"{path}: matter without {exc} under {dept.get('department')!r}") from exc


def read_catalog_rows(src: Path) -> list[CatalogRow]:
    """Read the catalogue rows from an export directory or file.

    Args:
        src: a directory holding ``matters_flat.jsonl`` or ``bszl-data.js`` (the flat file wins), or one of
            those files.

    Returns:
        The rows in export order.

    Raises:
        CatalogError: no export found or a row is malformed.
    """
    src = Path(src)
    if src.is_dir():
        for name in ("matters_flat.jsonl", "bszl-data.js"):
            if (src / name).is_file():
                src = src / name
                break
        else:
            raise CatalogError(f"{src}: neither matters_flat.jsonl nor bszl-data.js found")
    if not src.is_file():
        raise CatalogError(f"{src}: no such file or folder")
    rows = _rows_from_js(src) if src.suffix == ".js" else _rows_from_flat(src)
    return list(rows)


@dataclass
class SichuanImport:
    """The result of a catalogue import.

    Attributes:
        matters: the matters, sorted by code.
        notes: human-readable remarks (unknown task types, renamed codes), one per line.
    """

    matters: list[Matter]
    notes: list[str]


def neutral_department(name: str) -> str:
    """``name`` without a leading upstream area name (``广安区税务局`` → ``区税务局``).

    Args:
        name: the department as listed in the export.
    """
    name = name.strip()
    if name.startswith(UPSTREAM_AREA_NAME):
        return "区" + name[len(UPSTREAM_AREA_NAME):]
    return name


def matter_from_row(row: CatalogRow) -> Matter:
    """Turn one catalogue row into an unverified ``Matter`` pointing at 金牛区.

    Args:
        row: the upstream row.

    Raises:
        CatalogError: the link has no ``itemCode``.
    """
    query = dict(parse_qsl(urlsplit(row.link).query))
    item_code = query.get("itemCode", "")
    if not item_code:
        raise CatalogError(f"{row.where}: link without itemCode: {row.link}")
    return Matter(
        code=catalog_code(item_code),
        name=row.name.strip(),
        department=neutral_department(row.department),
        main_item=row.main_item.strip(),
        matter_type=TASK_TYPES.get(query.get("taskType", ""), ""),
        online_link=repoint_link(row.link),
        source="sichuan-catalog",
        source_ref=f"sczwfw:{item_code}",
        verified=False,
    )


def import_sichuan(src: Path) -> SichuanImport:
    """Import the whole catalogue.

    Args:
        src: the export directory or file (see :func:`read_catalog_rows`).

    Returns:
        All matters sorted by code, and notes on anything unusual.

    Raises:
        CatalogError: malformed export, or two rows that still share a code after derivation.
    """
    rows = read_catalog_rows(src)
    notes: list[str] = []
    matters: list[Matter] = []
    by_code: dict[str, CatalogRow] = {}
    for row in rows:
        matter = matter_from_row(row)
        if matter.code in by_code:
            raise CatalogError(f"{row.where}: code {matter.code} already used by {by_code[matter.code].where}")
        by_code[matter.code] = row
        if not matter.matter_type:
            notes.append(f"{row.where}: unknown taskType in {row.link}; matter_type left empty")
        if _AREA_SEGMENT.search(matter.source_ref) is None:
            notes.append(f"{row.where}: itemCode without area segment; code {matter.code}")
        matters.append(matter)
    matters.sort(key=lambda m: m.code)
    return SichuanImport(matters, notes)

