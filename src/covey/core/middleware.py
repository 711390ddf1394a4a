"""Refuse input the database cannot store faithfully before any view sees it.

PostgreSQL rejects NUL bytes in text, which would otherwise surface as a 500 halfway through a
write; we answer 400 with a message instead, on every route, for both the form and the JSON API.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse

NUL_MARKERS = (b"\x00", b"%00", b"\\u0000")


def _bad_request(request: HttpRequest, message: str) -> HttpResponse:
    if request.path.startswith("/api/"):
        return JsonResponse({"code": "bad_input", "detail": message}, status=400)
    return HttpResponse(message, status=400, content_type="text/plain; charset=utf-8")


def _too_large(request: HttpRequest) -> HttpResponse:
    message = "The request is larger than this server accepts."
    if request.path.startswith("/api/"):
        return JsonResponse({"code": "too_large", "detail": message}, status=413)
    return HttpResponse(message, status=413, content_type="text/plain; charset=utf-8")


class RejectBadInputMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        query = request.META.get("QUERY_STRING", "").encode()
        if any(m in query for m in NUL_MARKERS[:2]) or "\x00" in request.path:
            return _bad_request(request, "The address contains a NUL character, which is not allowed.")
        content_type = request.META.get("CONTENT_TYPE", "")
        if request.method in {"POST", "PUT", "PATCH"} and not content_type.startswith("multipart/"):
            # Reading body here respects DATA_UPLOAD_MAX_MEMORY_SIZE (Django answers 400 when over).
            try:
                body = request.body
            except Exception:  # RequestDataTooBig and friends
                return _too_large(request)
            if any(m in body for m in NUL_MARKERS):
                return _bad_request(request, "The input contains a NUL character, which is not allowed.")
        elif content_type.startswith("multipart/"):
            try:
                values = [v for vs in request.POST.lists() for v in vs[1]]
            except Exception:
                return _bad_request(request, "The upload could not be read.")
            if any("\x00" in v for v in values):
                return _bad_request(request, "The input contains a NUL character, which is not allowed.")
        return self.get_response(request)
