"""Settings from CONTESTBELL_* variables, and what the processes say when one is wrong or missing."""

from __future__ import annotations

import os

import pytest

from contestbell.settings import Settings
from tests.processes import contestbell, contestbell_env


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch):
    for name in os.environ:
        if name.startswith("CONTESTBELL_"):
            monkeypatch.delenv(name)


def test_defaults_are_the_embedded_ones():
    settings = Settings()
    assert settings.database_url == "sqlite://var/contestbell.sqlite3"
    assert settings.redis_url is None and settings.fetch_via is None and settings.public_url is None
    assert (settings.http_host, settings.http_port) == ("127.0.0.1", 8080)
    assert settings.site_selection() is None


@pytest.mark.parametrize(("value", "selection"), [
    ("all", None), ("", None), ("none", []), ("NONE", []), ("codeforces", ["codeforces"]),
    ("codeforces, atcoder,", ["codeforces", "atcoder"]),
])
def test_site_selection(monkeypatch, value, selection):
    monkeypatch.setenv("CONTESTBELL_SITES", value)
    assert Settings().site_selection() == selection


def test_empty_optional_urls_mean_unset(monkeypatch):
    monkeypatch.setenv("CONTESTBELL_REDIS_URL", "")
    monkeypatch.setenv("CONTESTBELL_FETCH_VIA", "")
    assert Settings().redis_url is None and Settings().fetch_via is None


def test_sqlite_path_only_for_sqlite_files(monkeypatch):
    assert str(Settings().sqlite_path()) == "var/contestbell.sqlite3"
    monkeypatch.setenv("CONTESTBELL_DATABASE_URL", "postgres://u@h/db")
    assert Settings().sqlite_path() is None


@pytest.mark.parametrize(("args", "settings", "message"), [
    (["worker"], {}, "`contestbell worker` needs CONTESTBELL_REDIS_URL"),
    (["scheduler"], {}, "`contestbell scheduler` needs CONTESTBELL_REDIS_URL"),
    (["fetch", "nosuchsite"], {}, "unknown site 'nosuchsite'"),
    (["sites"], {"http_port": "99999"}, "bad setting CONTESTBELL_HTTP_PORT"),
])
def test_processes_refuse_bad_settings_in_one_line(args, settings, message, tmp_path):
    result = contestbell(*args, env=contestbell_env(database_url=f"sqlite://{tmp_path}/x.sqlite3", **settings))
    assert result.returncode == 2, result
    assert message in result.stderr and "Traceback" not in result.stderr


def test_run_with_an_unknown_site_in_the_selection_refuses_to_start(tmp_path):
    result = contestbell("run", env=contestbell_env(database_url=f"sqlite://{tmp_path}/x.sqlite3",
                                                    sites="codeforces,nosuchsite"))
    assert result.returncode == 2
    assert "unknown site 'nosuchsite'" in result.stderr
