"""Metrics, dashboards and logs of real processes (issue 13, items 4 and 5): `contestbell web`, `worker` and
`scheduler` serve /metrics that Debian's `promtool check metrics` accepts, holding every metric the Grafana dashboard
and the alert rules query; `promtool check config` accepts the Prometheus config; with CONTESTBELL_LOG_FORMAT=json
every line a process writes parses back as a JSON object with its context.

Without promtool these tests are skipped, or fail under CI=true (`./dev test` installs Debian's prometheus)."""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import aiohttp
import pytest
import yaml
from aiohttp.test_utils import TestServer
from prometheus_client.parser import text_string_to_metric_families

from models.account import Account, TelegramChat
from models.contest import Contest, Site
from tests.fake_telegram import TOKEN, FakeTelegram
from tests.processes import REPO, contestbell_env, free_port, healthz_answers, running, wait_until
from tests.replay import Replay

OBSERVABILITY = REPO / "observability"
DASHBOARD = OBSERVABILITY / "grafana" / "dashboards" / "contestbell.json"
ALERTS = OBSERVABILITY / "alerts.yml"
OUR_METRIC = re.compile(r"\bcontestbell_[a-zA-Z0-9_]+")
#: what the test's processes do not go through (no SMTP server here), so only their declaration is checked
NOT_EXERCISED = {"contestbell_emails_sent_total", "contestbell_smtp_failures_total"}
SUFFIXES = {"counter": ("_total",), "histogram": ("_bucket", "_sum", "_count"), "summary": ("_sum", "_count"),
            "gauge": ("",), "untyped": ("",), "info": ("_info",)}
#: a site that answers and one that fails (outcome "http 500")
FETCHED, BROKEN = "leetcode", "codeforces"
BROKEN_ROUTE = "codeforces.com/api/contest.list"
LOG_FIELDS = ("time", "level", "logger", "message")


def promtool() -> str:
    found = shutil.which("promtool")
    if found is None:
        message = "promtool is not installed (Debian's prometheus package)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return found


def promtool_check(*args: str, given: str | None = None) -> None:
    done = subprocess.run([promtool(), "check", *args], input=given, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr


def declared(exposition: str) -> set[str]:
    """The sample names each metric of an exposition stands for, whether or not it has samples yet."""
    return {family.name + suffix for family in text_string_to_metric_families(exposition)
            for suffix in SUFFIXES[family.type]}


def sampled(exposition: str) -> set[str]:
    return {sample.name for family in text_string_to_metric_families(exposition) for sample in family.samples}


def sample(exposition: str, name: str, **labels: str) -> float | None:
    for family in text_string_to_metric_families(exposition):
        for found in family.samples:
            if found.name == name and found.labels == labels:
                return found.value
    return None


def dashboard_exprs() -> Iterator[str]:
    """The PromQL of every Prometheus panel of the dashboard (Loki's queries are not metrics)."""
    for panel in json.loads(DASHBOARD.read_text())["panels"]:
        for target in panel.get("targets", []):
            if (target.get("datasource") or panel.get("datasource") or {}).get("type") == "prometheus":
                yield target["expr"]


def alert_exprs() -> Iterator[str]:
    for group in yaml.safe_load(ALERTS.read_text())["groups"]:
        for rule in group["rules"]:
            yield rule["expr"]


def queried() -> set[str]:
    names = {name for expr in [*dashboard_exprs(), *alert_exprs()] for name in OUR_METRIC.findall(expr)}
    assert len(names) >= 15, names  # the dashboard and the rules were read
    return names


async def get_text(url: str) -> str | None:
    try:
        async with aiohttp.ClientSession() as session, session.get(url) as response:
            return await response.text() if response.status == 200 else None
    except aiohttp.ClientError:
        return None


async def one_late_reminder() -> None:
    """One account in one Telegram chat, reminded 10 minutes before a contest whose reminder fell due 70 s ago: the
    scheduler sends it at once, more than a minute late."""
    account = await Account.create(sites=[BROKEN], reminder_offsets=[600])
    await TelegramChat.create(chat_id=4242, account_id=account.id, chat_type="private")
    start = datetime.now(UTC) + timedelta(seconds=600 - 70)
    await Contest.create(site_id=BROKEN, key="9999", title="Codeforces Round 9999", url="https://codeforces.com",
                         start=start, end=start + timedelta(hours=2), duration=7200)


async def fetched_one_and_failed_the_other() -> bool:
    return await Site.filter(slug=FETCHED, last_success__isnull=False).exists() and \
        await Site.filter(slug=BROKEN, consecutive_failures__gte=1).exists()


async def scrape(port: int) -> str | None:
    return await get_text(f"http://127.0.0.1:{port}/metrics")


async def scrape_once_the_reminder_is_counted(port: int) -> str | None:
    """The reminder's sent-log row is settled right after Telegram answers: scrape until it is counted."""
    for _ in range(50):
        exposition = await scrape(port)
        if exposition and sample(exposition, "contestbell_deliveries_total", channel="telegram", kind="reminder",
                                 status="sent"):
            break
        await asyncio.sleep(0.1)
    return exposition


@pytest.mark.split
async def test_metrics_of_web_worker_and_scheduler_pass_promtool_and_hold_what_dashboard_and_alerts_query(
        db, redis_url, tmp_path):
    promtool()
    await one_late_reminder()
    replay, telegram = Replay(), FakeTelegram()
    replay.break_route(BROKEN_ROUTE, "500")
    telegram.fail_next("sendMessage", 429, "Too Many Requests: retry after 1", retry_after=1)
    web_port, worker_port, scheduler_port = free_port(), free_port(), free_port()
    log = tmp_path / "processes.log"
    async with TestServer(replay.app, host="127.0.0.1") as mirror, TestServer(telegram.app, host="127.0.0.1") as api:
        common = dict(database_url=db, redis_url=redis_url, fetch_via=str(mirror.make_url("")), keep_past_days="36500",
                      sites=f"{FETCHED},{BROKEN}", fetch_timeout="1")
        bot = dict(telegram_token=TOKEN, telegram_api_base=str(api.make_url("")).rstrip("/"))
        with running("web", env=contestbell_env(**common, http_port=str(web_port)), log=log), \
                running("worker", env=contestbell_env(**common, metrics_port=str(worker_port)), log=log), \
                running("scheduler", env=contestbell_env(**common, **bot, metrics_port=str(scheduler_port)), log=log):
            await wait_until(fetched_one_and_failed_the_other, 60, "a fetch of each site")
            await telegram.wait_for(count=2, timeout=30)  # the 429, then the reminder
            await wait_until(lambda: healthz_answers(web_port), 30, "the web process")
            await get_text(f"http://127.0.0.1:{web_port}/healthz?token=abc")
            scraped = {"web": await scrape(web_port), "worker": await scrape(worker_port),
                       "scheduler": await scrape_once_the_reminder_is_counted(scheduler_port)}
    assert all(scraped.values()), (scraped, log.read_text())
    for exposition in scraped.values():
        promtool_check("metrics", given=exposition)

    everything = "".join(scraped.values())
    missing = queried() - declared(everything)
    assert not missing, f"the dashboard or the alerts query metrics no process serves: {sorted(missing)}"
    unseen = queried() - sampled(everything) - NOT_EXERCISED
    assert not unseen, f"no samples of {sorted(unseen)}"

    worker, scheduler, web = scraped["worker"], scraped["scheduler"], scraped["web"]
    assert sample(worker, "contestbell_fetches_total", site=FETCHED, outcome="ok") >= 1
    assert sample(worker, "contestbell_fetches_total", site=BROKEN, outcome="http 500") >= 1
    assert sample(scheduler, "contestbell_deliveries_total", channel="telegram", kind="reminder", status="sent") == 1
    assert sample(scheduler, "contestbell_reminders_late_total", channel="telegram") == 1
    assert sample(scheduler, "contestbell_reminder_lateness_seconds_sum", channel="telegram") >= 70
    assert sample(scheduler, "contestbell_telegram_429_responses_total") == 1
    assert sample(scheduler, "contestbell_telegram_requests_total") == 2
    assert sample(web, "contestbell_site_staleness_seconds", site=FETCHED) < 120
    assert sample(web, "contestbell_contests", site=FETCHED) == await Contest.filter(site_id=FETCHED).count()
    assert sample(web, "contestbell_http_requests_total", method="GET", route="/healthz", status="200") >= 2
    assert "token=abc" not in web


@pytest.mark.split
async def test_json_logs_of_real_processes_parse_back_with_their_context(db, redis_url, tmp_path):
    replay = Replay()
    replay.break_route(BROKEN_ROUTE, "500")
    log = tmp_path / "processes.log"
    async with TestServer(replay.app, host="127.0.0.1") as mirror:
        env = contestbell_env(database_url=db, redis_url=redis_url, fetch_via=str(mirror.make_url("")),
                              sites=f"{FETCHED},{BROKEN}", keep_past_days="36500", fetch_timeout="1", log_format="json")
        with running("worker", env=env, log=log), running("scheduler", env=env, log=log):
            await wait_until(fetched_one_and_failed_the_other, 60, "a fetch of each site")
            text = log.read_text()
    lines = [line for line in text.splitlines() if line.strip()]
    assert len(lines) >= 4, text
    entries = [json.loads(line) for line in lines]  # every line is one JSON object
    for entry in entries:
        assert all(isinstance(entry.get(field), str) for field in LOG_FIELDS), entry
        assert datetime.fromisoformat(entry["time"]).tzinfo is not None
    [failure] = [e for e in entries if e["message"].startswith(f"fetch of {BROKEN} failed")]
    assert failure["level"] == "WARNING" and failure["logger"] == "fetchers.pipeline" and failure["site"] == BROKEN
    [fetched] = [e for e in entries if e["message"].startswith(f"fetched {FETCHED}")]
    assert fetched["level"] == "INFO" and fetched["site"] == FETCHED
    assert {e["logger"] for e in entries} >= {"contestbell", "fetchers.pipeline"}


def test_promtool_accepts_the_prometheus_config_and_its_alert_rules():
    promtool_check("config", str(OBSERVABILITY / "prometheus.yml"))
    promtool_check("rules", str(ALERTS))


def test_the_observability_services_are_an_optional_profile_and_grafana_finds_its_files():
    compose = yaml.safe_load((REPO / "docker-compose.yml").read_text())
    ours = {"prometheus", "loki", "alloy", "grafana"}
    assert ours <= set(compose["services"])
    for name, service in compose["services"].items():
        assert ("observability" in service.get("profiles", [])) == (name in ours), name
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if name in ours and source.startswith("./"):
                assert (REPO / source).exists(), (name, source)
    datasources = yaml.safe_load((OBSERVABILITY / "grafana/provisioning/datasources/datasources.yml").read_text())
    uids = {source["uid"] for source in datasources["datasources"]}
    used = {target["datasource"]["uid"] for panel in json.loads(DASHBOARD.read_text())["panels"]
            for target in panel.get("targets", [])}
    assert used <= uids
    provider = yaml.safe_load((OBSERVABILITY / "grafana/provisioning/dashboards/dashboards.yml").read_text())
    [path] = [p["options"]["path"] for p in provider["providers"]]
    assert f"./observability/grafana/dashboards:{path}:ro" in compose["services"]["grafana"]["volumes"]

