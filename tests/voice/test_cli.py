"""``jinxiaoer voice route|transcribe|fetch-model``: argument wiring, the route lines (models loaded once, any WAV
layout, bad files reported per line) and the transcribe command end to end."""

from __future__ import annotations

import json

import pytest

from assistant.cli import build_parser, main
from assistant.commands.voice import route_files
from tests.voice.conftest import AUDIO, ffmpeg_wav


def test_parser_wiring():
    args = build_parser().parse_args(["voice", "route", "a.wav", "b.wav", "-k", "2"])
    assert [str(f) for f in args.files] == ["a.wav", "b.wav"] and args.k == 2 and callable(args.func)
    args = build_parser().parse_args(["voice", "fetch-model", "--dest", "/tmp/x"])
    assert str(args.dest) == "/tmp/x"


def test_route_lines(pipeline, nlu, manifest, tmp_path):
    stereo_44k = ffmpeg_wav(AUDIO / "q020.wav", tmp_path / "stereo.wav", "-ar", "44100", "-ac", "2")
    empty = tmp_path / "empty.wav"
    empty.write_bytes(b"")
    junk = tmp_path / "junk.wav"
    junk.write_bytes(b"GIF89a" + b"\x00" * 200)
    lines = route_files([AUDIO / "q001.wav", stereo_44k, empty, junk], pipeline, nlu, k=3)
    json.dumps(lines, ensure_ascii=False)  # one JSON line each
    first, second, e1, e2 = lines
    assert set(first) >= {"file", "transcript", "corrected", "intent", "out_of_scope", "matters"}
    expected = next(m for m in manifest if m["file"] == "q001.wav")["matters"]
    assert first["matters"][0]["code"] in expected and len(first["matters"]) <= 3
    assert {"code", "name", "score"} == set(first["matters"][0])
    assert not first["out_of_scope"]
    assert "失业登记" in second["corrected"] and second["matters"][0]["code"] == "512B0066800002"
    assert "0 bytes" in e1["error"] and "not a WAV" in e2["error"]


def test_transcribe_command(capsys, tmp_path):
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"RIFF\x00\x00\x00\x00WAVEfmt ")  # truncated header
    rc = main(["voice", "transcribe", "--engine", "whisper", str(AUDIO / "q020.wav"), str(bad)])
    out, err = capsys.readouterr()
    assert rc == 1  # one file failed, the other was transcribed
    assert "失业登记" in out and "bad.wav" in err and "truncated" in err


@pytest.mark.parametrize("argv", [["voice"], ["voice", "route"]])
def test_usage_errors(argv, capsys):
    if argv == ["voice"]:
        assert main(argv) == 2
    else:
        with pytest.raises(SystemExit):
            main(argv)
