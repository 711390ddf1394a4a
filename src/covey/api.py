"""The REST API: one NinjaAPI mounting each app's router. OpenAPI docs at /api/docs."""

from __future__ import annotations

from ninja import NinjaAPI

api = NinjaAPI(title="Covey API", version="1", urls_namespace="api")
