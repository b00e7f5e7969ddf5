"""One conversation in the console: its page (summary, answers, transcript, notes), the parts of
it that change, and what an operator does with it: claim, reply, translate a reply first, note,
transfer, close, set the risk."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import UploadFile

from bot import audio, envelopes, outbox, partners, referral_print, referral_words
from bot.byte_ranges import first_byte, ranged
from bot.channel_names import LINE
from bot.media import MEDIA_ID, Refused
from bot.referral_words import OFFERS
from bot.store import NotAllowed, Store
from bot.store.referrals import ASKED, NOT_NOW
from handoff import accounts
from handoff.console_feed import ConsoleFeed
from handoff.deps import (
    Checked,
    FeedDep,
    MediaDep,
    SettingsDep,
    SignedIn,
    StoreDep,
    TranslatorDep,
)
from handoff.pages import PREFIX, render
from handoff.sessions import Session
from handoff.translation import Translator
from handoff.views import Preview, Texts, conversation_view, reply_text
from hotline.language import LANGUAGES

CONV_PATTERN = r"^[a-z]{2}-[0-9a-f]{40}$"

router = APIRouter(prefix=f"{PREFIX}/c", include_in_schema=False)


@dataclass(frozen=True)
class ConversationPage:
    """A conversation's page as a signed-in user opened it: what it is made from, and the changes
    made from it."""

    request: Request
    store: Store
    feed: ConsoleFeed
    translator: Translator | None
    session: Session
    conv: str

    async def show(
        self, name: str = "conversation.html", error: str = "", preview: Preview | None = None
    ) -> HTMLResponse:
        """The page (`name`: whole, or its live part); 409 with `error`, 404 when it is gone."""
        since = await self.feed.newest()
        view = await conversation_view(self.store, self.conv, self.session.account, self.translator)
        if view is None:
            context = {"session": self.session, "key": "gone"}
            return render(self.request, "error.html", context, 404)
        me = self.session.account.name
        others = [a for a in await accounts.everyone(self.store.redis) if a.name != me]
        context = {
            "session": self.session,
            "view": view,
            "others": others,
            "referrals": await self.store.referrals_of(self.conv),
            "partners": await partners.everyone(self.store.redis) if view.can_act else [],
            "origins": ORIGINS,
            "error": error,
            "since": since,
            "preview": preview,
            "translating": self.translator is not None,
        }
        return render(self.request, name, context, 409 if error else 200)

    async def act(self, event: str, **change: Any) -> Response:
        """Makes a hand-off change and audits it, then back to the page; the page with why,
        when the store does not allow it."""
        account = self.session.account
        try:
            await self.store.change(
                self.conv, event, account.name, supervisor=account.supervisor, **change
            )
        except NotAllowed as error:
            return await self.show(error=str(error))
        detail = change.get("to") or change.get("risk") or ""
        await self.store.audit(account.name, event, self.conv, detail)
        return self.back()

    def back(self) -> RedirectResponse:
        """Back to the conversation's page."""
        return RedirectResponse(f"{PREFIX}/c/{self.conv}", status_code=303)

    async def language(self) -> str:
        """The language of the conversation's person ('' when unknown)."""
        return (await self.store.conversation(self.conv)).get("language", "")


async def conversation_page(
    request: Request,
    store: StoreDep,
    feed: FeedDep,
    translator: TranslatorDep,
    session: SignedIn,
    conv: Annotated[str, PathParam(pattern=CONV_PATTERN)],
) -> ConversationPage:
    """The conversation of the route's path, opened by the signed-in user."""
    return ConversationPage(request, store, feed, translator, session, conv)


Page = Annotated[ConversationPage, Depends(conversation_page)]
# Where a referred person may come from (content/countries.yaml).
ORIGINS = ("kh", "vn", "th")
# The photos LINE shows from a bot (it takes JPEG and PNG only).
LINE_IMAGES = ("image/jpeg", "image/png")


@router.get("/{conv}")
async def conversation(page: Page) -> HTMLResponse:
    """One conversation: summary, answers, transcript, notes and what the operator can do."""
    response = await page.show()
    if response.status_code == 200:
        await page.store.audit(page.session.account.name, "viewed", page.conv)
    return response


@router.get("/{conv}/media/{media_id}")
async def medium(
    page: Page,
    media: MediaDep,
    media_id: Annotated[str, PathParam(pattern=MEDIA_ID.pattern)],
) -> Response:
    """A photo, recording or file the person sent, to signed-in accounts only, each opening
    audited. Only types a browser shows without running anything are kept (bot/media.py)."""
    found = await media.read(page.conv, media_id)
    if found is None:
        context = {"session": page.session, "key": "gone"}
        return render(page.request, "error.html", context, 404)
    mime, data = found
    asked = page.request.headers.get("range")
    if first_byte(asked) == 0:  # an opening, not the player's next piece of it
        await page.store.audit(page.session.account.name, "media_opened", page.conv, mime)
    # Never cached, never sniffed: the console's headers (handoff/console.py) say so.
    return ranged(asked, data, mime, {"Content-Disposition": "inline"})


@router.get("/{conv}/live")
async def conversation_part(page: Page) -> HTMLResponse:
    """The parts of a conversation page that change, for live updates."""
    return await page.show("_live.html")


@router.post("/{conv}/claim")
async def claim(page: Page, form: Checked) -> Response:
    """Takes the conversation; only one operator can hold it."""
    return await page.act("claim")


@router.post("/{conv}/reply")
async def reply(page: Page, form: Checked) -> Response:
    """Sends the typed text, or the chosen ready-made reply in the person's language."""
    typed, canned = str(form.get("text") or ""), str(form.get("canned") or "")
    text = reply_text(typed, canned, await page.language())
    if not text:
        return page.back()
    return await page.act("reply", say=text)


@router.post("/{conv}/file")
async def send_file(page: Page, form: Checked, media: MediaDep) -> Response:
    """Sends the person a photo, recording or file, kept like theirs: the type read from the
    bytes, an image without its metadata. A voice message recorded in the browser (`recorded`)
    becomes OGG Opus, as Telegram's voice messages are. LINE takes only photos and recordings
    from a bot. The page says why one is refused."""
    sent = form.get("file")
    if not isinstance(sent, UploadFile):
        return page.back()
    said = Texts(page.session.account.language)
    data = await sent.read()
    try:
        if form.get("recorded") == "1":
            data = await audio.convert(data, "ogg")
        ref = await media.save(page.conv, data)
    except audio.AudioError:
        return await page.show(error=said("file_refused_type"))
    except Refused as refused:
        return await page.show(error=said(f"file_refused_{refused.reason}"))
    channel = (await page.store.conversation(page.conv)).get("channel")
    if channel == LINE and not (ref["mime"] in LINE_IMAGES or ref["kind"] == "audio"):
        return await page.show(error=said("file_refused_line"))
    return await page.act("reply", show=ref)


@router.post("/{conv}/refer")
async def refer(page: Page, form: Checked) -> Response:
    """Asks the person, in their language and with buttons, whether their case may go to the
    chosen partner; nothing is sent before they agree (bot/store/referrals.py)."""
    said = Texts(page.session.account.language)
    partner = await partners.find(page.store.redis, str(form.get("partner") or ""))
    language = await page.language()
    origin = str(form.get("origin") or "")
    if partner is None or language not in LANGUAGES or origin not in ORIGINS:
        return await page.show(error=said("referral_incomplete"))
    needs = tuple(o for o in OFFERS if o in form.getlist("needs"))
    note = str(form.get("note") or "").strip()[:1000]
    asked = referral_words.ask(partner.name, partner.country, partner.offers, language)
    account = page.session.account.name
    referral = await page.store.new_referral(
        page.conv, partner.id, partner.name, partner.country, origin, needs, note, account, asked
    )
    buttons = referral_words.buttons(referral.id, language)
    response = await page.act("reply", say=asked, buttons=buttons)
    await page.store.audit(account, "referral_asked", page.conv, partner.id)
    return response


@router.post("/{conv}/referrals/{referral_id}/withdraw")
async def withdraw_referral(
    page: Page,
    form: Checked,
    referral_id: Annotated[str, PathParam(pattern=r"^[0-9a-f]{10}$")],
) -> Response:
    """The person took their consent back (they told the operator): the referral is called back
    from the partner, which erases it; one not sent yet never leaves. Audited."""
    found = await page.store.referral(page.conv, referral_id)
    if found is None or found.state in (ASKED, NOT_NOW, outbox.REVOKED):
        return page.back()
    await outbox.revoke(page.store, found)
    await page.store.moved(found, outbox.REVOKED, page.session.account.name)
    await page.store.audit(page.session.account.name, "referral_withdrawn", page.conv, found.id)
    return page.back()


@router.post("/{conv}/referrals/{referral_id}/message")
async def message_partner(
    page: Page,
    form: Checked,
    referral_id: Annotated[str, PathParam(pattern=r"^[0-9a-f]{10}$")],
) -> Response:
    """Passes a message to the partner a referral went to (what the person asked to tell it);
    audited."""
    text = str(form.get("text") or "").strip()[:2000]
    found = await page.store.referral(page.conv, referral_id)
    if (
        not text
        or found is None
        or found.state in (ASKED, NOT_NOW, outbox.REVOKED, outbox.TO_PRINT)
    ):
        return page.back()
    await page.store.relayed(found, "us", text)
    payload = {"type": "message", "referral": found.id, "text": text}
    await page.store.post(secrets.token_hex(5), found.partner, payload, {})
    await page.store.audit(page.session.account.name, "referral_message", page.conv, found.id)
    return page.back()


async def _printable(page: ConversationPage, referral_id: str) -> tuple[Any, Any, Any] | None:
    """A referral the person agreed to, its partner, and what it carries; None otherwise."""
    found = await page.store.referral(page.conv, referral_id)
    partner = await partners.find(page.store.redis, found.partner) if found else None
    if found is None or partner is None or (found.consent or {}).get("answer") != "agree":
        return None
    if found.state == outbox.REVOKED:
        return None
    conversation = await page.store.conversation(page.conv)
    handoff = await page.store.handoff(page.conv)
    return found, partner, outbox.referral_payload(found, conversation, handoff, "")


@router.get("/{conv}/referrals/{referral_id}/print")
async def print_referral(
    page: Page,
    settings: SettingsDep,
    referral_id: Annotated[str, PathParam(pattern=r"^[0-9a-f]{10}$")],
) -> HTMLResponse:
    """The referral on one A4 page, in English and the partner's language, to print or save as
    a PDF for a partner without this system; audited."""
    found = await _printable(page, referral_id)
    if found is None or not settings.referral_key:
        return render(page.request, "error.html", {"session": page.session, "key": "gone"}, 404)
    referral, partner, payload = found
    ours = envelopes.public_key(settings.referral_key)
    await page.store.audit(page.session.account.name, "referral_printed", page.conv, referral.id)
    context = {
        "session": page.session,
        "referral": referral,
        "conv": page.conv,
        "sides": referral_print.sides(payload, partner, ours),
    }
    return render(page.request, "referral_print.html", context)


@router.get("/{conv}/referrals/{referral_id}/referral.json")
async def referral_file(
    page: Page,
    settings: SettingsDep,
    referral_id: Annotated[str, PathParam(pattern=r"^[0-9a-f]{10}$")],
) -> Response:
    """The referral as a file signed by this hotline (Ed25519), for a partner without this
    system; audited."""
    found = await _printable(page, referral_id)
    if found is None or not settings.referral_key:
        return render(page.request, "error.html", {"session": page.session, "key": "gone"}, 404)
    referral, _, payload = found
    signed = referral_print.signed_file(referral, payload, settings.referral_key)
    await page.store.audit(page.session.account.name, "referral_printed", page.conv, referral.id)
    name = f"referral-{referral.id}.json"
    headers = {"Content-Disposition": f'attachment; filename="{name}"'}
    body = json.dumps(signed, ensure_ascii=False, indent=2)
    return Response(body, media_type="application/json", headers=headers)


@router.post("/{conv}/translate")
async def translate(page: Page, form: Checked) -> HTMLResponse:
    """A typed reply machine-translated into the person's language, shown for the operator to
    check (and translated back) before it is sent; nothing is sent here."""
    typed = str(form.get("text") or "").strip()[:4000]
    language = await page.language()
    if page.translator is None or not typed or not language:
        return await page.show()
    mine = page.session.account.language
    there = await page.translator.translate(typed, mine, language)
    back = await page.translator.translate(there, language, mine) if there else None
    return await page.show(preview=Preview(typed=typed, translated=there, back=back))


@router.post("/{conv}/note")
async def note(page: Page, form: Checked) -> Response:
    """Adds a private note."""
    text = str(form.get("text") or "").strip()[:4000]
    if text:
        await page.store.add_note(page.conv, page.session.account.name, text)
        await page.store.audit(page.session.account.name, "note", page.conv)
    return page.back()


@router.post("/{conv}/transfer")
async def transfer(page: Page, form: Checked) -> Response:
    """Hands the conversation to another operator."""
    to = str(form.get("to") or "")
    if await accounts.find(page.store.redis, to) is None:
        return page.back()
    return await page.act("transfer", to=to)


@router.post("/{conv}/close")
async def close(page: Page, form: Checked) -> Response:
    """Ends the hand-off: the person is told how to come back, the assistant answers again."""
    text = reply_text("", "", await page.language(), closing=True)
    return await page.act("close", say=text)


@router.post("/{conv}/risk")
async def risk(page: Page, form: Checked) -> Response:
    """Sets the risk: the only way a danger said while handed off is lowered."""
    return await page.act("risk", risk=str(form.get("risk") or ""))
