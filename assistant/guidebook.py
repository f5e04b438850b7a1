"""The guidebook as served: the KB loaded from files plus the guides edited in the staff workbench.

Edits, verifications, reverts and imports are saved as guide versions (``assistant/db/guides.py``) and bump the
guidebook revision. Every app process checks that revision every ``guide_sync_s`` seconds (and right after a
change it made itself); when it moved, the process rebuilds its KB from the files' KB plus the newest version of
each edited guide and swaps it in (``services.kb``), and gives the NLU new search entries for the matters whose
searched texts changed (``services.nlu``). No restart, on every replica; the next answer uses the new guide.

Every change goes through :func:`knowledge.validate.check_guide`, the checks of ``jinxiaoer kb validate``.
"""

from __future__ import annotations

import asyncio
import csv
import io
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from pydantic import ValidationError

from assistant.db import audit
from assistant.db.guides import Change, Conflict, GuideStore
from assistant.logging import get_logger, log_event
from assistant.staff.identity import StaffUser
from assistant.tables import read_table
from knowledge.errors import Issue
from knowledge.schema import Matter
from knowledge.sheet import COLUMNS, RowError, column_of, matter_row, row_fields
from knowledge.validate import check_guide, normalize_name

log = get_logger(__name__)

#: The fields the guide editor changes (the rest of a matter is kept as it is).
EDITABLE = ("name", "aliases", "colloquial", "examples", "department", "matter_type", "service_object",
            "conditions", "materials", "legal_time_limit", "promised_time_limit", "fee", "places", "online_link",
            "consult_phone", "complaint_phone", "faqs", "related")
#: Fields whose change makes a verified guide unverified again (what was checked is no longer what is served).
CONTENT = tuple(f for f in EDITABLE if f not in ("colloquial", "examples"))

__all__ = ["Conflict", "Guidebook", "Invalid", "NotFound", "get_guidebook"]


class NotFound(LookupError):
    """No matter (or no version of it) with that code / id."""


class Invalid(ValueError):
    """The change does not pass the guide checks; ``issues`` lists every problem (errors and warnings)."""

    def __init__(self, issues: list[Issue]):
        super().__init__("; ".join(f"{i.field}: {i.message}" for i in issues if i.severity == "error"))
        self.issues = issues


def issue_dicts(issues: list[Issue]) -> list[dict[str, str]]:
    """Issues as the API returns them."""
    return [{"field": i.field, "message": i.message, "severity": i.severity} for i in issues]


@dataclass
class Saved:
    """The outcome of a change: the new version (``None`` when nothing changed) and the checks' warnings."""

    code: str
    version: int | None
    warnings: list[Issue] = field(default_factory=list)
    unverified: bool = False


@dataclass
class ImportReport:
    """The outcome of a guide import: one line per row."""

    rows: list[dict[str, Any]] = field(default_factory=list)

    @property
    def imported(self) -> int:
        return sum(1 for r in self.rows if r["status"] == "ok")

    def as_dict(self) -> dict[str, Any]:
        return {"total": len(self.rows), "imported": self.imported,
                "unchanged": sum(1 for r in self.rows if r["status"] == "unchanged"),
                "failed": sum(1 for r in self.rows if r["status"] == "error"), "rows": self.rows}


def _now() -> datetime:
    return datetime.now(timezone.utc)


class Guidebook:
    """Guide changes and their application to this process's KB and NLU.

    Args:
        services: the app's :class:`assistant.container.Services`.
    """

    def __init__(self, services: Any):
        self.services = services
        self.store = GuideStore(services.db)
        self.base: Any = None  # the KB as loaded from the files
        self.revision: int | None = None  # the revision applied
        self.applied: dict[str, int] = {}  # code → version applied
        self.refreshed: list[str] = []  # codes whose NLU entries the last sync rebuilt
        self._nlu: Any = None  # the NLU this guidebook last set
        self._lock = threading.Lock()

    # --- applying ---------------------------------------------------------------------------------------------
    def ready(self) -> bool:
        """Whether the KB is loaded and the database migrated."""
        s = self.services
        return s.kb is not None and s.status.get("db") == "ready"

    def sync(self, force: bool = False) -> bool:
        """Apply the guide versions when the revision moved (or ``force``).

        Returns:
            Whether the KB was rebuilt.
        """
        with self._lock:
            if not self.ready():
                return False
            s = self.services
            if self.base is None:
                self.base = s.kb
            rev = self.store.revision()
            # an NLU that appeared since (built at startup over whichever KB was there) is brought up to date too
            if rev == self.revision and s.nlu is self._nlu and not force:
                return False
            t0 = time.perf_counter()
            current = self.store.current()
            replacements = []
            applied: dict[str, int] = {}
            for code, v in current.items():
                if v.data is None or code not in self.base:
                    continue
                try:
                    replacements.append(Matter.model_validate(v.data))
                    applied[code] = v.id
                except ValidationError as exc:  # saved data always passed the checks; never take the KB down
                    log_event(log, "guidebook.version.unreadable", code=code, version=v.id, error=str(exc)[:200])
            kb = self.base.with_matters(replacements)
            nlu, refreshed = (s.nlu.with_matters(kb.matters) if s.nlu is not None else (None, []))
            s.nlu, s.kb = nlu, kb
            self._nlu = nlu
            self.revision, self.applied, self.refreshed = rev, applied, refreshed
            log_event(log, "guidebook.synced", revision=rev, guides=len(applied), nlu_refreshed=len(refreshed),
                      ms=round(1000 * (time.perf_counter() - t0)))
            return True

    async def run(self) -> None:
        """Check the revision every ``guide_sync_s`` seconds until cancelled."""
        while True:
            try:
                await asyncio.to_thread(self.sync)
            except asyncio.CancelledError:
                raise
            except Exception:  # a database hiccup: try again next time
                log.exception("guidebook.sync_failed")
            await asyncio.sleep(self.services.settings.guide_sync_s)

    # --- reading ----------------------------------------------------------------------------------------------
    def matter(self, code: str) -> Matter:
        """The matter as served now.

        Raises:
            NotFound: no such code.
        """
        kb = self.services.kb
        m = kb.get(code) if kb is not None else None
        if m is None:
            raise NotFound(code)
        return m

    def search(self, q: str, limit: int = 20) -> list[Matter]:
        """Matters for a search box: the code, then names and aliases containing the text, then the NLU's best
        matches; an empty query lists the authored guides."""
        kb = self.services.kb
        if kb is None:
            return []
        q = (q or "").strip()
        if not q:
            return kb.authored[:limit]
        out: list[Matter] = []
        seen: set[str] = set()

        def add(m: Matter | None) -> None:
            if m is not None and m.code not in seen and len(out) < limit:
                seen.add(m.code)
                out.append(m)

        add(kb.get(q))
        key = normalize_name(q)
        for m in kb.matters:
            if key in normalize_name(m.name):
                add(m)
        for m in kb.matters:
            if any(key in normalize_name(a) for a in m.aliases):
                add(m)
        nlu = self.services.nlu
        if nlu is not None and len(out) < limit:
            for hit in nlu.search(q, k=limit):
                add(kb.get(hit.code))
        return out

    def detail(self, code: str) -> dict[str, Any]:
        """A matter with its version history and verification (for the editor)."""
        m = self.matter(code)
        history = self.store.history(code)
        latest = history[0] if history else None
        verification = None
        if m.verified:
            if latest is not None and latest.verified_by:
                verification = {"by": latest.verified_by, "at": latest.verified_at, "source": m.source_ref}
            else:
                verification = {"by": None, "at": None, "source": m.source_ref}
        kb = self.services.kb
        file = kb.guide_files.get(code) if kb is not None else None
        return {"matter": m.model_dump(mode="json"), "version": latest.id if latest else 0,
                "edited": latest is not None and latest.has_data, "verification": verification,
                "guide_file": file.name if file else None, "history": [v.public() for v in history]}

    # --- changing ---------------------------------------------------------------------------------------------
    def _checked(self, data: dict[str, Any]) -> tuple[Matter, list[Issue]]:
        data = dict(data, source="authored")
        matter, issues = check_guide(data, self.services.kb.matters)
        if matter is None:
            raise Invalid(issues)
        return matter, issues

    def _carried(self, code: str, data: dict[str, Any]) -> tuple[str | None, datetime | None]:
        """Who verified the guide and when, when a change keeps it verified."""
        latest = self.store.latest(code)
        if not data.get("verified") or latest is None or not latest.verified_by or not latest.verified_at:
            return None, None
        return latest.verified_by, datetime.fromisoformat(latest.verified_at.replace("Z", "+00:00"))

    def _save(self, user: StaffUser, change: Change, audit_detail: dict[str, Any]) -> int:
        vid = self.store.save([change], user.username)[0]
        audit.record(self.services.db, user.username, f"guide.{change.action}", f"matter:{change.code}",
                     {"version": vid, **audit_detail})
        self.sync()
        return vid

    def edit(self, user: StaffUser, code: str, fields: dict[str, Any], expected: int | None = None) -> Saved:
        """Change a guide's editable fields.

        Args:
            user: the admin.
            code: the matter.
            fields: new values of some of :data:`EDITABLE` (any other field is refused as not editable).
            expected: the version the editor started from (``None``: no check).

        Raises:
            NotFound: no such matter. Invalid: the checks failed (nothing saved). Conflict: changed meanwhile.
        """
        current = self.matter(code)
        data = current.model_dump()
        unknown = [k for k in fields if k not in EDITABLE]
        if unknown:
            raise Invalid([Issue(f"guidebook/{code}", 0, k, "not editable here", "error") for k in unknown])
        data.update(fields)
        changed = [k for k in EDITABLE if data[k] != current.model_dump()[k]]
        if not changed:
            return Saved(code, None)
        unverified = current.verified and any(k in CONTENT for k in changed)
        if unverified:
            data["verified"] = False
        matter, warnings = self._checked(data)
        by, at = self._carried(code, data)
        vid = self._save(user, Change(code, matter.model_dump(mode="json"), "edit", expected=expected,
                                      verified_by=by, verified_at=at),
                         {"fields": changed, "unverified": unverified})
        return Saved(code, vid, warnings, unverified)

    def verify(self, user: StaffUser, code: str, source: str, expected: int | None = None) -> Saved:
        """Mark a guide verified against ``source`` (the official page and date), by ``user``, now."""
        source = (source or "").strip()
        if not source:
            raise Invalid([Issue(f"guidebook/{code}", 0, "source_ref", "核实来源不能为空 / the source is required")])
        data = self.matter(code).model_dump()
        data.update(verified=True, source_ref=source)
        matter, warnings = self._checked(data)
        vid = self._save(user, Change(code, matter.model_dump(mode="json"), "verify", note=source,
                                      verified_by=user.username, verified_at=_now(), expected=expected),
                         {"source": source[:200]})
        return Saved(code, vid, warnings)

    def revert(self, user: StaffUser, code: str, version: int, expected: int | None = None) -> Saved:
        """Serve an earlier version again (a new version copying it); ``version`` 0 is the guide file's own.

        Raises:
            NotFound: no such matter, or ``version`` is not a version of it.
        """
        self.matter(code)
        if version == 0:
            src = None
        else:
            src = self.store.version(version)
            if src is None or src.code != code:
                raise NotFound(f"{code}@{version}")
        warnings: list[Issue] = []
        data = None
        if src is not None and src.data is not None:
            matter, warnings = self._checked(src.data)
            data = matter.model_dump(mode="json")
        verified_at = datetime.fromisoformat(src.verified_at.replace("Z", "+00:00")) \
            if src is not None and src.verified_at else None
        vid = self._save(user, Change(code, data, "revert", note=f"v{version}", reverted_to=version,
                                      verified_by=src.verified_by if src else None, verified_at=verified_at,
                                      expected=expected), {"to": version})
        return Saved(code, vid, warnings)

    # --- tables -----------------------------------------------------------------------------------------------
    def export_rows(self, codes: list[str] | None = None, scope: str = "guides") -> list[list[str]]:
        """The header and one row per matter: ``codes`` (unknown ones skipped), else the authored guides
        (``scope="guides"``) or every matter (``"all"``)."""
        kb = self.services.kb
        if codes:
            matters = [m for m in (kb.get(c) for c in codes) if m is not None]
        else:
            matters = kb.matters if scope == "all" else kb.authored
        return [[h for _, h in COLUMNS], *(matter_row(m) for m in matters)]

    def export_csv(self, rows: list[list[str]]) -> bytes:
        """The rows as CSV (UTF-8 with BOM, which Excel opens as Chinese)."""
        buf = io.StringIO()
        csv.writer(buf, lineterminator="\r\n").writerows(rows)
        return buf.getvalue().encode("utf-8-sig")

    def export_xlsx(self, rows: list[list[str]]) -> bytes:
        """The rows as an xlsx workbook (one sheet, wrapped cells)."""
        import openpyxl
        from openpyxl.styles import Alignment, Font

        wb = openpyxl.Workbook()
        ws = wb.active
        ws.title = "办事指南"
        for r in rows:
            ws.append(r)
        for cell in ws[1]:
            cell.font = Font(bold=True)
        widths = {"事项名称": 30, "申请材料": 60, "办理地点": 50, "办理条件": 40, "核实来源": 40}
        for i, h in enumerate(rows[0], 1):
            ws.column_dimensions[openpyxl.utils.get_column_letter(i)].width = widths.get(h, 16)
        for row in ws.iter_rows(min_row=2):
            for cell in row:
                cell.alignment = Alignment(wrap_text=True, vertical="top")
        ws.freeze_panes = "B2"
        out = io.BytesIO()
        wb.save(out)
        return out.getvalue()

    def import_table(self, user: StaffUser, filename: str, content: bytes) -> ImportReport:
        """Import a matter list (CSV or xlsx, as :meth:`export_rows` writes it): each row is checked like an
        edit; good rows are saved together (one revision), bad rows are reported with their row number.

        Raises:
            assistant.tables.UploadError: the file as a whole cannot be read or has no ``事项编码`` column.
        """
        from assistant.tables import UploadError

        header, rows = read_table(filename, content)
        cols = {i: column_of(h) for i, h in enumerate(header)}
        cols = {i: f for i, f in cols.items() if f is not None}
        if "code" not in cols.values():
            raise UploadError("缺少「事项编码」列。/ the table needs a 事项编码 (code) column")
        report = ImportReport()
        changes: list[Change] = []
        seen: dict[str, int] = {}
        kb = self.services.kb
        for rownum, cells in rows:
            values = {f: (cells[i] if i < len(cells) else "") for i, f in cols.items()}
            code = str(values.get("code") or "").strip()
            line: dict[str, Any] = {"row": rownum, "code": code}
            try:
                if not code:
                    raise RowError("事项编码为空 / the code is empty")
                if code in seen:
                    raise RowError(f"事项编码与第{seen[code]}行重复 / the code repeats row {seen[code]}")
                seen[code] = rownum
                current = kb.get(code)
                if current is None:
                    raise RowError(f"没有编码为 {code} 的事项（新事项请以指南文件加入）/ no matter with this code")
                data = row_fields(values, current)
                data["source"] = "authored"
                if data == dict(current.model_dump(), source="authored") and current.source == "authored":
                    report.rows.append({**line, "status": "unchanged", "message": "未改变 / unchanged"})
                    continue
                verified_now = data["verified"] and not current.verified
                if current.verified and data["verified"] and any(data[k] != current.model_dump()[k]
                                                                 for k in CONTENT):
                    data["verified"] = False
                matter, issues = check_guide(data, kb.matters)
                if matter is None:
                    raise RowError("；".join(f"{i.field}: {i.message}" for i in issues if i.severity == "error"))
                warnings = [f"{i.field}: {i.message}" for i in issues]
                by, at = (user.username, _now()) if verified_now else self._carried(code, data)
                changes.append(Change(code, matter.model_dump(mode="json"), "import", note=f"{filename}#{rownum}",
                                      verified_by=by, verified_at=at))
                report.rows.append({**line, "status": "ok", "message": "；".join(warnings) or "ok"})
            except RowError as exc:
                report.rows.append({**line, "status": "error", "message": str(exc)})
        if changes:
            ids = self.store.save(changes, user.username)
            audit.record(self.services.db, user.username, "guide.import", f"file:{filename[:100]}",
                         {"versions": ids, "codes": [c.code for c in changes][:200],
                          "failed_rows": [r["row"] for r in report.rows if r["status"] == "error"][:200]})
            self.sync()
        return report


def get_guidebook(services: Any) -> Guidebook:
    """The process's :class:`Guidebook` (made on first use, kept on ``services.guidebook``)."""
    gb = getattr(services, "guidebook", None)
    if gb is None:
        gb = services.guidebook = Guidebook(services)
    return gb
