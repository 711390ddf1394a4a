"""Structured logs: the request id, the access line, and JSON lines under COVEY_LOG_FORMAT=json."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys

import pytest
from django.test import Client

from covey.core.logs import JsonFormatter, request_id_from


class Lines(logging.Handler):
    """Every record logged anywhere, formatted as the JSON format would write it."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.setFormatter(JsonFormatter())
        self.lines: list[dict] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(json.loads(self.format(record)))


@pytest.fixture
def lines(settings):
    settings.ACCESS_LOG = True
    handler = Lines()
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    yield handler.lines
    root.removeHandler(handler)
    root.setLevel(old_level)


def test_each_request_gets_an_id_and_one_access_line(cast, lines):
    from covey.core.models import ApiToken

    key = ApiToken.issue(user=cast.a_rep, name="logs")[1]
    response = Client().get("/api/me", headers={"authorization": f"Bearer {key}"})
    assert response.status_code == 200
    request_id = response["X-Request-ID"]
    assert len(request_id) == 32
    (access,) = [line for line in lines if line["logger"] == "covey.access"]
    assert access["request_id"] == request_id
    assert (access["method"], access["path"], access["status"], access["level"]) == ("GET", "/api/me", 200, "INFO")
    assert access["user"] == cast.a_rep.public_id and isinstance(access["duration_ms"], float)
    assert access["message"].startswith("GET /api/me 200 ") and access["time"].endswith("+00:00")

    other = Client().get("/api/me", headers={"authorization": f"Bearer {key}"})
    assert other["X-Request-ID"] != request_id


def test_without_access_log_there_is_no_access_line_but_the_request_still_has_its_id(cast, lines, settings):
    settings.ACCESS_LOG = False
    response = Client().get("/api/no-such-thing")
    assert response.status_code == 404 and len(response["X-Request-ID"]) == 32
    assert not [line for line in lines if line["logger"] == "covey.access"]
    assert [line for line in lines if line.get("request_id") == response["X-Request-ID"]]  # Django's 404 line


def test_lines_logged_during_a_request_carry_its_id(db, lines):
    response = Client().get("/api/no-such-thing", headers={"x-request-id": "proxy-1234-abcd"})
    assert response.status_code == 404 and response["X-Request-ID"] == "proxy-1234-abcd"
    mine = [line for line in lines if line.get("request_id") == "proxy-1234-abcd"]
    assert {line["logger"] for line in mine} >= {"django.request", "covey.access"}  # the 404 warning and the access line
    assert all("user" not in line for line in mine)  # nobody signed in
    assert all(line["path"] == "/api/no-such-thing" for line in mine)


def test_the_web_pages_are_logged_with_the_signed_in_user(login, cast, lines):
    response = login(cast.vendor_admin).get("/")
    assert response.status_code == 200
    (access,) = [line for line in lines if line["logger"] == "covey.access"]
    assert access["user"] == cast.vendor_admin.public_id and access["request_id"] == response["X-Request-ID"]


@pytest.mark.pure
@pytest.mark.parametrize("sent", ["short", "has spaces in it", "x" * 129, "semi;colon;1234", "new\nline12345"])
def test_a_malformed_client_request_id_is_replaced(sent):
    assert request_id_from(sent) != sent and len(request_id_from(sent)) == 32


@pytest.mark.pure
def test_a_well_formed_client_request_id_is_kept():
    for sent in ("01HZX3V9Q2N4M5P6R7S8T9V0WX", "0f8fad5b-d9cb-469f-a165-70867728950e", "req:42.abcdef"):
        assert request_id_from(sent) == sent


@pytest.mark.pure
def test_an_exception_is_one_json_line():
    try:
        raise ValueError("boom")
    except ValueError:
        record = logging.LogRecord("covey.x", logging.ERROR, __file__, 1, "failed %s", ("here",), sys.exc_info())
    line = JsonFormatter().format(record)
    assert "\n" not in line
    parsed = json.loads(line)
    assert parsed["message"] == "failed here" and "ValueError: boom" in parsed["exception"]
    assert "request_id" not in parsed  # outside a request


def _settings_process(log_format: str) -> subprocess.CompletedProcess:
    code = (
        "import django, logging; django.setup(); "
        "logging.getLogger('covey.test').warning('hello %s', 'there')"
    )
    env = {**os.environ, "COVEY_LOG_FORMAT": log_format, "DJANGO_SETTINGS_MODULE": "covey.settings"}
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)


@pytest.mark.pure
def test_the_setting_switches_every_line_to_json_and_text_stays_the_default():
    done = _settings_process("json")
    assert done.returncode == 0, done.stderr
    (line,) = [json.loads(text) for text in done.stderr.splitlines() if text.strip()]
    assert line["message"] == "hello there" and line["level"] == "WARNING" and line["logger"] == "covey.test"

    text = _settings_process("text")
    assert text.returncode == 0 and text.stderr.strip() == "hello there"

    wrong = _settings_process("xml")
    assert wrong.returncode != 0 and "COVEY_LOG_FORMAT" in wrong.stderr
