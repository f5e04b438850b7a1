"""Single queries through ONNX Runtime (``nlu/embed.py``, :class:`OnnxBody`): the same vectors as torch, the export
made once and kept, a broken or different export never used."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from nlu import embed
from nlu.embed import Encoder

HELDOUT = Path(__file__).resolve().parents[1] / "data"


def _own_questions() -> list[str]:
    from assistant.teach.regression import load_heldout

    items = load_heldout(HELDOUT)
    return [i.text for i in items if i.kind == "intent"][:40] + [i.text for i in items if i.kind == "matter"]


@pytest.fixture(scope="module")
def onnx_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("onnx")


@pytest.fixture(scope="module")
def encoder(onnx_dir) -> Encoder:
    return Encoder(onnx_dir=onnx_dir)


def test_onnx_gives_the_torch_vectors_of_held_out_questions(encoder):
    assert encoder.onnx is not None
    questions = _own_questions()
    assert len(questions) >= 60
    for text in questions:
        onnx_vec, torch_vec = encoder.onnx.encode(encoder.model, text), encoder._torch_one(text)
        assert onnx_vec.dtype == np.float32 and onnx_vec.shape == (encoder.dim,)
        assert abs(float(np.linalg.norm(onnx_vec)) - 1.0) < 1e-5
        assert float(onnx_vec @ torch_vec) >= embed.ONNX_SAME, text
    # encode_one is the ONNX path (and caches it)
    text = questions[0]
    assert encoder.encode_one(text) is encoder.encode_one(text)
    assert float(encoder.encode_one(text) @ encoder.onnx.encode(encoder.model, text)) > 0.999999


def test_queries_encoded_at_once_get_the_vectors_they_get_alone(encoder):
    """Several threads encoding at once share the two sessions (two threads for a query alone, one beside
    another): every vector is the one the query gets alone, whichever session ran it."""
    from concurrent.futures import ThreadPoolExecutor

    body = encoder.onnx
    assert [s.get_session_options().intra_op_num_threads for s in body.sessions] == list(
        dict.fromkeys((embed.ONNX_THREADS, 1)))
    questions = _own_questions()[:40]
    alone = [body.encode(encoder.model, q) for q in questions]
    with ThreadPoolExecutor(4) as pool:
        together = list(pool.map(lambda q: body.encode(encoder.model, q), questions * 3))
    for i, vec in enumerate(together):
        assert float(vec @ alone[i % len(questions)]) >= embed.ONNX_SAME, questions[i % len(questions)]
    assert body._running == 0


def test_the_export_is_made_once_and_reused(encoder, onnx_dir):
    exported = onnx_dir / f"{encoder.key}.onnx"
    assert exported.is_file() and exported.stat().st_size > 1_000_000
    before = exported.stat().st_mtime_ns
    again = Encoder(onnx_dir=onnx_dir)
    assert again.onnx is not None and exported.stat().st_mtime_ns == before


def test_a_cut_off_export_is_made_again(encoder, tmp_path):
    exported = tmp_path / f"{encoder.key}.onnx"
    exported.write_bytes(b"\x08\x07not a whole model")
    fresh = Encoder(onnx_dir=tmp_path)
    assert fresh.onnx is not None and exported.stat().st_size > 1_000_000
    text = "我想问一下居住证到期了咋个续"
    assert float(fresh.encode_one(text) @ fresh._torch_one(text)) >= embed.ONNX_SAME


def test_an_export_that_gives_other_vectors_is_not_used(encoder, tmp_path, monkeypatch):
    monkeypatch.setattr(embed, "ONNX_SAME", 1.5)  # no cosine reaches it: as if the export computed something else
    fresh = Encoder(onnx_dir=tmp_path)
    assert fresh.onnx is None
    assert not list(tmp_path.glob("*.onnx"))  # not left behind for the next start
    text = "营业执照上的地址要变更"
    assert float(fresh.encode_one(text) @ encoder._torch_one(text)) > 0.999999  # torch answers


def test_no_onnx_without_a_folder_or_with_int8(encoder):
    assert Encoder().onnx is None
    assert Encoder(quantize=True, onnx_dir=Path("/nonexistent/never-created")).onnx is None
