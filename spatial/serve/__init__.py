"""``ecozone serve``: the screening engine as a local or intranet web app.

Layout (data flows one way: request → upload checks → job record → worker →
result files → pages and JSON):

* :mod:`spatial.serve.settings` -- what the operator chose (host, allowed hosts, data dir, db, limits);
* :mod:`spatial.serve.store` -- SQLAlchemy records: users, logins, jobs (state by compare-and-set), sites, zoning versions;
* :mod:`spatial.serve.auth` -- password hashes (argon2), constant-time login, throttling, CSRF, the API token;
* :mod:`spatial.serve.uploads` -- size limit, safe zip extraction, content sniffing;
* :mod:`spatial.serve.worker` -- the bounded pool (workers end with their server) and what a job does;
* :mod:`spatial.serve.deps` -- FastAPI dependencies: settings, store, pool, current user, CSRF;
* :mod:`spatial.serve.actions` -- what routes do: queue a job, take a zoning package, recover at start;
* :mod:`spatial.serve.views` -- what pages and JSON show (server paths removed);
* :mod:`spatial.serve.models` -- Pydantic response models of the JSON API;
* :mod:`spatial.serve.handlers` -- error handlers and security headers;
* :mod:`spatial.serve.routers` -- one ``APIRouter`` per resource: auth, pages, screenings, zoning;
* :mod:`spatial.serve.app` -- ``create_app`` assembles them.

Adding a web route: put it in the router of its resource, declare what it
needs from :mod:`~spatial.serve.deps`, give a JSON route a model from
:mod:`~spatial.serve.models`, and put any work beyond parsing in
:mod:`~spatial.serve.actions`.
"""

from __future__ import annotations

from spatial.serve.app import app_from_env, create_app
from spatial.serve.settings import ServeSettings

__all__ = ["create_app", "app_from_env", "ServeSettings"]
