"""Settings come from the environment and fail loudly on values they cannot use."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys

import pytest

from covey.env import ImproperlyConfiguredEnv, env_bool, env_choice, env_int, env_list


def test_env_readers_parse_good_values(monkeypatch):
    monkeypatch.setenv("X_BOOL", "yes")
    monkeypatch.setenv("X_INT", "42")
    monkeypatch.setenv("X_LIST", "a.example, b.example,")
    assert env_bool("X_BOOL", False) is True
    assert env_int("X_INT", 1) == 42
    assert env_list("X_LIST", []) == ["a.example", "b.example"]
    assert env_bool("X_MISSING", True) is True


@pytest.mark.parametrize(
    "reader, value, message",
    [
        (lambda: env_bool("X", False), "maybe", "not a boolean"),
        (lambda: env_int("X", 1), "ten", "not a whole number"),
        (lambda: env_int("X", 1, minimum=5), "3", "at least 5"),
        (lambda: env_choice("X", "a", ("a", "b")), "c", "must be one of"),
    ],
)
def test_env_readers_name_the_variable_when_a_value_is_bad(monkeypatch, reader, value, message):
    monkeypatch.setenv("X", value)
    with pytest.raises(ImproperlyConfiguredEnv, match=message):
        reader()


def _covey(*args, **env):
    base = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "SECRET_KEY", "COVEY_ENV", "DEBUG", "DJANGO_ALLOW_ASYNC_UNSAFE"}}
    return subprocess.run(
        [sys.executable, "-m", "covey.cli", *args], capture_output=True, text=True, env={**base, **env}, timeout=120,
    )


def test_production_refuses_to_start_without_a_secret_key(tmp_path):
    result = _covey("manage", "check", COVEY_ENV="production", COVEY_VAR_DIR=str(tmp_path))
    assert result.returncode == 2
    assert "needs SECRET_KEY or SECRET_KEY_FILE" in result.stderr


def test_production_mode_passes_the_deployment_checklist(tmp_path):
    key_file = tmp_path / "key"
    key_file.write_text(secrets.token_urlsafe(50))
    result = _covey(
        "manage", "check", "--deploy", "--fail-level", "WARNING",
        COVEY_ENV="production", SECRET_KEY_FILE=str(key_file), ALLOWED_HOSTS="covey.example.com",
        COVEY_VAR_DIR=str(tmp_path),
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout
