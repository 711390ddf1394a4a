"""Access rows for personal API tokens over the API (the contract is in tests/access_rows/__init__.py).

Tokens are personal: everyone signed in lists and creates their own, and another person's token
does not exist for them (404), whoever they are. The settings page is in the core's web matrix.
"""

from __future__ import annotations

WEB_ROUTES: dict = {}

EVERYONE = (200,) * 11
#                                                                   admin  pm   pm2  rep  fin  exec a_adm a_rep a_ro b_adm b_rep
API_TABLE: list[tuple] = [
    ("list my tokens", "GET", "/api/tokens", None,                  EVERYONE),
    ("create a token", "POST", "/api/tokens", {"name": "Sync", "scope": "read"}, (201,) * 11),
    ("revoke A rep's token", "DELETE", "/api/tokens/{token_a}", None, (404, 404, 404, 404, 404, 404, 404, 204, 404, 404, 404)),
]
API_LISTS: list[str] = []


def build(world) -> None:
    from covey.core.models import ApiToken

    world.token_a, world.token_a_key = ApiToken.issue(user=world.a_rep, name="A rep's sync", scope="read")


def ids(world) -> dict[str, str]:
    return {"token_a": world.token_a.public_id}


def secrets(world) -> list[str]:
    return [world.token_a_key]


def state():
    from covey.core.models import ApiToken

    return list(ApiToken.objects.filter(name="A rep's sync").values_list("public_id", "revoked_at"))
