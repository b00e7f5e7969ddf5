"""The console's NGO pages (supervisors only): the registry of the organisations that share the
service."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from bot import ngos
from handoff.pages import PREFIX, Checked, Supervisor, render, store_of


def routes() -> APIRouter:
    """The NGO pages' routes."""
    router = APIRouter(prefix=PREFIX, include_in_schema=False)

    @router.get("/ngos")
    async def ngo_list(request: Request, session: Supervisor, code: str = "") -> HTMLResponse:
        """The NGO registry, with a form to add one or edit `code`."""
        redis = store_of(request).redis
        editing = await ngos.find(redis, code) if code else None
        return render(
            request,
            "ngos.html",
            {"session": session, "ngos": await ngos.everyone(redis), "editing": editing},
        )

    @router.post("/ngos")
    async def ngo_save(request: Request, session: Supervisor, form: Checked) -> Response:
        """Adds or changes an NGO; a wrong field shows the form again, as typed, with why."""
        store = store_of(request)
        fields = {k: str(form.get(k) or "") for k in ("code", "name", "contact", "team")}
        languages = [str(x) for x in form.getlist("languages")]
        try:
            ngo = ngos.parse(languages=languages, **fields)
            await ngos.save(store.redis, ngo)
        except ngos.InvalidNGO as error:
            typed = {**fields, "languages": languages}
            context = {"session": session, "ngos": await ngos.everyone(store.redis)}
            return render(
                request, "ngos.html", {**context, "typed": typed, "error": str(error)}, 400
            )
        await store.audit(session.account.name, "ngo_saved", detail=ngo.code)
        return RedirectResponse(f"{PREFIX}/ngos", status_code=303)

    return router
