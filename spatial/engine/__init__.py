"""The screening engine: loaded, normalised inputs in, verdict tables out.

Nothing here reads a file.  The readers (:mod:`spatial.sites`,
:mod:`spatial.zoning`, :mod:`spatial.rules`) run first; :func:`spatial.screen`
chains them with the engine.  One job per module, data flowing down the list:

========================  =====================================================
``prepared``              zoning arrays built once: prepared geometries, labels,
                          per-feature reach, line pieces, unit ban lists
``queries``               bulk spatial queries: (feature, site) pairs touching
                          or within a distance, their measurements
``modes``                 the rule-mode registry: one object per ``mode:`` with
                          its validation and its candidate-pair query
``evaluate``              rules applied to candidate pairs: coded hits and the
                          worst verdict per site (:func:`screen_core`)
``text``                  the Chinese result text (summaries, 涉及/不涉及)
``assemble``              :class:`ScreeningResult` from coded hits
``run``                   chunking and threads around ``evaluate``
``dask``                  the same core on a Dask cluster
========================  =====================================================

Modules are imported on use: ``spatial.rules`` needs only ``modes``.
"""

from __future__ import annotations
