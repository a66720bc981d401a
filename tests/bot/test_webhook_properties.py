"""Property tests: generated updates posted to the real webhook (issue 9). Every command with random arguments,
every button's callback data with random fields, and random update shapes: each answer is a 200 or a 400,
nothing is logged as an ERROR, and afterwards a normal reminder still plans and arrives."""

from __future__ import annotations

import asyncio
import copy
import json
import logging
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.webhook import CheckedWebhook
from contestbell.telegram import WEBHOOK_PATH
from models.account import Account, TelegramChat
from models.contest import Contest
from notify.i18n import make_i18n
from notify.limits import make_limiter
from notify.telegram import TelegramChannel, TelegramSender
from scheduler.dispatch import ReminderRun
from scheduler.fetch_kicks import new_scheduler
from scheduler.reminder_clock import ReminderClock
from tests.bot.conftest import SECRET
from tests.bot.updates import callback, group_message, inline_query, private_message

#: each command with words it understands (the first word of its arguments is often one of them)
COMMANDS = {
    "start": ["link-token", "x" * 70], "help": [], "settings": [], "calendar": [], "stop": [], "nosuchcommand": [],
    "upcoming": ["codeforces", "atcoder", "nosuchsite"], "sites": [],
    "subscribe": ["codeforces", "leetcode", "nosuchsite"], "unsubscribe": ["codeforces", "nosuchsite"],
    "remind": ["1d", "1h", "10m", "off", "0m", "99999999999d", "1h30m", "7d1m"],
    "filter": ["include", "exclude", "remove", "min", "max", "clear"],
    "timezone": ["Europe/Berlin", "UTC+3", "UTC+99", "Mars/Olympus", "new york"],
    "language": ["ru", "en", "xx", "Русский"], "email": ["a@b.org", "off", "not-an-address"],
}
#: each button's prefix and how many fields its data has
PREFIXES = {"remind": 1, "more": 3, "upcoming": 3, "snooze": 2, "atstart": 1, "site": 2, "sites": 1, "sites-done": 0,
            "open": 1, "filter": 2, "tz": 1, "lang": 1, "calendar-reset": 0, "nosuch": 1}
PROPERTY_SETTINGS = settings(max_examples=300, deadline=None, derandomize=True,
                             suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

words = st.one_of(
    st.text(max_size=40),
    st.integers(min_value=-10**25, max_value=10**25).map(str),
    st.sampled_from(["1d", "1h", "10m", "off", "0m", "99999999999d", "include", "exclude", "min", "max", "clear",
                     "remove", "div. 2", "codeforces", "atcoder", "UTC+3", "UTC+99", "Europe/Berlin", "ru", "en",
                     "a@b.org", "<script>", "\u202e", "\x00", "%00", "\ud800"]),
)
def arguments_of(command: str) -> st.SearchStrategy[str]:
    known = COMMANDS[command]
    first = st.one_of(st.sampled_from(known), words) if known else words
    return st.tuples(first, st.lists(words, max_size=5)).map(lambda parts: " ".join([parts[0], *parts[1]]))


def fields_of(prefix: str) -> st.SearchStrategy[list[str]]:
    """As many fields as the button has (mostly), or any number."""
    return st.one_of(st.lists(words, min_size=PREFIXES[prefix], max_size=PREFIXES[prefix]), st.lists(words, max_size=4))


commands = st.sampled_from(sorted(COMMANDS)).flatmap(lambda name: st.tuples(st.just(name), arguments_of(name)))
buttons = st.sampled_from(sorted(PREFIXES)).flatmap(lambda prefix: st.tuples(st.just(prefix), fields_of(prefix)))
user_ids = st.integers(min_value=1, max_value=2**40)
#: the chat of the reminder after each property: no generated user's (Hypothesis also tries numbers it finds in our
#: code, such as 8080, so a small id may already be some generated chat's)
REMINDED_CHAT = 2**40 + 8080
json_leaves = st.one_of(st.none(), st.booleans(), st.integers(min_value=-2**70, max_value=2**70),
                        st.floats(allow_nan=False), st.text(max_size=30))
json_values = st.recursive(json_leaves, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=10), inner, max_size=4)), max_leaves=12)


def webhook_of(telegram) -> CheckedWebhook:
    for route in telegram.client.app.router.routes():
        if route.resource is not None and route.resource.canonical == WEBHOOK_PATH:
            return route.handler.__self__
    raise AssertionError("no webhook route")


async def post(telegram, body: bytes) -> int:
    response = await telegram.client.post(WEBHOOK_PATH, data=body, headers={
        "X-Telegram-Bot-Api-Secret-Token": SECRET, "Content-Type": "application/json"})
    return response.status


async def handled(telegram) -> None:
    """Wait until every update taken so far has been handled (they run in the background)."""
    tasks = webhook_of(telegram)._background_feed_update_tasks
    deadline = time.monotonic() + 10
    while tasks and time.monotonic() < deadline:
        await asyncio.gather(*list(tasks), return_exceptions=True)
    assert not tasks, "updates still being handled after 10 s"


def encoded(update: Any) -> bytes:
    return json.dumps(update, ensure_ascii=True).encode()


def no_errors(caplog) -> None:
    bad = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not bad, "\n".join(f"{r.name}: {r.getMessage()}" for r in bad[:5])


@pytest.fixture
async def then_a_reminder_arrives(telegram):
    """After every example of a property (all in one database), an ordinary reminder still plans and arrives."""
    yield
    await a_normal_reminder_arrives(telegram)


@PROPERTY_SETTINGS
@given(typed=commands, user=user_ids, group=st.booleans(), language=st.sampled_from(["en", "ru", "de", ""]))
async def test_every_command_with_random_arguments(telegram, then_a_reminder_arrives, caplog, typed, user, group,
                                                   language):
    command, args = typed
    text = f"/{command}" + (f"@simrsjsonbot {args}" if group else f" {args}")
    update = group_message(text, user_id=user, language_code=language) if group else \
        private_message(text, user_id=user, language_code=language)
    with caplog.at_level(logging.WARNING):
        assert await post(telegram, encoded(update)) in (200, 400)
        await handled(telegram)
    no_errors(caplog)


@PROPERTY_SETTINGS
@given(button=buttons, user=user_ids, chat_type=st.sampled_from(["private", "group", "supergroup"]))
async def test_every_button_with_random_fields(telegram, then_a_reminder_arrives, caplog, button, user, chat_type):
    prefix, fields = button
    data = ":".join([prefix, *fields])
    chat = user if chat_type == "private" else -abs(user)
    update = callback(data, chat_id=chat, user_id=user, chat_type=chat_type)
    with caplog.at_level(logging.WARNING):
        assert await post(telegram, encoded(update)) in (200, 400)
        await handled(telegram)
    no_errors(caplog)


def mutated(update: dict, path: list[str], value: Any) -> dict:
    """The update with the value at `path` (keys, as far as they exist) replaced, or removed for None."""
    copied = copy.deepcopy(update)
    node = copied
    for key in path[:-1]:
        if not isinstance(node.get(key), dict):
            break
        node = node[key]
    else:
        if value is None:
            node.pop(path[-1], None)
        else:
            node[path[-1]] = value
    return copied


paths = st.lists(st.sampled_from(["message", "callback_query", "inline_query", "from", "chat", "id", "text",
                                  "data", "query", "date", "entities", "language_code", "type", "message_id",
                                  "first_name", "reply_to_message", "update_id", "migrate_to_chat_id"]),
                 min_size=1, max_size=4)
bases = st.sampled_from(["private", "group", "callback", "inline"])


@PROPERTY_SETTINGS
@given(base=bases, path=paths, value=json_values, shape=st.one_of(st.none(), json_values))
async def test_random_update_shapes(telegram, then_a_reminder_arrives, caplog, base, path, value, shape):
    original = {"private": lambda: private_message("/upcoming"), "group": lambda: group_message("/settings"),
                "callback": lambda: callback("remind:3600"), "inline": lambda: inline_query("codeforces")}[base]()
    update = shape if shape is not None else mutated(original, path, value)
    with caplog.at_level(logging.WARNING):
        assert await post(telegram, encoded(update)) in (200, 400)
        await handled(telegram)
    no_errors(caplog)


async def a_normal_reminder_arrives(telegram) -> None:
    account = await Account.create(sites=["codeforces"], reminder_offsets=[600])
    await TelegramChat.create(chat_id=REMINDED_CHAT, account=account, chat_type="private")
    start = datetime.now(UTC) + timedelta(seconds=603)
    await Contest.create(site_id="codeforces", key="8080", title="Codeforces Round 8080",
                         url="https://codeforces.com/contest/8080", start=start, end=start + timedelta(hours=2),
                         duration=7200)
    scheduler = new_scheduler()
    scheduler.start()
    try:
        await ReminderClock(scheduler, ReminderRun(
            [TelegramChannel(make_i18n(), TelegramSender(telegram.bot, make_limiter(None)))])
                            ).start()
        [reminder] = await telegram.fake.wait_for("sendMessage", chat_id=REMINDED_CHAT, timeout=15)
    finally:
        scheduler.shutdown(wait=False)
    assert "Codeforces Round 8080" in reminder.text
