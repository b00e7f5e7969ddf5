"""What every console page shares: where the console is mounted and how a page is rendered."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from handoff.sessions import Session
from handoff.views import Texts

HERE = Path(__file__).parent
PREFIX = "/console"
TEMPLATES = Jinja2Templates(directory=HERE / "templates")


def render(request: Request, name: str, context: dict[str, Any], status: int = 200) -> HTMLResponse:
    """A console template, in the signed-in user's language (English before sign-in)."""
    session: Session | None = context.get("session")
    language = session.account.language if session else "en"
    return TEMPLATES.TemplateResponse(
        request, name, {"t": Texts(language), "prefix": PREFIX, **context}, status_code=status
    )
