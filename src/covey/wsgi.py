"""The WSGI application, as production servers (``covey serve``: Granian) load it.

Two things happen at load time rather than on the first request. The URL configuration is
resolved, which imports every view, API router and schema, so the first requests of each worker
are not slower than the rest. Then everything loaded so far is moved out of reach of Python's cyclic
garbage collector (``gc.freeze``): those hundreds of thousands of module-level objects live as long
as the process, yet every full collection would walk them all again. Timed with a GC probe in the
servers of ``covey bench registrations``: full collections took 20–160 ms each without the freeze
(each one a latency spike for the requests its worker held), 1–18 ms with it.
"""

from __future__ import annotations

import gc
import os

from django.core.wsgi import get_wsgi_application
from django.urls import get_resolver

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "covey.settings")
application = get_wsgi_application()
get_resolver().url_patterns  # noqa: B018 - imports every view and API router now
gc.collect()  # what start-up left as garbage goes now, not frozen forever
gc.freeze()
