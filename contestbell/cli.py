"""`contestbell` command line: admin commands and the process kinds.

Exit status 0 on success, 1 when a fetch or a check failed, 2 on bad input (a one-line message on stderr).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import uvloop
from pydantic import ValidationError

from contestbell import resources
from contestbell.secret_key import SecretKeyProblem, secret_key
from contestbell.settings import Settings
from fetchers.contest import Contest, ParseError, load_json
from fetchers.ingest import ShrunkFetch
from fetchers.pipeline import SITE_FAULTS, fetch_and_ingest, ingest_recent
from fetchers.registry import SiteModule, UnknownSite, all_sites, get_site, selected_sites


class UsageError(Exception):
    """Bad input from the person at the terminal: printed as one line, exit status 2."""


def read_saved(site: SiteModule, path: Path) -> list[Contest]:
    """Parse a saved response of `site`, sorted by start."""
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise UsageError(f"cannot read {path}: {error.strerror}") from error
    text = raw.decode("utf-8", errors="replace")
    payload = load_json(text, str(path)) if site.info.response == "json" else text
    return sorted(site.parse(payload), key=lambda c: (c.start, c.key))


def parse_now(value: str | None) -> datetime:
    if value is None:
        return datetime.now(UTC)
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as error:
        raise UsageError(f"--now {value!r} is not an ISO 8601 time") from error
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def print_json(value: Any) -> None:
    print(json.dumps(value, ensure_ascii=False))


def cmd_sites(settings: Settings, args: argparse.Namespace) -> int:
    for site in all_sites().values():
        print(f"{site.slug}\t{site.info.name}\t{site.info.url}")
    return 0


def cmd_parse(settings: Settings, args: argparse.Namespace) -> int:
    for contest in read_saved(get_site(args.site), Path(args.file)):
        print_json(contest.as_json())
    return 0


async def cmd_ingest(settings: Settings, args: argparse.Namespace) -> int:
    site = get_site(args.site)
    contests = read_saved(site, Path(args.file))
    now = parse_now(args.now)
    async with resources.open_database(settings), resources.event_bus(settings) as bus:
        try:
            report = await ingest_recent(site, contests, now, timedelta(days=settings.keep_past_days))
        except ShrunkFetch as error:
            raise UsageError(f"{site.slug}: {error}") from error
        if report.changes:
            await bus.wake()
    print_json(report.summary())
    return 0


async def cmd_fetch(settings: Settings, args: argparse.Namespace) -> int:
    sites = selected_sites(args.sites or None)
    async with resources.open_database(settings), resources.event_bus(settings) as bus, \
            resources.fetch_context(settings, bus) as context:
        results = await asyncio.gather(*(fetch_and_ingest(site, context) for site in sites),
                                       return_exceptions=True)
    failed = False
    for site, result in zip(sites, results, strict=True):
        if isinstance(result, BaseException):
            failed = True
            print_json({"site": site.slug, "error": f"{result.__class__.__name__}: {result}"})
            if not isinstance(result, SITE_FAULTS):
                raise result
        else:
            print_json({"site": site.slug, **result.summary()})
    return 1 if failed else 0


async def cmd_check(settings: Settings, args: argparse.Namespace) -> int:
    from contestbell.check import run_checks

    outcomes = await run_checks(settings)
    for outcome in outcomes:
        print(outcome.line(), flush=True)
    return 0 if all(outcome.status != "FAIL" for outcome in outcomes) else 1


async def cmd_migrate(settings: Settings, args: argparse.Namespace) -> int:
    async with resources.open_database(settings):
        pass
    print("migrations applied")
    return 0


#: the process kinds: the function in contestbell.runtime that runs each, and its help
PROCESSES = {
    "run": ("run_all", "web, scheduler and an in-process worker in one process"),
    "web": ("run_web", "the aiohttp process alone (scale it out behind nginx)"),
    "worker": ("run_worker", "runs fetch tasks from the Redis queue"),
    "scheduler": ("run_scheduler", "kicks fetches and sends reminders (one leads, the others stand by)"),
}


def process(function: str) -> Callable[..., Coroutine[Any, Any, int]]:
    """A process kind; contestbell.runtime (the bot, the web app: seconds to import) is imported only for it."""

    async def command(settings: Settings, args: argparse.Namespace) -> int:
        settings = settings.model_copy(update={"secret_key": secret_key(settings)})
        from contestbell import runtime

        runtime.init_observability(settings)
        await getattr(runtime, function)(settings)
        return 0

    return command


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="contestbell", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands.add_parser("sites", help="list the contest sites").set_defaults(handler=cmd_sites)
    p = commands.add_parser("parse", help="print what a saved response parses to (JSON lines)")
    p.add_argument("site"), p.add_argument("file")
    p.set_defaults(handler=cmd_parse)
    p = commands.add_parser("ingest", help="apply a saved response to the database, print what changed")
    p.add_argument("site"), p.add_argument("file")
    p.add_argument("--now", help="the clock for the future/past rules (ISO 8601, default: now)")
    p.set_defaults(handler=cmd_ingest)
    p = commands.add_parser("fetch", help="fetch sites now and print what changed")
    p.add_argument("sites", nargs="*", metavar="SITE")
    p.set_defaults(handler=cmd_fetch)
    commands.add_parser("check", help="check the settings and reach every service they name (one line each)"
                        ).set_defaults(handler=cmd_check)
    commands.add_parser("migrate", help="apply database migrations").set_defaults(handler=cmd_migrate)
    for name, (function, description) in PROCESSES.items():
        commands.add_parser(name, help=description).set_defaults(handler=process(function))
    return parser


def fail(message: str) -> int:
    print(f"contestbell: {message}", file=sys.stderr)
    return 2


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = Settings()
        resources.use_configured_sources(settings)
        result = args.handler(settings, args)
        return uvloop.run(result) if asyncio.iscoroutine(result) else result
    except ValidationError as error:
        first = error.errors()[0]
        where = f"CONTESTBELL_{str(first['loc'][0]).upper()}" if first["loc"] else "settings"
        return fail(f"bad setting {where}: {first['msg'].removeprefix('Value error, ')}")
    except (UsageError, UnknownSite, ParseError, resources.SetupError, SecretKeyProblem) as error:
        return fail(str(error))
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
