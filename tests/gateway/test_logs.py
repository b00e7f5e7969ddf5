"""Logs never hold what people wrote, their names or their channel ids: marked messages go down
every path, failures included, and every log of the stack is read."""

from __future__ import annotations

import httpx

from tests.gateway.conftest import Stack
from tests.gateway.test_line import LineUser
from tests.gateway.test_pipeline import Page
from tests.gateway.test_telegram import Chat, wait_for

MARK = "Zqx7marked"


def test_no_log_holds_message_text_names_or_channel_ids(stack: Stack) -> None:
    page = Page(stack)
    page.say(f"นายจ้างยึดพาสปอร์ต {MARK}a")
    page.say(f"/{MARK}b")  # an unknown command
    page.say("ok " * 2000 + f"{MARK}c")  # cut
    page.say(f"ขอคุยกับเจ้าหน้าที่ {MARK}d")  # hand-off

    chat = Chat(stack)
    chat.id = 955_555_555
    update = stack.telegram.text_update(chat.id, f"ช่วยด้วย {MARK}f")
    person = {"username": f"{MARK}user", "first_name": f"{MARK}first"}
    update["message"]["from"].update(person)
    update["message"]["chat"].update(person)
    stack.telegram.too_many["sendMessage"] = 1  # Telegram refuses once: the retry path
    chat.send(update, 2)
    chat.say(f"/forget {MARK}g")

    line = LineUser(stack)
    line.say(f"สวัสดี {MARK}h")
    forged = f'{{"events": [{{"message": {{"text": "{MARK}i"}}}}]}}'.encode()
    refused = httpx.post(
        f"{stack.url}/line/webhook", content=forged, headers={"X-Line-Signature": "x"}
    )
    assert refused.status_code == 400
    wait_for(stack.telegram, chat.id, 3)
    # Everything said above handled and answered: what the processes log of it is logged.
    for conv in (stack.conv(page.client), chat.conv, line.conv):
        stack.handled(conv)

    logs = {path.name: path.read_text(errors="replace") for path in stack.logs.glob("*.log")}
    assert {"bot.log", "actions.log"} <= logs.keys() and any(n.startswith("rasa") for n in logs)
    for name, text in logs.items():
        for secret in (MARK, str(chat.id), line.id):
            assert secret not in text, f"{name} holds {secret}"
