"""Listening instead of reading (issue 19): the menu and each screening question played as a voice
message. Sounds are made by the real espeak-ng and ffmpeg and read back with ffprobe; the channels
are the stand-in Telegram and LINE and the web chat, through the real worker; recordings are
uploaded in the console."""

from __future__ import annotations

import datetime as dt
import io
import json
import re
import subprocess
import tempfile
import wave
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio

from bot import audio, voices
from bot.media_storage import Folder
from bot.store import VOICES, Store
from bot.telegram_channel import CALLBACK_DATA_LIMIT
from bot.voices import Voices
from hotline.content import gateway_texts, screening, turns
from hotline.language import LANGUAGES
from tests.gateway.conftest import Stack
from tests.gateway.test_console import _csrf, login, make_user
from tests.gateway.test_line import LineUser, quick_replies
from tests.gateway.test_media_channels import recording
from tests.gateway.test_pipeline import Page
from tests.gateway.test_telegram import Chat, keyboard, texts

Q1 = "q1_danger"


def probe(data: bytes) -> dict[str, Any]:
    """What ffprobe reads of a sound: its container and streams."""
    with tempfile.NamedTemporaryFile() as file:
        file.write(data)
        file.flush()
        found = subprocess.run(
            ["ffprobe", "-v", "error", "-show_format", "-show_streams", "-of", "json", file.name],
            capture_output=True,
            check=True,
        )
    shown: dict[str, Any] = json.loads(found.stdout)
    return shown


def wav_seconds(data: bytes) -> float:
    """How long a WAV lasts, from its samples (espeak-ng writing to a pipe leaves the header's
    length unset)."""
    with wave.open(io.BytesIO(data)) as sound:
        rate: int = sound.getframerate()
        frame: int = sound.getsampwidth() * sound.getnchannels()
    samples = len(data) - (data.index(b"data") + 8)
    return samples / frame / rate


@pytest_asyncio.fixture
async def sounds(store: Store, tmp_path: Path) -> AsyncIterator[Voices]:
    """The sounds, kept in a folder, their facts in the test's Redis."""
    yield Voices(store.redis, Folder(tmp_path), store.sealer)


@pytest.mark.asyncio
async def test_a_synthesized_thai_question_is_ogg_opus_as_long_as_the_speech(
    sounds: Voices,
) -> None:
    words = screening().questions[0].text["th"]
    spoken = wav_seconds(await audio.speak(words, "th"))
    assert spoken > 1.5, "espeak-ng read the Thai words (it says nothing of letters it lacks)"

    sound = await sounds.sound(Q1, "th", "ogg")
    assert sound is not None and sound.version.startswith("s")
    found = probe(sound.data)
    assert found["format"]["format_name"] == "ogg"
    [stream] = found["streams"]
    assert stream["codec_name"] == "opus" and stream["channels"] == 1
    assert abs(float(found["format"]["duration"]) - spoken) < 0.1
    assert abs(sound.seconds - spoken) < 0.1

    m4a = await sounds.sound(Q1, "th", "m4a")
    assert m4a is not None
    found = probe(m4a.data)
    assert "mp4" in found["format"]["format_name"] and found["streams"][0]["codec_name"] == "aac"
    assert abs(m4a.seconds - spoken) < 0.15


@pytest.mark.asyncio
async def test_vietnamese_is_synthesized_and_khmer_plays_only_when_recorded(
    sounds: Voices,
) -> None:
    assert await sounds.playable("menu", "vi") and await sounds.playable("menu", "th")
    assert not await sounds.playable("menu", "km")
    assert await sounds.sound("menu", "km", "ogg") is None
    missing = [(v.text, v.language) for v in await sounds.overview() if v.source == "missing"]
    assert missing == [(name, "km") for name in voices.texts()], "the console lists them"

    await sounds.record("menu", "km", recording(2.0), "Sokha", dt.date(2026, 12, 5))
    assert await sounds.playable("menu", "km")
    sound = await sounds.sound("menu", "km", "ogg")
    assert sound is not None and sound.version.startswith("r")
    assert probe(sound.data)["streams"][0]["codec_name"] == "opus"
    assert abs(sound.seconds - 2.0) < 0.1
    [row] = [v for v in await sounds.overview() if (v.text, v.language) == ("menu", "km")]
    assert (row.source, row.recorded_by, row.checked) == ("recorded", "Sokha", "2026-12-05")


@pytest.mark.asyncio
async def test_a_recording_of_older_words_is_not_played(sounds: Voices, tmp_path: Path) -> None:
    await sounds.record(Q1, "km", recording(), "Sokha", dt.date(2026, 12, 5))
    await sounds.record(Q1, "th", recording(), "Ploy", dt.date(2026, 12, 5))
    recorded = await sounds.sound(Q1, "th", "ogg")
    assert recorded is not None and recorded.version.startswith("r")
    for key in (f"{Q1}:km", f"{Q1}:th"):  # the words were edited after the recordings
        facts = json.loads(await sounds.redis.hget(VOICES, key))
        await sounds.redis.hset(VOICES, key, json.dumps({**facts, "digest": "0" * 16}))

    assert await sounds.sound(Q1, "km", "ogg") is None, "Khmer: nothing rather than old words"
    synthetic = await sounds.sound(Q1, "th", "ogg")
    assert synthetic is not None and synthetic.version.startswith("s"), "Thai: speech instead"
    rows = {(v.text, v.language): v for v in await sounds.overview()}
    assert rows[Q1, "km"].outdated and rows[Q1, "km"].source == "missing"
    assert rows[Q1, "th"].outdated and rows[Q1, "th"].source == "synthetic"

    assert await sounds.remove(Q1, "th")
    kept = sorted(path.name for path in (tmp_path / "voices").iterdir())
    assert not [name for name in kept if name.startswith(f"{Q1}-th-r")], "its files went too"
    stored = (tmp_path / "voices" / kept[0]).read_bytes()
    assert stored.startswith(b"gAAAA"), "sealed like every medium"


@pytest.mark.asyncio
async def test_a_file_that_is_not_a_sound_is_not_kept(sounds: Voices) -> None:
    with pytest.raises(audio.AudioError):
        await sounds.record("menu", "km", b"%PDF-1.4\n" + b"x" * 100, "X", dt.date.today())
    assert not await sounds.playable("menu", "km")


def test_the_listen_button_fits_telegram_and_line_and_names_its_text() -> None:
    for name in voices.texts():
        for language in LANGUAGES:
            button = voices.button(name, language)
            assert len(button["payload"].encode()) <= CALLBACK_DATA_LIMIT
            assert len(button["title"]) <= 20
            assert voices.asked(button["payload"]) == name
    assert voices.asked('/listen{"text":"nothing_here"}') is None
    question = screening().questions[2]
    assert voices.text_of(f"3/9. {question.text['vi']}") == (question.slot, "vi")
    assert voices.text_of(turns().turns["utter_menu"].text["km"]) == ("menu", "km")
    assert voices.text_of("3/9. something else") is None


@pytest.mark.servers
def test_telegram_plays_a_question_as_a_voice_message_and_takes_the_answer_after(
    stack: Stack,
) -> None:
    chat = Chat(stack)
    chat.say("สวัสดีครับ", replies=2)
    menu = keyboard(chat.say("/help"))
    listen = voices.button("menu", "th")
    assert (menu[-1]["text"], menu[-1]["callback_data"]) == (listen["title"], listen["payload"])

    chat.say("อยากเช็คว่าผมถูกค้ามนุษย์หรือเปล่า")
    chat.press("/affirm")  # yes to the questions; then which country (question 0)
    asked = chat.press('/choose_country{"country":"th"}')
    assert texts(asked).startswith("1/9")
    assert keyboard(asked)[-1]["callback_data"] == voices.button(Q1, "th")["payload"]

    chat.press(voices.button(Q1, "th")["payload"], replies=0)
    [voice] = [c for c in stack.telegram.called("sendVoice") if int(c["chat_id"]) == chat.id]
    assert voice["voice"].startswith(b"OggS")
    assert probe(voice["voice"])["streams"][0]["codec_name"] == "opus"
    assert voice["duration"] >= 2
    answers = [b["callback_data"] for row in voice["reply_markup"]["inline_keyboard"] for b in row]
    assert answers == ["/affirm", "/deny", "/unsure", "/skip"], "answer by buttons after listening"

    assert texts(chat.press("/deny")).startswith("2/9"), "the screening goes on"
    shown = login(stack, make_user(stack, "supervisor")).get(f"/console/c/{chat.conv}").text
    assert f"[{gateway_texts()['listen']['th']}]" in shown, "the operator sees what was pressed"
    assert re.search(r'<source src="/voices/q1_danger/th\.ogg\?v=s\w+" type="audio/ogg', shown)


@pytest.mark.servers
def test_line_gets_an_m4a_with_its_length_and_the_web_chat_a_player(stack: Stack) -> None:
    person = LineUser(stack)
    person.say("xin chào")
    menu = person.say("/help")
    payload = voices.button("menu", "vi")["payload"]
    assert payload in [a["data"] for a in quick_replies(menu)]
    [sound] = person.press(payload)
    assert sound["type"] == "audio" and sound["duration"] > 1000
    assert sound["originalContentUrl"].startswith(f"{stack.url}/voices/menu/vi.m4a?v=")
    fetched = httpx.get(sound["originalContentUrl"])
    assert fetched.headers["content-type"] == "audio/mp4"
    assert abs(float(probe(fetched.content)["format"]["duration"]) * 1000 - sound["duration"]) < 50
    pressed = [a["data"] for a in quick_replies([sound])]
    assert "/start_screening" in pressed, "the menu's buttons come with it"

    page = Page(stack)
    page.say("สวัสดีครับ")
    replies = page.say("/help")
    [button] = [
        b for r in replies for b in r.get("buttons", []) if b["payload"].startswith("/listen")
    ]
    [heard] = page.say(button["payload"])
    assert heard["listen"]["path"].startswith("/voices/menu/th.m4a?v=s")
    assert httpx.get(f"{stack.url}{heard['listen']['path']}").status_code == 200
    assert httpx.get(f"{stack.url}/voices/menu/km.m4a").status_code == 404, "Khmer: not recorded"


@pytest.mark.servers
def test_sounds_are_served_in_ranges_as_browsers_ask_for_them(stack: Stack) -> None:
    """Safari plays no audio from a server that answers no ranges; browsers find an OGG's length
    by asking for its end."""
    url = f"{stack.url}/voices/q2_free_to_leave/vi.ogg"
    whole = httpx.get(url)
    assert whole.status_code == 200 and whole.headers["accept-ranges"] == "bytes"
    size = len(whole.content)
    first = httpx.get(url, headers={"Range": "bytes=0-99"})
    assert first.status_code == 206 and first.content == whole.content[:100]
    assert first.headers["content-range"] == f"bytes 0-99/{size}"
    last = httpx.get(url, headers={"Range": "bytes=-10"})
    assert last.status_code == 206 and last.content == whole.content[-10:]
    rest = httpx.get(url, headers={"Range": f"bytes={size - 5}-"})
    assert rest.content == whole.content[-5:]
    past = httpx.get(url, headers={"Range": f"bytes={size}-"})
    assert past.status_code == 416 and past.headers["content-range"] == f"bytes */{size}"


@pytest.mark.servers
def test_a_supervisor_records_a_khmer_text_and_the_person_hears_it(stack: Stack) -> None:
    operator = login(stack, make_user(stack))
    assert operator.get("/console/voices", follow_redirects=False).status_code in (303, 403)
    supervisor = login(stack, make_user(stack, "supervisor"))
    listed = supervisor.get("/console/voices").text
    assert listed.count('class="voice missing"') == len(voices.texts()), "Khmer texts missing"
    assert "espeak-ng" in listed

    person = LineUser(stack)
    person.say("សួស្តី")
    assert voices.button("menu", "km")["payload"] not in [
        a["data"] for a in quick_replies(person.say("/help"))
    ], "no 🔊 before a recording"

    csrf = _csrf(listed)
    refused = supervisor.post(
        "/console/voices/menu/km",
        data={"csrf": csrf, "recorded_by": "Sokha", "checked": "2026-12-05"},
        files={"file": ("menu.pdf", b"%PDF-1.4\n", "audio/ogg")},
    )
    assert refused.headers["location"] == "/console/voices?done=not_sound"
    assert "not a recording" in supervisor.get(refused.headers["location"]).text
    saved = supervisor.post(
        "/console/voices/menu/km",
        data={"csrf": csrf, "recorded_by": "Sokha", "checked": "2026-12-05"},
        files={"file": ("menu.wav", recording(1.5), "audio/wav")},
    )
    assert saved.headers["location"] == "/console/voices?done=saved"
    listed = supervisor.get("/console/voices").text
    assert "Recorded by Sokha, checked 2026-12-05" in listed
    assert listed.count('class="voice missing"') == len(voices.texts()) - 1
    assert "voice_recorded" in str(stack.redis.xrange("hl:audit"))

    payload = voices.button("menu", "km")["payload"]
    assert payload in [a["data"] for a in quick_replies(person.say("/help"))]
    [sound] = person.press(payload)
    assert abs(sound["duration"] - 1500) < 100
