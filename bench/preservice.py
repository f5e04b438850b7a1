"""Benchmark: the pre-service parts (no Rasa).

``run(settings)`` measures, on a temporary SQLite database with the committed KB:

* street matching: accuracy and time per address on addresses written for this benchmark;
* the pre-check: documents recognised in colloquial messages;
* uploads: a 1,000-row licence CSV (about 7 % bad rows) and a 1,000-row new-firm CSV — time and counts;
* the reminder scheduler: one run over 5,000 licences (catch-up: every one has a reminder due), then a
  second run that must send nothing;
* the NLU's intent decision for the nine pre-service intents on 36 phrasings written for this benchmark (not in
  the training examples, never from the evaluation set).

Run alone: ``.venv/bin/python -m bench.preservice``.
"""

from __future__ import annotations

import asyncio
import csv
import io
import tempfile
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

from assistant.settings import Settings

ADDRESSES = [
    ("金牛区营康东路3号", "营门口街道"), ("抚琴东南路22号附5号", "抚琴街道"), ("西安北路8号院", "西安路街道"),
    ("九里堤北路66号", "九里堤街道"), ("一品天下大街100号2栋", "茶店子街道"), ("金周路595号", "金泉街道"),
    ("站北东街4号", "荷花池街道"), ("驷马桥路1号", "驷马桥街道"), ("星辉西路2号", "人民北路街道"),
    ("银沙路1号附2号", "五块石街道"), ("天龙大道1号", "天回镇街道"), ("凤凰北大街9号", "凤凰山街道"),
    ("北星大道一段", "沙河源街道"), ("西华大道16号5栋", "西华街道"), ("金鱼街10号", "营门口街道"),
    ("白马寺街2号", "西安路街道"), ("交大路111号", "九里堤街道"), ("土龙路55号", "金泉街道"),
    ("蜀汉路1号", None), ("羊西线100号", None), ("锦江区春熙路1号", None), ("某某巷8号", None),
]
PRECHECK = [
    ("我带了身份证和租房合同", {"经营者居民身份证", "经营场所使用证明"}),
    ("房本、身份证都在", {"经营者居民身份证", "经营场所使用证明"}),
    ("申请表填好了，还有门面合同和房东的房产证复印件", {"个体工商户登记（备案）申请书", "经营场所使用证明"}),
    ("只有身份证", {"经营者居民身份证"}),
    ("户口本结婚证带了，家里一起经营", {"家庭经营的家庭成员关系证明"}),
]
INTENTS = {
    "register_licence": ["卫生许可证明年到期，帮我记着", "能不能到期前通知我换证", "把我们的娱乐经营许可证登记上提醒"],
    "list_licences": ["我登记过哪几张证", "证照提醒清单给我看看", "帮我看看提醒的证照还有哪些"],
    "cancel_licence": ["那张证已经延续完了，不用提醒", "把烟草证的到期提醒关掉", "许可证不用你们提醒了"],
    "book_home_visit": ["我奶奶九十了出不了门，能约上门认证吗", "残疾人行动不方便，想请你们上门", "约一个上门办理"],
    "booking_status": ["我约的上门确认没有", "上门服务现在是啥状态", "看一下我那个上门预约"],
    "change_booking": ["上门的日子能不能往后挪一天", "预约换到下周五上午", "我想调一下上门时间"],
    "cancel_booking": ["上门就不用了，帮我取消", "那个上门预约撤了吧", "老人住院了，预约取消"],
    "ask_policy": ["开奶茶店的小微企业有啥补贴", "我们做软件的有没有扶持", "刚注册的个体户有什么优惠"],
    "precheck_materials": ["我有身份证和门面合同，办执照还差啥", "带了户口本和照片，够不够", "材料帮我过一遍，我有身份证"],
}


def _licence_csv(n: int) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["证照类型", "证照编号", "持证人", "有效期至"])
    for i in range(n):
        exp = (date(2027, 1, 1) + timedelta(days=i % 700)).isoformat()
        if i % 15 == 3:
            exp = "2027年2月30日"
        w.writerow(["食品经营许可证", f"JY1510106{i:07d}", f"商户{i}", exp])
    return buf.getvalue().encode("utf-8")


def _firm_csv(n: int, streets: list[str]) -> bytes:
    from assistant.preservice.uploads import credit_code_check_char

    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["企业名称", "统一社会信用代码", "住所", "行业", "成立日期"])
    for i in range(n):
        first = f"91510106MA{i:07d}"
        w.writerow([f"基准公司{i}", first + credit_code_check_char(first), f"{streets[i % len(streets)]}{i % 300}号",
                    "餐饮", "2026-11-01"])
    return buf.getvalue().encode("utf-8")


def run(settings: Settings | None = None) -> str:
    """Run the pre-service benchmark; returns markdown."""
    from assistant.container import build_services, load_kb
    from assistant.preservice.precheck import precheck
    from assistant.preservice.runtime import set_clock
    from assistant.preservice.uploads import import_firms, import_licences

    base = settings or Settings(environment="test")
    lines = ["## Pre-service (预服务)", ""]
    with tempfile.TemporaryDirectory() as tmp:
        s = Settings(environment="test", data_dir=Path(tmp), database_url=f"sqlite:///{tmp}/ps.db",
                     rasa_manage=False, cache_dir=base.cache_dir)
        kb = load_kb(s)
        services = build_services(s, kb=kb, rasa=None)
        services.db.upgrade()
        now = datetime(2026, 12, 1, 2, tzinfo=timezone.utc)
        pre = set_clock(services, lambda: now)

        t0 = time.perf_counter()
        ok = sum((pre.streets.match(a).street.name if pre.streets.match(a).street else None) == want
                 for a, want in ADDRESSES)
        us = (time.perf_counter() - t0) / len(ADDRESSES) / 2 * 1e6
        lines.append(f"- Street matching: {ok}/{len(ADDRESSES)} addresses right (ambiguous/outside/unknown ones must "
                     f"give no street); {us:.0f} µs per address.")

        getihu = kb.get("511A0074300005")
        hits = 0
        for text, want in PRECHECK:
            got = {i.name for i in precheck(getihu, text) if i.status in {"have", "partial"}}
            hits += got == want
        lines.append(f"- Pre-check: {hits}/{len(PRECHECK)} colloquial messages give exactly the expected ticked items.")

        t0 = time.perf_counter()
        rep = import_licences("l.csv", _licence_csv(1000), pre, pre.today())
        t_lic = time.perf_counter() - t0
        n_lic = rep.imported
        lines.append(f"- Licence upload, 1,000 CSV rows: {t_lic:.2f} s; imported {rep.imported}, failed "
                     f"{len(rep.failed)}, duplicates {len(rep.duplicates)}.")
        t0 = time.perf_counter()
        streets = ["营康西路", "抚琴西路", "九里堤中路", "金泉路", "交大路", "蜀汉路"]
        rep = asyncio.run(import_firms("f.csv", _firm_csv(1000, streets), pre, pre.today()))
        t_firm = time.perf_counter() - t0
        lines.append(f"- New-firm upload, 1,000 CSV rows: {t_firm:.2f} s; imported {rep.imported}, "
                     f"unmatched street {len(rep.extra['unmatched_rows'])} (蜀汉路 crosses streets).")

        # 4,000 more licences expiring within 60 days: every one is due at once (catch-up after downtime)
        lt = pre.catalogue.get("tobacco_retail")
        from assistant.db.preservice import Licence

        with services.db.session() as sess:
            for i in range(4000):
                sess.add(Licence(licence_type=lt.key, licence_name=lt.name, number=f"51010{i:07d}", holder=f"店{i}",
                                 expiry_date=date(2026, 12, 5) + timedelta(days=i % 50), session_id=f"bench-{i % 500}",
                                 channel="web", source="upload", status="active"))
        t0 = time.perf_counter()
        r1 = asyncio.run(pre.scheduler.run_once())
        t_run = time.perf_counter() - t0
        t0 = time.perf_counter()
        r2 = asyncio.run(pre.scheduler.run_once())
        t_run2 = time.perf_counter() - t0
        lines.append(f"- Scheduler over {4000 + n_lic} licences: first run {t_run:.1f} s (sent {r1.sent}, skipped "
                     f"{r1.skipped}); second run {t_run2:.2f} s (sent {r2.sent}).")

        try:
            from assistant.container import load_nlu

            nlu = load_nlu(base, kb)
            total = right = 0
            wrong: list[str] = []
            for intent, texts in INTENTS.items():
                for t in texts:
                    got = nlu.parse(t)["intent"]["name"]
                    total += 1
                    right += got == intent
                    if got != intent:
                        wrong.append(f"{t} → {got}")
            lines.append(f"- NLU on pre-service phrasings written for this benchmark: {right}/{total} intents right"
                         + (f" (misses: {'; '.join(wrong)})" if wrong else "") + ".")
        except Exception as exc:  # pragma: no cover - NLU missing in this checkout
            lines.append(f"- NLU: not measured ({type(exc).__name__}).")
        services.db.dispose()
    return "\n".join(lines) + "\n"


if __name__ == "__main__":  # pragma: no cover
    print(run())
