"""The kiosk page in headless Chromium with a fixture WAV as the microphone: tap the big button, speak (the
fake capture device plays the clip), see the partial transcript, the answer card with the matter, then the
privacy reset after the idle time. A screenshot is saved under artifacts/."""

from __future__ import annotations

import threading
import time

import pytest

from tests.conftest import ARTIFACTS, free_port
from tests.voice.conftest import AUDIO, ffmpeg_wav

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--no-first-run", "--disable-sync",
         "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream", "--autoplay-policy=no-user-gesture-required"]


@pytest.fixture
def kiosk_server(make_settings, kb, nlu, pipeline):
    import uvicorn

    from assistant.app import create_app
    from assistant.speech import VoiceRuntime

    app = create_app(make_settings(), kb=kb, nlu=nlu, rasa=None, load_models=False)
    app.state.services.voice = VoiceRuntime(pipeline, "whisper", 0.0)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    t = threading.Thread(target=server.run, daemon=True)
    t.start()
    for _ in range(400):
        if server.started:
            break
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        t.join(15)


def test_kiosk_voice_round_trip_in_chromium(kiosk_server, manifest, tmp_path):
    from playwright.sync_api import sync_playwright

    m = next(x for x in manifest if x["file"] == "q001.wav")
    # the clip plus 1.5 s of silence: the server's endpointer ends the utterance (tap-to-talk mode)
    mic = ffmpeg_wav(AUDIO / m["file"], tmp_path / "mic.wav", "-af", "apad=pad_dur=1.5")
    with sync_playwright() as p:
        ctx = p.chromium.launch_persistent_context(
            str(tmp_path / "profile"), executable_path=CHROMIUM, headless=True,
            args=FLAGS + [f"--use-file-for-fake-audio-capture={mic}%noloop"],
            viewport={"width": 1080, "height": 1600})
        try:
            page = ctx.new_page()
            page.goto(f"{kiosk_server}/kiosk?idle_ms=8000")
            assert page.locator("#talk").inner_text().startswith("🎤")
            first_session = page.evaluate("window.__kiosk.sessionId")
            page.click("#talk")  # a short tap: listen until the end of the utterance
            page.wait_for_function(
                "() => window.__kiosk.events.some(e => e.kind === 'partial' && e.data.text.length > 0)", timeout=60000)
            page.wait_for_selector(".matter-card", timeout=90000)
            events = page.evaluate("window.__kiosk.events")
            kinds = [e["kind"] for e in events]
            assert kinds.index("partial") < kinds.index("final") < kinds.index("reply")
            final = next(e["data"] for e in events if e["kind"] == "final")
            assert final["corrected"]
            assert page.locator("#partial").inner_text() == final["corrected"]
            code = page.locator(".matter-card").first.get_attribute("data-code")
            assert code in m["matters"]
            assert page.locator(".matter-card .matter-name").first.inner_text()
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "kiosk-voice.png"), full_page=True)
            # privacy: after the idle time the next person sees nothing of this conversation
            page.wait_for_function("() => document.getElementById('answer').hidden === true", timeout=20000)
            assert page.locator("#partial").inner_text() == ""
            assert page.evaluate("window.__kiosk.sessionId") != first_session
        finally:
            ctx.close()


def test_kiosk_push_to_talk_in_chromium(kiosk_server, manifest, tmp_path):
    """按住说话: hold the button while the clip plays, release → eof → final text and answer card."""
    from playwright.sync_api import sync_playwright

    from voice.audio import read_wav

    clip = AUDIO / "q020.wav"
    mic = ffmpeg_wav(clip, tmp_path / "mic.wav", "-af", "apad=pad_dur=3")
    hold_s = read_wav(clip).duration_s + 0.3
    with sync_playwright() as p:
        ctx = p.chromium.launch_persistent_context(
            str(tmp_path / "profile"), executable_path=CHROMIUM, headless=True,
            args=FLAGS + [f"--use-file-for-fake-audio-capture={mic}%noloop"], viewport={"width": 800, "height": 1200})
        try:
            page = ctx.new_page()
            page.goto(f"{kiosk_server}/kiosk")
            box = page.locator("#talk").bounding_box()
            page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
            page.mouse.down()
            page.wait_for_function("() => window.__kiosk.recording && window.__kiosk.ctx !== null", timeout=15000)
            assert "松开" in page.locator("#talk-label").inner_text()
            page.wait_for_timeout(int(hold_s * 1000))
            page.mouse.up()
            page.wait_for_selector(".matter-card", timeout=90000)
            kinds = [e["kind"] for e in page.evaluate("window.__kiosk.events")]
            assert kinds.index("eof") < kinds.index("final") < kinds.index("reply")
            assert "失业登记" in page.locator("#partial").inner_text()
            assert page.locator(".matter-card").first.get_attribute("data-code") == "512B0066800002"
        finally:
            ctx.close()
