"""Writing imported catalogues into the KB folder, with attribution and the upstream licence."""

from __future__ import annotations

import hashlib
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from knowledge.loaders.guangdong import GuangdongReport, export_file, import_guangdong
from knowledge.loaders.jsonl import write_matters
from knowledge.loaders.sichuan import JINNIU_AREA_CODE, UPSTREAM_AREA_CODE, import_sichuan, read_catalog_rows

SICHUAN_FILE = "sichuan_catalog.jsonl"
SICHUAN_LICENSE = "LICENSE.sichuan-catalog"
ATTRIBUTION_FILE = "ATTRIBUTION.md"
_LICENSE_NAMES = ("LICENSE.upstream", "LICENSE", "LICENSE.txt", "LICENSE.md")


@dataclass
class ImportResult:
    """What an import wrote.

    Attributes:
        count: matters written.
        files: files written.
        notes: remarks (odd rows, missing licence) for the operator.
        report: the Guangdong import report, for a guide export.
    """

    count: int
    files: list[Path] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    report: GuangdongReport | None = None


def read_source_txt(folder: Path) -> dict[str, str]:
    """The ``key: value`` lines of an export's ``SOURCE.txt`` (first line of each key; empty when absent).

    Args:
        folder: the export folder.
    """
    path = Path(folder) / "SOURCE.txt"
    out: dict[str, str] = {}
    if path.is_file():
        for line in path.read_text(encoding="utf-8").splitlines():
            key, sep, value = line.partition(":")
            if sep and key.strip() and not key.startswith(" ") and key.strip() not in out:
                out[key.strip()] = value.strip()
    return out


def _license_file(folder: Path) -> Path | None:
    for name in _LICENSE_NAMES:
        if (folder / name).is_file():
            return folder / name
    return None


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def import_sichuan_catalog(src: Path, out_dir: Path) -> ImportResult:
    """Import the Sichuan catalogue export into the KB folder.

    Writes ``sichuan_catalog.jsonl`` (one matter per line, sorted by code), ``ATTRIBUTION.md`` and the upstream
    licence as ``LICENSE.sichuan-catalog``. The output depends only on the export, so re-running it on the same
    export changes nothing.

    Args:
        src: the export folder (``matters_flat.jsonl`` or ``bszl-data.js``, plus ``SOURCE.txt`` and the licence)
            or the export file itself.
        out_dir: the KB folder (``knowledge/data``).

    Raises:
        knowledge.loaders.sichuan.CatalogError: the export is missing or malformed.
    """
    src, out_dir = Path(src), Path(out_dir)
    folder = src if src.is_dir() else src.parent
    result = import_sichuan(src)
    rows = read_catalog_rows(src)
    out = out_dir / SICHUAN_FILE
    write_matters(out, result.matters)
    files = [out]
    notes = list(result.notes)
    meta = read_source_txt(folder)
    lic = _license_file(folder)
    if lic is not None:
        shutil.copyfile(lic, out_dir / SICHUAN_LICENSE)
        files.append(out_dir / SICHUAN_LICENSE)
    else:
        notes.append(f"no licence file in {folder}; ATTRIBUTION.md says so — add it before publishing")
    input_file = rows[0].where.rsplit(":", 1)[0] if rows else str(src)
    departments = len({r.department for r in rows})
    main_items = len({(r.department, r.main_item) for r in rows})
    licence = meta.get("license", "unknown").split()[0] if meta.get("license") else "unknown"
    text = f"""# Attribution of the knowledge-base data

## `{SICHUAN_FILE}` — Sichuan matter catalogue

- **Source:** {meta.get('repo', 'unknown repository')} (`{Path(input_file).name}`), commit
  `{meta.get('commit', 'unknown').split()[0]}`; input file SHA-256 `{_sha256(Path(input_file))}`.
- **Licence of the repository:** {licence} — a copy of the upstream licence is in
  [`{SICHUAN_LICENSE}`]({SICHUAN_LICENSE}){'' if lic else ' (missing: the export had no licence file)'}.
- **What the content is:** government catalogue data (办事指南目录) published on 四川政务服务网
  (sczwfw.gov.cn) for 广安市广安区 (areaCode {UPSTREAM_AREA_CODE}). The repository's licence cannot grant more
  rights than the source site gives; the names, departments and codes are public government information.
- **What we changed:** {len(result.matters)} matters from {departments} departments and {main_items} main items;
  each detail link re-pointed to 成都市金牛区 (areaCode {JINNIU_AREA_CODE}, also inside `itemCode`);
  `matter_type` mapped from `taskType`; codes derived from `itemCode`; a leading 广安区 dropped from department
  names (广安区税务局 → 区税务局); see docs/knowledge.md.
- **Unverified:** every matter carries `verified: false`. Whether each matter exists in 金牛区 under the same
  code, and whether the re-pointed link resolves, has not been checked against the official portal. Citizens see
  such content marked 仅供参考.

Regenerate with `jinxiaoer kb import sichuan --src DIR` (the output is deterministic).

## `knowledge/guides/*.yml` — authored guides

Written for this project (Apache-2.0, like the rest of the repository) from public government information. Each
guide says `verified: false` until hall staff have checked it against the official portal.
"""
    (out_dir / ATTRIBUTION_FILE).write_text(text, encoding="utf-8", newline="\n")
    files.append(out_dir / ATTRIBUTION_FILE)
    return ImportResult(len(result.matters), files, notes)


def import_guangdong_export(src: Path, out: Path) -> ImportResult:
    """Import a Guangdong-format guide export into one KB ``.jsonl`` file (export order).

    Next to ``out`` it writes ``<stem>.ATTRIBUTION.md`` and copies the export's licence as ``LICENSE.<stem>``
    when the export folder has one.

    Args:
        src: the export folder (``policy.json``) or file.
        out: the ``.jsonl`` file to write.

    Raises:
        FileNotFoundError: the export is missing.
    """
    src, out = Path(src), Path(out)
    path = export_file(src)
    result = import_guangdong(path)
    write_matters(out, result.matters)
    files = [out]
    notes: list[str] = []
    meta = read_source_txt(path.parent)
    lic = _license_file(path.parent)
    if lic is not None:
        shutil.copyfile(lic, out.parent / f"LICENSE.{out.stem}")
        files.append(out.parent / f"LICENSE.{out.stem}")
    else:
        notes.append(f"no licence file next to {path}; add the source's licence before publishing")
    attribution = out.parent / f"{out.stem}.ATTRIBUTION.md"
    attribution.write_text(
        f"# Attribution of `{out.name}`\n\n"
        f"- **Source:** {meta.get('repo', str(path))}, commit `{meta.get('commit', 'unknown').split()[0]}`; "
        f"input SHA-256 `{_sha256(path)}`.\n"
        f"- **Licence of the repository:** {(meta.get('license') or 'unknown').split()[0]}"
        f"{f' (copy: LICENSE.{out.stem})' if lic else ''}.\n"
        f"- **What the content is:** government-published service guides (办事指南); unverified, "
        f"every matter has `verified: false`.\n"
        f"- **Imported:** {result.report.imported} of {result.report.records} records "
        f"(`jinxiaoer kb import guangdong`).\n",
        encoding="utf-8", newline="\n")
    files.append(attribution)
    return ImportResult(len(result.matters), files, notes, result.report)
