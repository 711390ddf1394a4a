"""Each feature's rows of the access tables, one module per feature.

A module here defines:

- ``WEB_ROUTES``: ``{url_name: Route(...)}``, rows of the web matrix (see ``tests/matrix.py``).
- ``API_TABLE``: rows like ``tests/test_api_access.py``'s TABLE:
  ``(name, method, path, body, (status for each of ROLES))``; ``{placeholder}`` in path and body is
  filled from ``ids(world)`` merged with the core's ids.
- ``API_LISTS``: list endpoints partner B must never see partner A's objects in.
- ``build(world)``: adds the feature's objects for partner A (and B) to the ``full_world`` fixture.
- ``ids(world)``: ``{placeholder: public_id}`` for the API rows.
- ``secrets(world)``: strings only people entitled to partner A's data may ever see.
- ``state()``: a value that changes whenever a request changes this feature's data (for "a
  refused request changes nothing").
"""
