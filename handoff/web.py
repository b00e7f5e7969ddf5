"""The web process: the gateway (webhooks, web chat) with the operator console at /console.

Run: .venv/bin/python -m handoff.web  (make run does it).
"""

from __future__ import annotations

from bot.app import create_app, serve
from bot.settings import start_process
from handoff import console, pages
from handoff.translation import Translator


def main() -> None:
    """Reads the settings and serves the gateway and the console."""
    settings = start_process("web")
    app = create_app(settings)
    translator = Translator(settings.translate_url, settings.translate_api_key)
    console.install(app, translator if settings.translate_url else None)
    base = f"http://{settings.host}:{settings.port}"
    print(f"== Web chat: {base}/   Operator console: {base}{pages.PREFIX}", flush=True)  # noqa: T201
    serve(app, settings)


if __name__ == "__main__":
    main()
