"""Typed readers for settings that come from environment variables.

Each reader fails loudly, naming the variable, when a value cannot be understood: a typo in a
deployment should stop the process at start-up, not surface as odd behaviour weeks later.
"""

from __future__ import annotations

import os
from pathlib import Path


class ImproperlyConfiguredEnv(RuntimeError):
    """An environment variable holds a value Covey cannot use."""


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfiguredEnv(f"{name}={raw!r} is not a boolean; use one of 1/0, true/false, yes/no, on/off")


def env_int(name: str, default: int, *, minimum: int | None = None) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfiguredEnv(f"{name}={raw!r} is not a whole number") from None
    if minimum is not None and value < minimum:
        raise ImproperlyConfiguredEnv(f"{name}={value} must be at least {minimum}")
    return value


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_choice(name: str, default: str, choices: tuple[str, ...]) -> str:
    value = os.environ.get(name, default).strip().lower()
    if value not in choices:
        raise ImproperlyConfiguredEnv(f"{name}={value!r} must be one of: {', '.join(choices)}")
    return value


def secret_key(*, production: bool, var_dir: Path) -> str:
    """The secret key from SECRET_KEY or SECRET_KEY_FILE; in development, a generated key kept in var/.

    Production refuses to start without one, because a key that changes on restart silently logs
    everybody out and invalidates password-reset links.
    """
    if value := os.environ.get("SECRET_KEY"):
        return value
    if path := os.environ.get("SECRET_KEY_FILE"):
        try:
            value = Path(path).read_text().strip()
        except OSError as exc:
            raise ImproperlyConfiguredEnv(f"SECRET_KEY_FILE={path!r} cannot be read: {exc}") from None
        if len(value) < 32:
            raise ImproperlyConfiguredEnv(f"SECRET_KEY_FILE={path!r} holds fewer than 32 characters")
        return value
    if production:
        raise ImproperlyConfiguredEnv("COVEY_ENV=production needs SECRET_KEY or SECRET_KEY_FILE")
    key_file = var_dir / "secret_key"
    if not key_file.exists():
        import secrets

        var_dir.mkdir(parents=True, exist_ok=True)
        key_file.write_text(secrets.token_urlsafe(50))
        key_file.chmod(0o600)
    return key_file.read_text().strip()
