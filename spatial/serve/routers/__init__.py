"""The routes of ``ecozone serve``, one router per resource.

* :mod:`.auth` -- ``/login``, ``/logout``;
* :mod:`.pages` -- the Chinese pages (新建筛查, 结果, 历史, 分区数据) and the API docs;
* :mod:`.screenings` -- ``/api/screenings``;
* :mod:`.zoning` -- ``/api/zoning``;
* :mod:`.check` -- ``/api/check`` (instant checks, no job).
"""

from __future__ import annotations

from spatial.serve.routers import auth, check, pages, screenings, zoning

__all__ = ["ROUTERS"]

#: Included by :func:`spatial.serve.app.create_app`, in this order.
ROUTERS = (auth.router, pages.router, screenings.router, zoning.router, check.router)
