"""Photos, recordings, files and locations from Telegram and LINE reach the operator (issue 19):
fetched from the stand-in APIs by the real worker, kept encrypted without their metadata,
answered in the person's language with a button that asks for a person, shown in the console to
signed-in accounts only, and gone when the person says "forget me"."""

from __future__ import annotations

import asyncio
import io
import math
import re
import uuid
import wave
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image
from playwright.sync_api import Browser, expect

from bot.media import MOST_BYTES
from bot.store import conversation_key
from bot.webchat import UPLOADS_AT_ONCE
from tests.gateway.conftest import Stack
from tests.gateway.test_console import login, make_user
from tests.gateway.test_console_browser import SHOTS, signed_in
from tests.gateway.test_line import LineUser, quick_replies
from tests.gateway.test_line import texts as line_texts
from tests.gateway.test_media import GPS_IFD, photo_with_gps
from tests.gateway.test_pipeline import Page, client_id
from tests.gateway.test_pipeline import texts as web_texts
from tests.gateway.test_telegram import Chat, keyboard, texts
from tests.servers import ROOT
from tests.waiting import until

pytestmark = pytest.mark.servers


def test_a_photo_reaches_the_console_without_its_gps(stack: Stack) -> None:
    chat = Chat(stack)
    chat.say("สวัสดีครับ", replies=2)
    reply = chat.send(stack.telegram.photo_update(chat.id, photo_with_gps(), "สัญญาจ้างของผม"))
    assert "เจ้าหน้าที่สายด่วนจะเห็นสิ่งที่คุณส่งมา" in texts(reply)
    [button] = keyboard(reply)
    assert button["text"] == "คุยกับคนจริง" and button["callback_data"] == "/request_human"
    fetched = [c["file_id"] for c in stack.telegram.called("getFile")]
    assert fetched, "the worker fetched the photo"

    chat.press("/request_human", replies=1)
    client = login(stack, make_user(stack))
    page = client.get(f"/console/c/{chat.conv}").text
    assert "สัญญาจ้างของผม" in page, "the caption is shown with the photo"
    [src] = re.findall(r'<img src="([^"]+/media/[^"]+)"', page)
    shown = client.get(src)
    assert shown.status_code == 200 and shown.headers["content-type"] == "image/jpeg"
    assert shown.headers["cache-control"] == "no-store"
    image = Image.open(io.BytesIO(shown.content))
    assert image.size == (64, 48) and not image.getexif().get_ifd(GPS_IFD), "GPS stripped"
    assert "media_opened" in str(stack.redis.xrange("hl:audit")), "opening it is audited"
    opened = str(stack.redis.xrange("hl:audit")).count("media_opened")
    piece = client.get(src, headers={"Range": "bytes=100-"})
    assert piece.status_code == 206 and piece.content == shown.content[100:]
    assert str(stack.redis.xrange("hl:audit")).count("media_opened") == opened, "one opening"

    stranger = httpx.get(f"{stack.url}{src}", follow_redirects=False)
    assert stranger.status_code == 303 and stranger.headers["location"] == "/console/login"
    assert not stranger.content, "not a byte of the photo without a session"

    folder = Path(stack.env["MEDIA_DIR"]) / chat.conv
    [stored] = list(folder.iterdir())
    assert stored.read_bytes().startswith(b"gAAAA"), "encrypted at rest"
    chat.say("/forget", replies=1)
    assert not folder.exists(), "forget me removes the photo"


def test_a_voice_message_plays_and_a_location_links_to_a_map(stack: Stack) -> None:
    chat = Chat(stack)
    chat.say("xin chào", replies=2)
    voice = b"OggS\x00\x02" + b"\x00" * 200
    reply = chat.send(stack.telegram.voice_update(chat.id, voice))
    assert "Bấm nút bên dưới" in texts(reply)
    chat.send(stack.telegram.location_update(chat.id, 13.7563, 100.5018))
    chat.press("/request_human", replies=1)
    page = login(stack, make_user(stack)).get(f"/console/c/{chat.conv}").text
    assert re.search(r'<audio controls preload="none" src="[^"]+/media/', page)
    assert "openstreetmap.org/?mlat=13.7563&amp;mlon=100.5018" in page


def test_a_file_of_the_wrong_kind_is_refused_whatever_it_is_called(stack: Stack) -> None:
    chat = Chat(stack)
    chat.say("សួស្តី", replies=2)
    archive = b"PK\x03\x04" + b"\x00" * 100
    reply = chat.send(stack.telegram.document_update(chat.id, archive, "passport.pdf"))
    assert "ខ្ញុំមិនអាចរក្សាទុកឯកសារប្រភេទនេះបានទេ" in texts(reply)
    assert not (Path(stack.env["MEDIA_DIR"]) / chat.conv).exists(), "nothing kept"


def test_a_photo_from_line_is_fetched_from_its_content_api(stack: Stack) -> None:
    person = LineUser(stack)
    person.say("สวัสดีครับ")
    reply = person.send(stack.line.content(person.id, "image", photo_with_gps()))
    assert "เจ้าหน้าที่สายด่วนจะเห็นสิ่งที่คุณส่งมา" in line_texts(reply)
    assert [a["data"] for a in quick_replies(reply)] == ["/request_human"]
    person.send(stack.line.location(person.id, 11.5564, 104.9282))
    [stored] = list((Path(stack.env["MEDIA_DIR"]) / person.conv).iterdir())
    page = login(stack, make_user(stack)).get(f"/console/c/{person.conv}").text
    assert f"/media/{stored.name}" in page and "mlat=11.5564" in page
    person.send(stack.line.content(person.id, "audio", recording()))
    person.send(stack.line.content(person.id, "video", b"\x00\x00\x00\x18ftypmp42" + b"\0" * 99))
    person.send(stack.line.content(person.id, "file", b"%PDF-1.4\n" + b"x" * 99))
    page = login(stack, make_user(stack)).get(f"/console/c/{person.conv}").text
    assert re.search(r'<audio controls preload="none" src="[^"]+/media/', page)
    assert re.search(r'<video controls preload="none" src="[^"]+/media/', page)
    assert "application/pdf" in page, "the file, to open"


def recording(seconds: float = 1.0) -> bytes:
    """A WAV a browser can play: a quiet tone."""
    out = io.BytesIO()
    with wave.open(out, "wb") as sound:
        sound.setnchannels(1)
        sound.setsampwidth(2)
        sound.setframerate(8000)
        frames = int(8000 * seconds)
        tone = (int(3000 * math.sin(2 * math.pi * 440 * n / 8000)) for n in range(frames))
        sound.writeframes(b"".join(value.to_bytes(2, "little", signed=True) for value in tone))
    return out.getvalue()


def test_the_console_shows_the_photo_and_plays_the_recording(
    stack: Stack, browser: Browser
) -> None:
    """A Chromium walk-through: the photo is drawn, the recording plays (screenshot)."""
    chat = Chat(stack)
    chat.say("สวัสดีครับ", replies=2)
    chat.send(stack.telegram.photo_update(chat.id, photo_with_gps()))
    chat.send(stack.telegram.voice_update(chat.id, recording()))
    chat.press("/request_human", replies=1)
    page = signed_in(browser, stack, make_user(stack))
    page.goto(f"{stack.url}/console/c/{chat.conv}")
    image = page.locator("img.media-image")
    expect(image).to_be_visible()
    expect(image).to_have_js_property("naturalWidth", 64)
    player = page.locator("audio")
    expect(player).to_have_attribute("aria-label", "Recording")
    player.evaluate("audio => audio.play()")
    until(lambda: player.evaluate("audio => audio.currentTime") > 0.2, 10, "the recording to play")
    image.scroll_into_view_if_needed()
    page.screenshot(path=str(SHOTS / "media.png"))
    page.close()


def test_danger_in_a_photos_caption_is_danger(stack: Stack) -> None:
    """The caption is what the person says: danger there gets the emergency numbers and an urgent
    hand-off, before and instead of anything about the photo."""
    chat = Chat(stack)
    chat.say("xin chào", replies=2)
    caption = "cứu tôi, họ đang đánh tôi, tôi bị nhốt"
    reply = chat.send(stack.telegram.photo_update(chat.id, photo_with_gps(), caption))
    assert "113" in texts(reply), "the emergency numbers"
    assert "Bấm nút bên dưới" not in texts(reply), "no menu for a person in danger"
    assert stack.redis.hget(conversation_key(chat.conv), "state") == "waiting"
    assert stack.redis.hget(conversation_key(chat.conv), "risk") == "immediate"


def test_a_photo_sent_while_waiting_goes_to_the_operator_without_a_reply(stack: Stack) -> None:
    chat = Chat(stack)
    chat.say("สวัสดีครับ", replies=2)
    chat.press("/request_human", replies=1)
    assert stack.redis.hget(conversation_key(chat.conv), "state") == "waiting"
    before = stack.handled(chat.conv)
    stack.telegram.queue_update(stack.telegram.photo_update(chat.id, photo_with_gps()))
    until(
        lambda: (
            int(stack.redis.hget(conversation_key(chat.conv), "in_done") or 0)
            > int(before["in_done"])
        ),
        what="the photo to be handled",
    )
    assert stack.handled(chat.conv)["out_seq"] == before["out_seq"], "no reply to it"
    page = login(stack, make_user(stack)).get(f"/console/c/{chat.conv}").text
    assert re.search(r'<img src="[^"]+/media/', page), "the operator sees it"


def upload(stack: Stack, client: str, data: bytes, message_id: str = "") -> httpx.Response:
    """What chat.js sends for a chosen file: the bytes, the chat's id in a header."""
    headers = {
        "Content-Type": "application/octet-stream",
        "X-Chat-Client": client,
        "X-Message-Id": message_id or uuid.uuid4().hex,
    }
    return httpx.post(f"{stack.url}/chat/media", content=data, headers=headers, timeout=30)


def test_the_web_chat_uploads_a_photo_once_and_refuses_what_it_cannot_keep(stack: Stack) -> None:
    page = Page(stack)
    page.say("xin chào")
    conv = stack.conv(page.client)
    sent = photo_with_gps()
    for _ in range(2):  # sent again with the same id: kept once
        assert upload(stack, page.client, sent, "photo-1").status_code == 202
    reply = page.read(1)
    assert "Bấm nút bên dưới" in web_texts(reply)
    assert [b["payload"] for b in reply[-1]["buttons"]] == ["/request_human"]
    assert len(list((Path(stack.env["MEDIA_DIR"]) / conv).iterdir())) == 1

    assert upload(stack, page.client, b"MZ\x90\x00 a program").status_code == 202
    assert "Tôi không lưu được loại tệp này" in web_texts(page.read(1))
    console = login(stack, make_user(stack)).get(f"/console/c/{conv}").text
    assert "sent a file of a kind that is not kept" in console, "the operator sees it was sent"
    too_big = upload(stack, page.client, b"%PDF-" + b"\x00" * (MOST_BYTES + 1))
    assert too_big.status_code == 413, "refused before it is read"
    nobody = httpx.post(f"{stack.url}/chat/media", content=sent)
    assert nobody.status_code == 422, "no chat id, nothing kept"
    assert len(list((Path(stack.env["MEDIA_DIR"]) / conv).iterdir())) == 1


def test_a_photo_chosen_in_the_web_chat_reaches_the_console(stack: Stack, browser: Browser) -> None:
    """On a phone-sized page: the paperclip opens the file picker (the camera button, the
    camera), the photo shows as 📷 (never its name), the assistant answers, and the operator sees
    it in the console."""
    page = browser.new_page(viewport={"width": 390, "height": 800})
    page.goto(f"{stack.url}/")
    page.fill("#text", "สวัสดีครับ")
    page.keyboard.press("Enter")
    expect(page.locator("#messages li.bot").first).to_be_visible(timeout=15_000)
    shown = page.locator("#messages li.bot").count()
    with page.expect_file_chooser() as chosen:
        page.click("#attach")
    chosen.value.set_files(
        {"name": "my-passport.jpg", "mimeType": "image/jpeg", "buffer": photo_with_gps()}
    )
    expect(page.locator("#messages li.person").last).to_have_text("📷")
    expect(page.locator("#messages li.bot")).not_to_have_count(shown, timeout=15_000)
    expect(page.locator("#messages li.bot").last).to_contain_text("เจ้าหน้าที่สายด่วน")
    expect(page.locator("#buttons button")).to_have_text(["คุยกับคนจริง"])
    assert "my-passport" not in page.content(), "the file's name is not shown"
    assert page.locator("#photo").get_attribute("capture") == "environment"
    page.screenshot(path=str(ROOT / "results" / "webchat" / "upload.png"))
    client = page.evaluate("sessionStorage.getItem('chat.client')")
    conv = stack.conv(client)
    console = login(stack, make_user(stack)).get(f"/console/c/{conv}").text
    assert re.search(r'<img src="[^"]+/media/', console)
    page.close()


def test_uploads_read_at_once_are_bounded_and_the_rest_told_to_come_back(stack: Stack) -> None:
    """Each upload may hold 20 MB in the web process's memory: past UPLOADS_AT_ONCE being read,
    another is answered 503 with Retry-After (the page sends it again by itself)."""

    async def uploads() -> tuple[list[int], int]:
        release = asyncio.Event()

        async def slow_body() -> AsyncIterator[bytes]:
            yield photo_with_gps()[:100]
            await release.wait()
            yield b"\x00" * 100

        async with httpx.AsyncClient(base_url=stack.url, timeout=30) as http:

            async def send(body: Any) -> int:
                headers = {
                    "Content-Type": "application/octet-stream",
                    "X-Chat-Client": client_id(),
                    "X-Message-Id": uuid.uuid4().hex,
                }
                return (await http.post("/chat/media", content=body, headers=headers)).status_code

            slow = [asyncio.create_task(send(slow_body())) for _ in range(UPLOADS_AT_ONCE)]
            await asyncio.sleep(1.0)
            busy = await send(photo_with_gps())
            release.set()
            return list(await asyncio.gather(*slow)), busy

    # In a thread of its own: this module's browser runs an event loop in this one.
    with ThreadPoolExecutor(1) as thread:
        done, busy = thread.submit(asyncio.run, uploads()).result()
    assert busy == 503, "one more than the bound is told to come back"
    assert done == [202] * UPLOADS_AT_ONCE, "the ones being read are taken"


def test_an_operator_sends_a_photo_and_a_voice_message_to_telegram(stack: Stack) -> None:
    """From the console's form to the person's Telegram chat: the photo without the operator's
    GPS either, a recording in OGG as a voice message; a program is refused with why."""
    chat = Chat(stack)
    chat.say("สวัสดีครับ", replies=2)
    chat.press("/request_human", replies=1)
    client = login(stack, make_user(stack))
    page = client.get(f"/console/c/{chat.conv}").text
    csrf = re.search(r'name="csrf" value="([^"]+)"', page)
    assert csrf and f"/console/c/{chat.conv}/claim" in page
    token = {"csrf": csrf.group(1)}
    assert client.post(f"/console/c/{chat.conv}/claim", data=token).status_code == 303
    assert 'enctype="multipart/form-data"' in client.get(f"/console/c/{chat.conv}").text

    def send(data: bytes, name: str) -> httpx.Response:
        return client.post(f"/console/c/{chat.conv}/file", data=token, files={"file": (name, data)})

    assert send(photo_with_gps(), "photo.jpg").status_code == 303
    assert send(b"OggS\x00\x02" + b"\x00" * 200, "voice.ogg").status_code == 303
    assert send(b"ID3\x04" + b"\x00" * 200, "song.mp3").status_code == 303
    assert send(b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 200, "clip.mp4").status_code == 303
    assert send(b"%PDF-1.4\n" + b"x" * 200, "leaflet.pdf").status_code == 303
    refused = send(b"MZ\x90\x00 a program", "photo.jpg")
    assert refused.status_code == 409 and "Not sent" in refused.text
    until(lambda: len(stack.telegram.media_sent(chat.id)) >= 5, 30, "all five to reach Telegram")
    methods = [method for method, _ in stack.telegram.media_sent(chat.id)]
    assert methods == ["sendPhoto", "sendVoice", "sendAudio", "sendVideo", "sendDocument"]
    photo = stack.telegram.media_sent(chat.id)[0][1]
    image = Image.open(io.BytesIO(photo))
    assert image.size == (64, 48) and not image.getexif(), "no GPS, no camera"
    page = client.get(f"/console/c/{chat.conv}").text
    assert len(re.findall(r'class="from-operator"', page)) >= 2, "both in the transcript"


def claimed(stack: Stack, conv: str) -> tuple[httpx.Client, dict[str, str]]:
    """An operator's console session holding the conversation, and its CSRF field."""
    return claimed_as(stack, conv, make_user(stack))


def claimed_as(stack: Stack, conv: str, name: str) -> tuple[httpx.Client, dict[str, str]]:
    """The named operator's console session holding the conversation, and its CSRF field."""
    client = login(stack, name)
    page = client.get(f"/console/c/{conv}").text
    csrf = re.search(r'name="csrf" value="([^"]+)"', page)
    assert csrf
    token = {"csrf": csrf.group(1)}
    assert client.post(f"/console/c/{conv}/claim", data=token).status_code == 303
    return client, token


def test_an_operator_sends_a_photo_and_a_recording_to_the_web_chat(stack: Stack) -> None:
    """The page gets each as a link that opens it (not the stored reference), the photo without
    GPS; a forged link opens nothing, and forget me closes every link."""
    page = Page(stack)
    page.say("xin chào", expect=1)
    page.say("/request_human", expect=1)
    conv = stack.conv(page.client, "web")
    client, token = claimed(stack, conv)
    sent = client.post(
        f"/console/c/{conv}/file", data=token, files={"file": ("p.jpg", photo_with_gps())}
    )
    assert sent.status_code == 303
    [shown] = page.read(1)
    assert set(shown) == {"file"} and shown["file"]["kind"] == "image"
    url = f"{stack.url}{shown['file']['url']}"
    assert conv not in url
    fetched = httpx.get(url)
    assert fetched.status_code == 200 and fetched.headers["content-type"] == "image/jpeg"
    assert fetched.headers["cache-control"] == "private, no-store"
    assert not Image.open(io.BytesIO(fetched.content)).getexif(), "no GPS"
    forged = url[:-12] + ("A" * 12 if not url.endswith("A" * 12) else "B" * 12)
    assert httpx.get(forged).status_code == 404

    files = {"file": ("voice.wav", recording(1.0))}
    assert client.post(f"/console/c/{conv}/file", data=token, files=files).status_code == 303
    [heard] = page.read(1)
    assert heard["file"]["kind"] == "audio"
    assert httpx.get(f"{stack.url}{heard['file']['url']}").content.startswith(b"RIFF")

    page.say("/forget", expect=1)
    assert httpx.get(url).status_code == 404, "forgotten: the link opens nothing"


def test_an_operator_sends_a_photo_and_a_recording_to_line(stack: Stack) -> None:
    """LINE gets an image message whose photo and small preview it fetches from the web
    process, and an audio message with an M4A and its length; a PDF is refused with why."""
    person = LineUser(stack)
    person.say("xin chào")
    person.press("/request_human")
    client, token = claimed(stack, person.conv)
    assert 'accept="image/jpeg,image/png,audio/*"' in client.get(f"/console/c/{person.conv}").text

    def send(name: str, data: bytes) -> httpx.Response:
        files = {"file": (name, data)}
        return client.post(f"/console/c/{person.conv}/file", data=token, files=files)

    def shown() -> list[dict[str, Any]]:
        return [m for _, m in stack.line.sent(person.id) if m["type"] != "text"]

    refused = send("leaflet.pdf", b"%PDF-1.4\n" + b"x" * 50)
    assert refused.status_code == 409 and "LINE takes only photos" in refused.text
    assert send("p.jpg", photo_with_gps()).status_code == 303
    assert send("voice.wav", recording(1.2)).status_code == 303
    until(lambda: len(shown()) == 2, 30, "both to reach LINE")
    image, sound = shown()
    assert image["type"] == "image" and sound["type"] == "audio"
    photo = httpx.get(image["originalContentUrl"])
    assert photo.headers["content-type"] == "image/jpeg"
    assert not Image.open(io.BytesIO(photo.content)).getexif(), "no GPS"
    small = Image.open(io.BytesIO(httpx.get(image["previewImageUrl"]).content))
    assert max(small.size) <= 240 and small.format == "JPEG"
    assert abs(sound["duration"] - 1200) < 100
    m4a = httpx.get(sound["originalContentUrl"])
    assert m4a.content[4:12] == b"ftypM4A ", "an M4A, as LINE requires"


def test_an_operator_records_a_voice_message_in_the_browser_for_telegram(
    stack: Stack, browser: Browser
) -> None:
    """The console's 🎤 button records from the microphone (Chromium's fake one: a tone), the
    operator hears it, sends it, and the person gets an OGG Opus voice message."""
    chat = Chat(stack)
    chat.say("สวัสดีครับ", replies=2)
    chat.press("/request_human", replies=1)
    name = make_user(stack)
    claimed_as(stack, chat.conv, name)
    page = signed_in(browser, stack, name)
    page.goto(f"{stack.url}/console/c/{chat.conv}")
    record = page.locator("#record")
    expect(record).to_be_visible()
    record.click()
    expect(record).to_have_text(re.compile("Stop"))
    page.wait_for_timeout(1500)  # a second and a half of the fake microphone's tone
    record.click()
    expect(page.locator("#recording")).to_be_visible()
    expect(page.locator("#record-status")).to_contain_text("Recorded")
    page.screenshot(path=str(SHOTS / "console-voice-recorded.png"), full_page=True)
    page.click("#send-file")
    until(
        lambda: [m for m, _ in stack.telegram.media_sent(chat.id)] == ["sendVoice"],
        30,
        "the voice message to reach Telegram",
    )
    [(_, voice)] = stack.telegram.media_sent(chat.id)
    assert voice.startswith(b"OggS") and b"OpusHead" in voice[:200], "OGG Opus"
    page.close()
