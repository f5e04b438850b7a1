"""``jinxiaoer kb …``: import catalogue exports into the KB, validate the KB and guides, show a matter, statistics."""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from pathlib import Path

import yaml

from assistant.settings import Settings
from knowledge.errors import KBError, display_path
from knowledge.importing import import_guangdong_export, import_sichuan_catalog
from knowledge.kb import KnowledgeBase
from knowledge.loaders.sichuan import CatalogError
from knowledge.validate import validate


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``kb`` and its sub-commands to the ``jinxiaoer`` parser.

    Args:
        subparsers: the dispatcher's sub-parser collection.
    """
    kb = subparsers.add_parser("kb", help="knowledge base: import, validate, stats",
                               description="Manage the guidebook (knowledge base).")
    sub = kb.add_subparsers(dest="kb_command", metavar="ACTION")
    kb.set_defaults(func=lambda args, settings: (kb.print_help(), 2)[1])

    imp = sub.add_parser("import", help="turn a catalogue or guide export into KB files")
    imp_sub = imp.add_subparsers(dest="kind", metavar="KIND")
    imp.set_defaults(func=lambda args, settings: (imp.print_help(), 2)[1])
    sc = imp_sub.add_parser("sichuan", help="Sichuan matter catalogue → knowledge/data/sichuan_catalog.jsonl")
    sc.add_argument("--src", required=True, type=Path,
                    help="export folder (matters_flat.jsonl or bszl-data.js, SOURCE.txt, licence)")
    sc.add_argument("--out-dir", type=Path, default=None, help="KB folder (default: the kb_dir setting)")
    sc.set_defaults(func=_import_sichuan)
    gd = imp_sub.add_parser("guangdong", help="Guangdong-format guide export (policy.json) → one .jsonl file")
    gd.add_argument("--src", required=True, type=Path, help="export folder holding policy.json, or the file")
    gd.add_argument("--out", required=True, type=Path, help="the .jsonl file to write")
    gd.set_defaults(func=_import_guangdong)

    val = sub.add_parser("validate", help="check KB files and guides; errors as file:line: field: message")
    val.add_argument("paths", nargs="*", type=Path,
                     help="files or folders to check (default: the committed KB and the guides folder)")
    val.add_argument("--strict-warnings", action="store_true", help="exit 1 on warnings too")
    val.set_defaults(func=_validate)

    sh = sub.add_parser("show", help="print a matter as citizens get it (after merging guide and catalogue)")
    sh.add_argument("matter", help="a code (511A0074300005, JN-GJJ-001) or an exact name or alias")
    sh.add_argument("--json", action="store_true", help="print JSON instead of YAML")
    sh.add_argument("--guangdong", action="store_true", help="include the Guangdong guide export")
    sh.set_defaults(func=_show)

    st = sub.add_parser("stats", help="counts per source, type, department; load time; fingerprint")
    st.add_argument("--guangdong", action="store_true", help="include the Guangdong guide export")
    st.add_argument("--guangdong-path", type=Path, default=None, help="the Guangdong export (default ../shared)")
    st.add_argument("--json", action="store_true", help="print the numbers as JSON")
    st.set_defaults(func=_stats)

    ex = sub.add_parser("export-learned", help="write the examples helpers taught (triage inbox) as YAML")
    ex.add_argument("--out", type=Path, default=None, help="YAML file (default: stdout)")
    ex.add_argument("--all", action="store_true", help="also the batches held back by the regression check")
    ex.set_defaults(func=_export_learned)


def _import_sichuan(args: argparse.Namespace, settings: Settings) -> int:
    out_dir = args.out_dir or settings.kb_dir
    try:
        result = import_sichuan_catalog(args.src, out_dir)
    except (CatalogError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"imported {result.count} matters")
    for f in result.files:
        print(f"wrote {f}")
    for note in result.notes:
        print(f"note: {note}", file=sys.stderr)
    return 0


def _import_guangdong(args: argparse.Namespace, settings: Settings) -> int:
    try:
        result = import_guangdong_export(args.src, args.out)
    except FileNotFoundError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    assert result.report is not None
    for line in result.report.lines():
        print(line)
    for f in result.files:
        print(f"wrote {f}")
    for note in result.notes:
        print(f"note: {note}", file=sys.stderr)
    return 1 if result.report.errors else 0


def _validate(args: argparse.Namespace, settings: Settings) -> int:
    t0 = time.perf_counter()
    issues = validate(args.paths, settings.kb_dir, settings.guides_dir)
    for issue in issues:
        print(issue)
    errors = sum(1 for i in issues if i.severity == "error")
    warnings = len(issues) - errors
    print(f"{errors} error(s), {warnings} warning(s) in {time.perf_counter() - t0:.2f} s", file=sys.stderr)
    return 1 if errors or (warnings and args.strict_warnings) else 0


def _load(settings: Settings, guangdong: bool, guangdong_path: Path | None = None) -> KnowledgeBase | None:
    try:
        return KnowledgeBase.load(settings.kb_dir, settings.guides_dir,
                                  include_guangdong=guangdong or settings.kb_include_guangdong,
                                  guangdong_path=guangdong_path)
    except (KBError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return None


def _show(args: argparse.Namespace, settings: Settings) -> int:
    kb = _load(settings, args.guangdong)
    if kb is None:
        return 1
    matter = kb.get(args.matter.strip()) or kb.by_name(args.matter)
    if matter is None:
        print(f"error: no matter with code or name {args.matter!r}", file=sys.stderr)
        return 1
    data = matter.model_dump(mode="json")
    if args.json:
        print(json.dumps(data, ensure_ascii=False, indent=2))
    else:
        guide = kb.guide_files.get(matter.code)
        print(f"# {matter.code} {matter.name} — level {matter.level}; "
              f"{'guide ' + display_path(guide) if guide else 'catalogue entry (no authored guide)'}")
        print(yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=120), end="")
    return 0


def _stats(args: argparse.Namespace, settings: Settings) -> int:
    t0 = time.perf_counter()
    kb = _load(settings, args.guangdong, args.guangdong_path)
    if kb is None:
        return 1
    load_ms = 1000 * (time.perf_counter() - t0)
    matters = kb.matters
    stats = {
        "matters": len(kb),
        "load_ms": round(load_ms, 1),
        "fingerprint": kb.fingerprint(),
        "by_source": dict(Counter(m.source for m in matters).most_common()),
        "authored_overrides": sum(1 for m in kb.authored if not m.code.startswith("JN-")),
        "authored_new": sum(1 for m in kb.authored if m.code.startswith("JN-")),
        "verified": sum(1 for m in matters if m.verified),
        "with_materials": sum(1 for m in matters if m.materials),
        "with_places": sum(1 for m in matters if m.places),
        "by_matter_type": dict(Counter(m.matter_type or "(none)" for m in matters).most_common()),
        "top_departments": dict(Counter(m.department or "(none)" for m in matters).most_common(10)),
        "warnings": sum(1 for i in kb.issues if i.severity == "warning"),
    }
    if args.json:
        print(json.dumps(stats, ensure_ascii=False, indent=2))
        return 0
    for key, value in stats.items():
        if isinstance(value, dict):
            print(f"{key}:")
            for k, v in value.items():
                print(f"  {k}: {v}")
        else:
            print(f"{key}: {value}")
    return 0


def _export_learned(args: argparse.Namespace, settings: Settings) -> int:
    """``jinxiaoer kb export-learned``: the learned examples as YAML (``matters: {code: [text]}``,
    ``intents: {name: [text]}``, ``out_of_scope: [text]``; ``held:`` too with ``--all``)."""
    from assistant.db.session import Database
    from assistant.teach.export import learned_yaml

    db = Database(settings.database_url)
    try:
        db.upgrade()
        text = learned_yaml(db, include_held=args.all)
    finally:
        db.dispose()
    if args.out is None:
        sys.stdout.write(text)
    else:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text, encoding="utf-8")
        print(f"export-learned: wrote {args.out}", file=sys.stderr)
    return 0
