"""``ecozone serve``: the screening engine as a local or intranet web app.

Layout (data flows one way: request → upload checks → job record → worker →
result files → pages and JSON):

* :mod:`spatial.serve.settings` -- what the operator chose (host, data dir, db, limits);
* :mod:`spatial.serve.store` -- SQLAlchemy records: users, jobs, sites, zoning versions;
* :mod:`spatial.serve.auth` -- password hashes (argon2), sessions, CSRF, the API token;
* :mod:`spatial.serve.uploads` -- size limit, safe zip extraction, content sniffing;
* :mod:`spatial.serve.worker` -- the bounded pool and what a job does (screen, write files);
* :mod:`spatial.serve.app` -- routes: Chinese pages, the JSON API, errors.
"""

from __future__ import annotations

from spatial.serve.app import app_from_env, create_app
from spatial.serve.settings import ServeSettings

__all__ = ["create_app", "app_from_env", "ServeSettings"]
