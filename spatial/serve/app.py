"""``create_app``: the ASGI app of ``ecozone serve``, assembled from its parts.

Pages: 新建筛查 ``/``, 结果 ``/screenings/{id}``, 历史 ``/history``,
分区数据 ``/zoning``.  API: ``/api/screenings``, ``/api/zoning``; OpenAPI
docs at ``/docs`` and the schema at ``/openapi.json``, both behind the login
(Swagger UI served from the vendored files).  The routes live in
:mod:`spatial.serve.routers`, their dependencies in :mod:`spatial.serve.deps`.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from importlib import resources
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.middleware.sessions import SessionMiddleware
from starlette.middleware.trustedhost import TrustedHostMiddleware

from layers import REGISTRY
from layers.control_unit import CATEGORY_ZH
from spatial._version import __version__
from spatial.project_types import label_zh as type_zh
from spatial.serve import handlers, mapkey, views
from spatial.serve.actions import mark_interrupted, register_local_zoning
from spatial.serve.auth import LoginThrottle
from spatial.serve.routers import ROUTERS
from spatial.serve.settings import ServeSettings
from spatial.serve.store import SESSION_HOURS, Store
from spatial.serve.uploads import KIND_ZH, BodyLimitMiddleware
from spatial.serve.worker import WorkerPool

__all__ = ["create_app", "app_from_env"]

_HERE = Path(__file__).parent


def templates() -> Jinja2Templates:
    """Return the page templates with the vocabulary they share."""
    t = Jinja2Templates(directory=str(_HERE / "templates"))
    names = ("VERDICT_ZH", "VERDICT_ORDER", "STATUS_ZH", "VERSION_STATUS_ZH")
    from spatial.completeness import incomplete_findings

    t.env.globals.update({n: getattr(views, n) for n in names}, KIND_ZH=KIND_ZH, version=__version__, incomplete_findings=incomplete_findings)
    # Chinese names where the data carries identifiers: layers from their LayerSpec, unit categories from layers/control_unit.
    t.env.globals.update(LAYER_ZH={name: spec.label_zh for name, spec in REGISTRY.items()}, CATEGORY_ZH=CATEGORY_ZH, TYPE_ZH=type_zh)
    # The result map's key: verdict symbols, their legend and the red line's hatch, as map.html draws them.
    t.env.globals.update(
        MARKERS=mapkey.verdict_markers(), VERDICT_LEGEND=mapkey.verdict_legend_html(), HATCH_DEFS=mapkey.HATCH_DEFS,
        MAX_LABELLED_SITES=mapkey.MAX_LABELLED_SITES, LABEL_NAMES_ZOOM=mapkey.LABEL_NAMES_ZOOM,
    )  # fmt: skip
    return t


def create_app(settings: ServeSettings) -> FastAPI:
    """Build the ASGI app for ``settings``.

    Parameters
    ----------
    settings : ServeSettings
        Data dir, database, host, limits.

    Returns
    -------
    FastAPI
        The app (run it with uvicorn; the lifespan starts and stops the pool).
    """
    settings.ensure_dirs()
    store = Store(settings.db_url)  # type: ignore[arg-type]
    store.create_schema()
    # --no-workers: screenings wait in the queue for `ecozone worker`; a thread validates uploads and draws map layers.
    pool = WorkerPool(1, "thread") if settings.no_workers else WorkerPool(settings.workers, settings.pool)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        register_local_zoning(store, settings.zoning, settings.data_dir)
        mark_interrupted(store)
        try:
            yield
        finally:
            await asyncio.to_thread(pool.shutdown)
            store.close()

    description = "生态环境分区管控符合性筛查 Web 服务。/ Ecological zoning screening service."
    app = FastAPI(title="ecozone serve", version=__version__, description=description, docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan)
    app.state.settings, app.state.store, app.state.pool = settings, store, pool
    app.state.templates = templates()
    app.state.login_throttle = LoginThrottle(base=settings.login_delay_s)
    handlers.install(app)
    cookie = {"session_cookie": "ecozone_session", "max_age": SESSION_HOURS * 3600, "same_site": "lax", "https_only": bool(settings.cookie_secure)}
    app.add_middleware(SessionMiddleware, secret_key=settings.session_secret(), **cookie)  # type: ignore[arg-type]
    app.add_middleware(BodyLimitMiddleware, limit=settings.max_upload_bytes)
    app.add_middleware(TrustedHostMiddleware, allowed_hosts=settings.trusted_hosts(), www_redirect=False)  # outermost: DNS rebinding
    app.mount("/static", StaticFiles(directory=str(_HERE / "static")), name="static")
    app.mount("/vendor", StaticFiles(directory=str(resources.files("maps").joinpath("vendor"))), name="vendor")
    for router in ROUTERS:
        app.include_router(router)
    return app


def app_from_env() -> FastAPI:
    """App factory for ``uvicorn spatial.serve:app_from_env --factory --workers N`` (settings from ``ECOZONE_*``)."""
    return create_app(ServeSettings.from_env())
