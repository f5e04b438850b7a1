"""Turn cost against a plain Rasa 3.6 Chinese bot (``make bench``; alone: ``.venv/bin/python -m bench.cost``).

In one run, on this machine, with the same authored conversations (:mod:`bench.chat`):

* **plain Rasa**: a Rasa 3.6 bot written here — JiebaTokenizer + CountVectors (words, char 1–2) + DIETClassifier,
  MemoizationPolicy + RulePolicy + TEDPolicy, eight intents with plain responses — trained by the benchmark in a
  temporary folder with the project's ``.venv-rasa`` and served by ``rasa run`` (REST channel);
* **金小二, one instance**: ``jinxiaoer serve`` with its supervised Rasa server (PostgreSQL + Redis as in
  production), every turn through ``POST /api/v1/chat`` (Rasa → app NLU → custom action → reply parts).

Measured: sequential turn p50 (rounds alternate between the two), and throughput of 16 closed-loop clients (two
alternating phases each). Targets: 金小二's p50 ≤ 1.6 × plain Rasa's, throughput ≥ 0.8 × plain Rasa's.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import httpx
import yaml

from assistant.settings import Settings
from bench._load import run_load, sequential
from bench.fault import Stack, _free_port

CLIENTS, PHASE_S, ROUNDS = 16, 20.0, 3

#: The plain bot: intent → (training examples, response). Written for this benchmark.
INTENTS: dict[str, tuple[list[str], str]] = {
    "greet": (["你好", "您好", "在吗", "哈喽", "早上好", "下午好啊", "喂 有人吗", "你好呀"], "您好，我是政务服务助手。"),
    "ask_matter": (["开个小卖部要办啥子证", "我想办居住证", "社保卡咋个办", "退休手续咋个办", "公积金咋个取出来",
                    "个体户注销要啥材料", "想开个餐馆要办什么", "营业执照怎么办", "身份证丢了咋办", "办理户口迁移"],
                   "这个事项可以在区政务大厅办理。"),
    "ask_materials": (["那要带啥子材料", "要带些啥子", "需要准备哪些东西", "要带什么", "材料有哪些",
                       "需要什么资料", "要准备啥"], "请带身份证原件和申请表。"),
    "ask_location": (["在哪里办", "在哪里办理", "地址在哪", "去哪儿办", "哪个窗口办", "在哪个地方"],
                     "在金牛区政务服务中心一楼。"),
    "ask_fee": (["要收费吗", "收不收费", "要多少钱", "免费吗", "费用是多少", "要交钱不"], "这个事项不收费。"),
    "ask_time": (["多久能拿到", "要办多久", "几天能好", "什么时候能拿", "办理时间多长"], "一般5个工作日。"),
    "request_human": (["我要找人工", "转人工", "找个真人", "人工客服", "我要跟工作人员说"], "正在为您转接人工。"),
    "thanks": (["谢谢", "好的谢谢", "多谢", "感谢", "谢了"], "不客气。"),
    "goodbye": (["再见", "拜拜", "就这样吧", "没事了"], "再见。"),
    "chitchat": (["今天天气咋样", "你是谁", "讲个笑话", "你几岁了", "吃饭没"], "我只能回答政务服务的问题。"),
}


def plain_project(folder: Path) -> None:
    """Write the plain bot's config, domain, NLU data and rules into ``folder``."""
    (folder / "data").mkdir(parents=True, exist_ok=True)
    config = {"recipe": "default.v1", "language": "zh", "assistant_id": "plain-bench",
              "pipeline": [{"name": "JiebaTokenizer"}, {"name": "CountVectorsFeaturizer"},
                           {"name": "CountVectorsFeaturizer", "analyzer": "char_wb", "min_ngram": 1, "max_ngram": 2},
                           {"name": "DIETClassifier", "epochs": 60, "constrain_similarities": True}],
              "policies": [{"name": "MemoizationPolicy"}, {"name": "RulePolicy"},
                           {"name": "TEDPolicy", "max_history": 5, "epochs": 20, "constrain_similarities": True}]}
    domain = {"version": "3.1", "intents": list(INTENTS),
              "responses": {f"utter_{k}": [{"text": v[1]}] for k, v in INTENTS.items()},
              "session_config": {"session_expiration_time": 60, "carry_over_slots_to_new_session": True}}
    nlu = {"version": "3.1", "nlu": [{"intent": k, "examples": "".join(f"- {e}\n" for e in v[0])}
                                     for k, v in INTENTS.items()]}
    rules = {"version": "3.1", "rules": [{"rule": f"answer {k}", "steps": [{"intent": k}, {"action": f"utter_{k}"}]}
                                         for k in INTENTS]}
    stories = {"version": "3.1", "stories": [{"story": "matter then questions", "steps": [
        {"intent": "ask_matter"}, {"action": "utter_ask_matter"}, {"intent": "ask_materials"},
        {"action": "utter_ask_materials"}, {"intent": "ask_location"}, {"action": "utter_ask_location"}]}]}
    dump = lambda d: yaml.safe_dump(d, allow_unicode=True, sort_keys=False)  # noqa: E731
    (folder / "config.yml").write_text(dump(config), encoding="utf-8")
    (folder / "domain.yml").write_text(dump(domain), encoding="utf-8")
    (folder / "data" / "nlu.yml").write_text(dump(nlu), encoding="utf-8")
    (folder / "data" / "rules.yml").write_text(dump(rules), encoding="utf-8")
    (folder / "data" / "stories.yml").write_text(dump(stories), encoding="utf-8")


class PlainRasa:
    """The plain bot, trained and served from a temporary folder."""

    def __init__(self, settings: Settings):
        self.folder = Path(tempfile.mkdtemp(prefix="jxe-bench-plain-rasa-"))
        self.rasa = Path(settings.rasa_venv) / "bin" / "rasa"
        self.env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "TMPDIR")}
        self.env.update({"RASA_TELEMETRY_ENABLED": "false", "TF_CPP_MIN_LOG_LEVEL": "2", "OMP_NUM_THREADS": "1",
                         "TF_NUM_INTRAOP_THREADS": "1", "TF_NUM_INTEROP_THREADS": "1"})
        self.port = _free_port()
        self.proc: subprocess.Popen | None = None
        self.train_s = 0.0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        plain_project(self.folder)
        t0 = time.perf_counter()
        r = subprocess.run([str(self.rasa), "train", "--fixed-model-name", "plain", "--out", "models"],
                           cwd=self.folder, env=self.env, capture_output=True, text=True, timeout=1800)
        if r.returncode != 0:
            raise RuntimeError(f"plain Rasa training failed: {r.stdout[-1000:]} {r.stderr[-1000:]}")
        self.train_s = time.perf_counter() - t0
        with open(self.folder / "rasa.log", "ab") as log:
            self.proc = subprocess.Popen([str(self.rasa), "run", "-m", "models/plain.tar.gz", "-i", "127.0.0.1",
                                          "-p", str(self.port)], cwd=self.folder, env=self.env, stdout=log,
                                         stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 900
        while time.monotonic() < deadline:
            try:
                if httpx.get(self.url + "/", timeout=2, trust_env=False).status_code == 200:
                    # the first turn loads lazily-built parts; not measured
                    httpx.post(self.url + "/webhooks/rest/webhook", json={"sender": "warm", "message": "你好"},
                               timeout=120, trust_env=False)
                    return
            except httpx.HTTPError:
                pass
            if self.proc.poll() is not None:
                raise RuntimeError(f"plain Rasa exited: {(self.folder / 'rasa.log').read_text()[-1000:]}")
            time.sleep(1)
        raise RuntimeError("plain Rasa did not start")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, 15)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, 9)
        shutil.rmtree(self.folder, ignore_errors=True)


def _warm(url: str) -> None:
    sequential(url, rounds=1, prefix="warm")


def run(settings: Settings) -> str:
    load_avg = os.getloadavg()
    plain = PlainRasa(settings)
    single = Stack(app_replicas=1, rasa_replicas=1)
    try:
        plain.start()
        # 金小二 as one app + one Rasa server, on the production stack (PostgreSQL + Redis), behind the balancer
        up_s = single.up()
        _warm(single.url)
        seq = {"plain": [], "jxe": [], "jxe_direct": []}
        app_url = next(m["url"] for m in single.status()["members"] if m["kind"] == "app")
        for rnd in range(ROUNDS):  # alternate so a burst of load on the shared machine hits both
            seq["plain"] += sequential(plain.url, kind="rasa", rounds=1, prefix=f"p{rnd}")
            seq["jxe_direct"] += sequential(app_url, rounds=1, prefix=f"d{rnd}")
            seq["jxe"] += sequential(single.url, rounds=1, prefix=f"j{rnd}")
        thr = {"plain": [], "jxe": []}
        p95 = {"plain": [], "jxe": []}
        for phase in range(2):
            r = run_load(plain.url, CLIENTS, PHASE_S, kind="rasa", prefix=f"tp{phase}")
            thr["plain"].append(r.throughput())
            p95["plain"].append(r.pct(0.95))
            r = run_load(single.url, CLIENTS, PHASE_S, prefix=f"tj{phase}")
            thr["jxe"].append(r.throughput())
            p95["jxe"].append(r.pct(0.95))
        single.down()
        single = None
    finally:
        plain.stop()
        if single is not None:
            single.down()

    med = {k: statistics.median(v) for k, v in seq.items()}
    t_plain, t_jxe = statistics.mean(thr["plain"]), statistics.mean(thr["jxe"])
    ratio_p50 = med["jxe"] / med["plain"]
    ratio_thr = t_jxe / t_plain if t_plain else float("nan")
    lines = [
        "## Turn cost against a plain Rasa 3.6 Chinese bot (`bench/cost.py`)",
        "",
        f"Same run, same machine, same authored conversations ({len(seq['plain'])} sequential turns each, "
        f"{ROUNDS} alternating rounds; throughput: {CLIENTS} closed-loop clients, two alternating {PHASE_S:.0f} s "
        f"phases each). Plain Rasa: JiebaTokenizer + CountVectors + DIET + Memoization/Rule/TED policies, "
        f"{len(INTENTS)} intents with plain responses, trained here in {plain.train_s:.0f} s. 金小二: "
        f"`jinxiaoer cluster up --app-replicas 1 --rasa-replicas 1` (PostgreSQL + Redis + HAProxy; up in "
        f"{up_s:.0f} s). Load average at start: {', '.join(f'{x:.1f}' for x in load_avg)}; at end: "
        f"{', '.join(f'{x:.1f}' for x in os.getloadavg())} (2 cores shared with other work: noisy).",
        "",
        "| measure | plain Rasa 3.6 | 金小二 | ratio | target |",
        "|---|---|---|---|---|",
        f"| sequential turn p50 (through the balancer) | {med['plain']:.0f} ms | {med['jxe']:.0f} ms | "
        f"{ratio_p50:.2f} × | ≤ 1.6 × {'(met)' if ratio_p50 <= 1.6 else '(**missed**)'} |",
        f"| sequential turn p50 (app port, no balancer) | | {med['jxe_direct']:.0f} ms | "
        f"{med['jxe_direct'] / med['plain']:.2f} × | |",
        f"| throughput, {CLIENTS} clients | {t_plain:.1f} turns/s | {t_jxe:.1f} turns/s | {ratio_thr:.2f} × | "
        f"≥ 0.8 × {'(met)' if ratio_thr >= 0.8 else '(**missed**)'} |",
        f"| p95 under that load | {statistics.mean(p95['plain']):.0f} ms | {statistics.mean(p95['jxe']):.0f} ms | | |",
        "",
        "Plain Rasa's phases: " + ", ".join(f"{x:.1f}" for x in thr["plain"]) + " turns/s; 金小二's: "
        + ", ".join(f"{x:.1f}" for x in thr["jxe"]) + " turns/s. The cluster's throughput and p95 (2 apps + 2 Rasa "
        "servers, same clients) are in the fault section below, measured before its faults.",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    print(run(Settings()))
