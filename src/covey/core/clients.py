"""Where a request comes from: the client's IP address and user agent, for signatures and rate limits.

Behind a reverse proxy (``BEHIND_PROXY``, which sets ``SECURE_PROXY_SSL_HEADER``) every request
arrives from the proxy, so the client is the last address the proxy appended to
``X-Forwarded-For``; earlier entries are whatever the client claimed and are not trusted.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest

USER_AGENT_MAX = 400


def _ip(value: str) -> str | None:
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        return None


def client_ip(request: HttpRequest) -> str | None:
    if getattr(settings, "SECURE_PROXY_SSL_HEADER", None):
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        if forwarded:
            return _ip(forwarded.split(",")[-1])
    return _ip(request.META.get("REMOTE_ADDR", ""))


def user_agent(request: HttpRequest) -> str:
    return request.META.get("HTTP_USER_AGENT", "")[:USER_AGENT_MAX]
