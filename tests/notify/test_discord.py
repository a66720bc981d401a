"""The Discord channel: which webhook URLs it takes, what a message looks like (the account's zone and language,
titles that neither format, link nor ping), and what it does with each answer of a fake Discord over real HTTP
(the pace of 5 requests per 2 s per webhook, 429, 404/401, 5xx, a hang, a redirect), with the token in no log.

Times are the fake server's (`Call.at`, when a request arrived); waits are on its conditions, never fixed sleeps.
"""

from __future__ import annotations

import asyncio
import logging
import re
import socket
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

import pytest
from aiohttp.test_utils import TestServer

from models.account import Account, DiscordWebhook
from notify.channel import Batch, ChannelName, Digest, Reminders, Verdict
from notify.discord import (
    MAX_EMBEDS,
    DiscordAddress,
    DiscordChannel,
    clean,
    message_payload,
    parse_webhook_url,
)
from notify.i18n import make_i18n
from notify.messages import ContestInfo, Locale, Notice, Reminder
from tests.fake_discord import FakeDiscord, problems, rate_limited

WEBHOOK_ID = 1234567890123456789
TOKEN = "Xk3_p-" + "aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789" + "_-zyxwvutsrqponm"  # 58 characters
OTHER_TOKEN = "Q" * 68
PATH = f"/api/webhooks/{WEBHOOK_ID}/{TOKEN}"

START = datetime(2026, 11, 27, 15, 35, tzinfo=UTC)
NOW = START - timedelta(hours=1)
ROUND = ContestInfo(1, "codeforces", "2100", "Codeforces Round 1000 (Div. 2)", "https://codeforces.com/contest/2100",
                    START, 2 * 3600 + 15 * 60, "Codeforces")
ABC = ContestInfo(2, "atcoder", "abc400", "AtCoder Beginner Contest 400", "https://atcoder.jp/contests/abc400",
                  START + timedelta(hours=2), 100 * 60, "AtCoder")
HOSTILE = "@everyone **x** [a](http://evil)"
MOSCOW_EN = Locale("en", "Europe/Moscow")
MOSCOW_RU = Locale("ru", "Europe/Moscow")


@pytest.fixture(scope="module")
def i18n():
    return make_i18n()


def batch(content, locale: Locale = MOSCOW_EN, *addresses: DiscordAddress, now: datetime = NOW) -> Batch:
    return Batch(7, locale, content, addresses or (DiscordAddress(7, WEBHOOK_ID, TOKEN),), now)


def reminders(*contests: ContestInfo, late: bool = False) -> Reminders:
    return Reminders(tuple(Reminder(contest, 3600, late) for contest in contests))


def unescape(text: str) -> str:
    """What Discord shows for escaped text (backslash escapes resolved, the zero-width spaces unseen)."""
    return re.sub(r"\\(.)", r"\1", text).replace("\u200b", "")


# which URLs are webhooks

ID, TOK = str(WEBHOOK_ID), TOKEN
ACCEPTED = [
    f"https://discord.com/api/webhooks/{ID}/{TOK}",
    f"https://discordapp.com/api/webhooks/{ID}/{TOK}",
    f"https://ptb.discord.com/api/webhooks/{ID}/{TOK}",
    f"https://canary.discord.com/api/webhooks/{ID}/{TOK}",
    f"https://ptb.discordapp.com/api/webhooks/{ID}/{TOK}",
    f"https://canary.discordapp.com/api/webhooks/{ID}/{TOK}",
    f"https://discord.com/api/v10/webhooks/{ID}/{TOK}",
    f"https://discord.com/api/v6/webhooks/{ID}/{TOK}",
    f"https://discord.com/api/v9/webhooks/{ID}/{TOK}",
    f"  https://discord.com/api/webhooks/{ID}/{TOK}\n",
    f"HTTPS://Discord.COM/api/webhooks/{ID}/{TOK}",
]
REFUSED = [
    "",
    "   ",
    f"http://discord.com/api/webhooks/{ID}/{TOK}",
    f"discord.com/api/webhooks/{ID}/{TOK}",
    f"ftp://discord.com/api/webhooks/{ID}/{TOK}",
    f"https://discord.com.evil.org/api/webhooks/{ID}/{TOK}",
    f"https://evil.org/discord.com/api/webhooks/{ID}/{TOK}",
    f"https://evil.org/api/webhooks/{ID}/{TOK}",
    f"https://evildiscord.com/api/webhooks/{ID}/{TOK}",
    f"https://discord.co/api/webhooks/{ID}/{TOK}",
    f"https://discord.com./api/webhooks/{ID}/{TOK}",
    f"https://ptb.canary.discord.com/api/webhooks/{ID}/{TOK}",
    f"https://127.0.0.1/api/webhooks/{ID}/{TOK}",
    f"https://[::1]/api/webhooks/{ID}/{TOK}",
    f"https://localhost/api/webhooks/{ID}/{TOK}",
    f"https://x@discord.com/api/webhooks/{ID}/{TOK}",
    f"https://discord.com@evil.org/api/webhooks/{ID}/{TOK}",
    f"https://discord.com\\@evil.org/api/webhooks/{ID}/{TOK}",
    f"https://discord.com:443/api/webhooks/{ID}/{TOK}",
    f"https://discord.com:8080/api/webhooks/{ID}/{TOK}",
    f"https://discord.com/api/webhooks/{ID}/{TOK}?wait=true",
    f"https://discord.com/api/webhooks/{ID}/{TOK}?",
    f"https://discord.com/api/webhooks/{ID}/{TOK}#x",
    f"https://discord.com/api/webhooks/{ID}/{TOK}/slack",
    f"https://discord.com/api/webhooks/{ID}/{TOK}/github",
    f"https://discord.com/api/webhooks/{ID}/{TOK}/",
    f"https://discord.com/api/webhooks/{ID}/{TOK}/messages/1",
    f"https://discord.com/api//webhooks/{ID}/{TOK}",
    f"https://discord.com/api/webhooks/../webhooks/{ID}/{TOK}",
    f"https://discord.com/api/v5/webhooks/{ID}/{TOK}",
    f"https://discord.com/api/v11/webhooks/{ID}/{TOK}",
    f"https://discord.com/webhooks/{ID}/{TOK}",
    f"https://discord.com/api/webhooks/{ID}",
    f"https://discord.com/api/webhooks/{ID}/{TOK[:49]}",  # token too short
    f"https://discord.com/api/webhooks/{ID}/{TOK * 2}",  # too long (116)
    f"https://discord.com/api/webhooks/{ID}/{TOK[:-1]}.",
    f"https://discord.com/api/webhooks/{ID}/{TOK[:-3]}%2F",
    f"https://discord.com/api/webhooks/{ID[:16]}/{TOK}",  # 16 digits
    f"https://discord.com/api/webhooks/9999999999999999999/{TOK}",  # past a signed 64-bit integer
    f"https://discord.com/api/webhooks/12345678901234567890/{TOK}",  # 20 digits: past it too
    f"https://discord.com/api/webhooks/0{ID[1:]}/{TOK}",  # a leading zero
    f"https://discord.com/api/webhooks/{'١' * 18}/{TOK}",  # Arabic-Indic digits
    f"https://discord.com/api/webhooks/-{ID}/{TOK}",
    f"https://ｄiscord.com/api/webhooks/{ID}/{TOK}",  # a full-width letter
    f"https://discord.com/api/webhooks/{ID}/{TOK[:30]}\x00{TOK[30:]}",
    f"https://discord.com/api/webhooks/{ID}/{TOK[:30]}\t{TOK[30:]}",
    f"https://discord.com/api/webhooks/{ID}/{TOK}\nhttps://discord.com/api/webhooks/{ID}/{TOK}",
    f"https://discord.com/api/webhooks/{ID}/{TOK}\u202e",
    f"https://discord.com/api/webhooks/{ID}/{TOK}" + "A" * 300,
    f"https://discord.com/api/webhooks/{ID}/{TOK}",  # the same with a zero-width space, below
]
REFUSED[-1] = REFUSED[-1].replace("/api", "/\u200bapi")


@pytest.mark.parametrize("url", ACCEPTED)
def test_discord_webhook_urls_are_taken(url):
    address = parse_webhook_url(url)
    assert address == DiscordAddress(0, WEBHOOK_ID, TOKEN)


@pytest.mark.parametrize("url", REFUSED)
def test_anything_else_is_refused(url):
    assert parse_webhook_url(url) is None


def test_the_shortest_id_and_token_and_the_largest_id_are_taken():
    assert parse_webhook_url(f"https://discord.com/api/webhooks/10000000000000000/{'a' * 50}") == DiscordAddress(
        0, 10**16, "a" * 50)
    largest = 2**63 - 1
    assert parse_webhook_url(f"https://discord.com/api/webhooks/{largest}/{'b' * 100}").webhook_id == largest


def test_an_address_keeps_its_token_out_of_sight():
    address = DiscordAddress(3, WEBHOOK_ID, TOKEN)
    assert TOKEN not in repr(address) and TOKEN not in str(address)
    assert {address, DiscordAddress(3, WEBHOOK_ID, TOKEN)} == {address}  # hashable, by value


# what a message looks like


def test_a_reminder_is_an_embed_in_the_accounts_zone(i18n):
    channel = DiscordChannel(i18n, "https://discord.com")
    (message,) = channel.render(batch(reminders(ROUND)))
    payload = message.payload

    assert payload["content"] == "⏰ Starting in 1 h:"
    assert payload["allowed_mentions"] == {"parse": []}
    (embed,) = payload["embeds"]
    assert embed["title"] == r"Codeforces Round 1000 \(Div. 2\)"
    assert embed["url"] == ROUND.url
    assert embed["timestamp"] == "2026-11-27T15:35:00+00:00"
    assert embed["description"] == "Fri, 27 Nov, 18:35 (UTC+3) · in 1 h\nDuration: 2 h 15 min · Codeforces"
    assert problems(payload) is None
    assert channel.name is ChannelName.DISCORD and channel.concurrency == 8 and channel.batch_size == 1


def test_a_reminder_speaks_the_accounts_language(i18n):
    english = message_payload(i18n, reminders(ROUND), MOSCOW_EN, NOW)
    russian = message_payload(i18n, reminders(ROUND), MOSCOW_RU, NOW)

    description = russian["embeds"][0]["description"]
    assert description.startswith("пт, 27 нояб., 18:35 (UTC+3)")  # the date as Russian readers write it
    assert russian["content"] != english["content"] and russian["content"].startswith("⏰")
    assert russian["embeds"][0]["timestamp"] == english["embeds"][0]["timestamp"]
    in_new_york = message_payload(i18n, reminders(ROUND), Locale("en", "America/New_York"), NOW)
    assert in_new_york["embeds"][0]["description"].startswith("Fri, 27 Nov, 10:35 (UTC−5)")


def test_an_unknown_language_falls_back_to_english(i18n):
    payload = message_payload(i18n, reminders(ROUND), Locale("xx", "UTC"), NOW)
    assert payload["content"] == "⏰ Starting in 1 h:"


def test_a_title_neither_formats_links_nor_pings(i18n):
    hostile = replace(ROUND, title=HOSTILE, site_name="**Site** @here")
    for content in (reminders(hostile), Notice("moved", hostile, START - timedelta(days=1)),
                    Notice("cancelled", hostile)):
        payload = message_payload(i18n, content, MOSCOW_EN, NOW)
        texts = [payload["content"], *(e["title"] for e in payload["embeds"]),
                 *(e["description"] for e in payload["embeds"])]
        for text in texts:
            assert "@everyone" not in text and "@here" not in text
            assert not re.search(r"(?<!\\)[\[\]]", text)  # no link can form
        assert payload["allowed_mentions"] == {"parse": []}
        assert unescape(payload["embeds"][0]["title"]) == HOSTILE
    notice = message_payload(i18n, Notice("cancelled", hostile), MOSCOW_EN, NOW)
    assert notice["content"] == ("❌ **@\u200beveryone \\*\\*x\\*\\* \\[a\\]\\(http\\://evil\\)** on "
                                 "\\*\\*Site\\*\\* @\u200bhere was cancelled.")


def test_every_markdown_character_is_escaped_and_control_characters_go():
    title = "a\\b*c_d~e`f|g>h[i]j(k)l#m-n@o<p:q\nr\u202es\x00t"
    contest = replace(ROUND, title=title)
    shown = message_payload(make_i18n(), reminders(contest), MOSCOW_EN, NOW)["embeds"][0]["title"]
    assert unescape(shown) == clean(title) == "a\\b*c_d~e`f|g>h[i]j(k)l#m-n@o<p:q rst"
    assert re.fullmatch(r"(?:[a-z ]|\\[\\*_~`|>\[\]()#\-<:]|@\u200b)+", shown)


def test_a_long_title_is_cut_to_256_characters_without_breaking_an_escape(i18n):
    contest = replace(ROUND, title="[x] " * 200)
    embed = message_payload(i18n, reminders(contest), MOSCOW_EN, NOW)["embeds"][0]
    assert len(embed["title"]) <= 256 and embed["title"].endswith("…")
    assert not re.search(r"(?<!\\)(?:\\\\)*\\…", embed["title"])  # no backslash left dangling before the cut


def test_only_http_addresses_become_links(i18n):
    for url, kept in [("javascript:alert(1)", False), ("ftp://example.org/x", False), ("data:text/html,x", False),
                      ("https://atcoder.jp/contests/abc400", True), ("http://example.org/c", True),
                      ("https://", False), ("https://exa mple.org/", False), ("https://[::1/", False),
                      ("https://example.org/" + "x" * 3000, False)]:
        embed = message_payload(i18n, reminders(replace(ABC, url=url)), MOSCOW_EN, NOW)["embeds"][0]
        assert (embed.get("url") == url) is kept, url
        assert kept or "url" not in embed


def test_twelve_contests_at_once_make_ten_embeds_and_two_lines(i18n):
    contests = [replace(ROUND, id=n, key=str(n), title=f"Round {n}", start=START + timedelta(minutes=n))
                for n in range(12, 0, -1)]
    payload = message_payload(i18n, reminders(*contests, late=True), MOSCOW_EN, NOW)

    assert len(payload["embeds"]) == MAX_EMBEDS == 10
    assert [e["title"] for e in payload["embeds"]] == [f"Round {n}" for n in range(1, 11)]  # soonest first
    lines = payload["content"].split("\n")
    assert lines[:2] == ["⏰ 12 contests start soon:", "(Late: we could not send this on time, sorry.)"]
    assert lines[2].startswith("**Round 11** · Fri, 27 Nov, 18:46") and lines[3].startswith("**Round 12**")
    assert problems(payload) is None


def test_many_long_titles_stay_within_discords_limits(i18n):
    contests = [replace(ROUND, id=n, key=str(n), title=f"{n} " + "#" * 400) for n in range(40)]
    payload = message_payload(i18n, reminders(*contests), MOSCOW_EN, NOW)
    assert problems(payload) is None
    assert len(payload["content"]) <= 2000 and payload["content"].endswith("\n…")


def test_notices_say_what_happened(i18n):
    moved = replace(ROUND, start=START + timedelta(days=1))
    payload = message_payload(i18n, Notice("moved", moved, START), MOSCOW_EN, NOW)
    assert payload["content"] == ("🔁 **Codeforces Round 1000 \\(Div. 2\\)** moved: Fri, 27 Nov, 18:35 (UTC+3)"
                                  " → Sat, 28 Nov, 18:35 (UTC+3) (in 1 d 1 h).")
    assert payload["embeds"][0]["timestamp"] == "2026-11-28T15:35:00+00:00"
    cancelled = message_payload(i18n, Notice("cancelled", ROUND, START), MOSCOW_EN, NOW)
    assert cancelled["content"] == "❌ **Codeforces Round 1000 \\(Div. 2\\)** on Codeforces was cancelled."
    assert problems(payload) is None and problems(cancelled) is None


def test_render_makes_one_message_per_address_once(i18n):
    channel = DiscordChannel(i18n, "https://discord.com")
    addresses = (DiscordAddress(7, WEBHOOK_ID, TOKEN), DiscordAddress(7, WEBHOOK_ID + 1, OTHER_TOKEN))
    first = channel.render(batch(reminders(ROUND, ABC), MOSCOW_EN, *addresses))
    again = channel.render(batch(reminders(ROUND, ABC), MOSCOW_EN, *addresses))

    assert [m.address for m in first] == list(addresses)
    assert first[0].payload is first[1].payload is again[0].payload  # made once
    assert channel.render(batch(Reminders(()))) == []
    assert channel.render(batch(Digest((ROUND,), schedule=None, due=START))) == []  # digests are email's


# over HTTP


@dataclass
class Api:
    fake: FakeDiscord
    base: str


@pytest.fixture
async def api() -> AsyncIterator[Api]:
    fake = FakeDiscord()
    fake.add_webhook(WEBHOOK_ID, TOKEN)
    server = TestServer(fake.app, host="127.0.0.1")
    await server.start_server(access_log=None)  # the access log would be Discord's, not ours
    try:
        yield Api(fake, str(server.make_url("")).rstrip("/"))
    finally:
        fake.release()
        await server.close()


MakeChannel = Callable[..., DiscordChannel]


@pytest.fixture
async def make(api: Api, i18n) -> AsyncIterator[MakeChannel]:
    made: list[DiscordChannel] = []

    def make_channel(base: str | None = None, **options) -> DiscordChannel:
        options = {"attempts": 3, "backoff": 0.01, "request_timeout": 5.0, **options}
        channel = DiscordChannel(i18n, base or api.base, **options)
        made.append(channel)
        return channel

    yield make_channel
    for channel in made:
        await channel.aclose()


class GoneCalls(list):
    async def __call__(self, account_id: int) -> None:
        self.append(account_id)


async def send_one(channel: DiscordChannel, content=None, address: DiscordAddress | None = None):
    (message,) = channel.render(batch(content or reminders(ROUND), MOSCOW_EN,
                                      address or DiscordAddress(7, WEBHOOK_ID, TOKEN)))
    (result,) = await channel.send([message])
    return result


async def stored_webhook(token: str = TOKEN, webhook_id: int = WEBHOOK_ID) -> tuple[Account, DiscordAddress]:
    account = await Account.create(language="en", timezone="Europe/Moscow")
    await DiscordWebhook.create(account=account, webhook_id=webhook_id, token=token)
    return account, DiscordAddress(account.id, webhook_id, token)


async def test_a_reminder_arrives_with_its_payload(api, make):
    channel = make()
    result = await send_one(channel)

    assert result.verdict is Verdict.SENT
    (call,) = await api.fake.wait_for(1)
    assert call.webhook_id == WEBHOOK_ID and call.version is None
    assert call.body == message_payload(channel.i18n, reminders(ROUND), MOSCOW_EN, NOW)
    assert api.fake.queries == [{"wait": "false"}]
    assert api.fake.strays == []


async def test_twelve_reminders_to_one_webhook_meet_no_429_and_others_are_not_held_up(api, make):
    other_id = WEBHOOK_ID + 1
    api.fake.add_webhook(other_id, OTHER_TOKEN)
    channel = make()
    contests = [replace(ROUND, id=n, key=str(n), title=f"Round {n}") for n in range(12)]
    burst = [send_one(channel, reminders(contest)) for contest in contests]
    elsewhere = send_one(channel, reminders(ABC), DiscordAddress(8, other_id, OTHER_TOKEN))
    results = await asyncio.gather(*burst, elsewhere)

    assert [r.verdict for r in results] == [Verdict.SENT] * 13
    assert api.fake.refused == 0
    calls = api.fake.sent(WEBHOOK_ID)
    assert sorted(call.embeds[0]["title"] for call in calls) == sorted(f"Round {n}" for n in range(12))
    times = [call.at for call in calls]
    assert max(sum(1 for t in times if start <= t < start + 2.0) for start in times) <= 5
    (other,) = api.fake.sent(other_id)
    assert other.at - min(times) < 1.0  # the busy webhook held up only itself


async def test_a_429_is_waited_out_and_the_message_goes_once(api, make):
    api.fake.fail_next(429, rate_limited(0.5), retry_after=0.5)
    result = await send_one(make())

    assert result.verdict is Verdict.SENT
    refused, delivered = api.fake.received
    assert refused.status == 429 and delivered.status == 204
    assert delivered.at - refused.at >= 0.5
    assert api.fake.refused == 1 and len(api.fake.calls) == 1


async def test_a_global_429_holds_back_every_webhook(api, make):
    other_id = WEBHOOK_ID + 1
    api.fake.add_webhook(other_id, OTHER_TOKEN)
    channel = make()
    api.fake.fail_next(429, rate_limited(0.4, is_global=True), retry_after=0.4)
    first = asyncio.create_task(send_one(channel))
    (refused,) = await api.fake.wait_received(1)
    async with asyncio.timeout(2):
        while not channel.pace.paused_until:  # the sender has read the answer
            await asyncio.sleep(0)
    second = await send_one(channel, reminders(ABC), DiscordAddress(8, other_id, OTHER_TOKEN))

    assert (await first).sent and second.sent
    assert refused.status == 429
    assert {call.webhook_id for call in api.fake.calls} == {WEBHOOK_ID, other_id}
    assert all(call.at - refused.at >= 0.4 for call in api.fake.calls)


async def test_a_long_429_goes_back_to_the_dispatcher(api, make):
    api.fake.fail_next(429, rate_limited(30.0), retry_after=30)
    result = await send_one(make())
    assert result.verdict is Verdict.RETRY and result.retry_after == 30.0
    assert len(api.fake.received) == 1


@pytest.mark.parametrize(("body", "header", "wait"), [
    ({"retry_after": 1e308}, "oops", 3600.0),  # nonsense is capped
    ('{"retry_after": 1' + "0" * 400 + "}", "12", 12.0),  # an integer no float holds
    ({"retry_after": "nan"}, "42", 42.0),  # no usable number in the body: the header's
    ("<html>busy</html>", "11.5", 11.5),
])
async def test_a_hostile_429_is_read_with_care(api, make, body, header, wait):
    api.fake.fail_next(429, body, headers={"Retry-After": header})
    result = await send_one(make())
    assert result.verdict is Verdict.RETRY and result.retry_after == wait
    assert len(api.fake.received) == 1


async def test_a_429_without_a_usable_wait_waits_a_second(api, make):
    api.fake.fail_next(429, {"retry_after": -5, "global": "yes"}, headers={"Retry-After": "soon"})
    result = await send_one(make())
    assert result.sent
    refused, delivered = api.fake.received
    assert delivered.at - refused.at >= 1.0


async def test_a_deleted_webhook_is_forgotten_and_its_owner_told(api, make, db):
    account, address = await stored_webhook(webhook_id=WEBHOOK_ID + 5)  # the fake does not know it: 404
    told = GoneCalls()
    channel = make(on_gone=told)
    assert await channel.reachable() == {account.id: (address,)}

    result = await send_one(channel, address=address)

    assert result.verdict is Verdict.GONE and "Unknown Webhook" in result.error
    assert not await DiscordWebhook.exists(account_id=account.id)
    assert told == [account.id]
    assert await channel.reachable() == {}


async def test_a_reset_token_is_forgotten_too(api, make, db):
    account, address = await stored_webhook(token=OTHER_TOKEN)  # the fake's webhook has TOKEN: 401
    told = GoneCalls()
    result = await send_one(make(on_gone=told), address=address)

    assert result.verdict is Verdict.GONE and "Invalid Webhook Token" in result.error
    assert not await DiscordWebhook.exists(account_id=account.id)
    assert told == [account.id]


async def test_a_webhook_replaced_meanwhile_stays(api, make, db):
    account, old = await stored_webhook(token=OTHER_TOKEN)
    await DiscordWebhook.filter(account_id=account.id).update(token=TOKEN)  # its owner pasted a new URL meanwhile
    told = GoneCalls()
    result = await send_one(make(on_gone=told), address=old)

    assert result.verdict is Verdict.GONE
    assert await DiscordWebhook.exists(account_id=account.id, token=TOKEN)
    assert told == []


async def test_a_failing_on_gone_is_logged_not_raised(api, make, db, caplog):
    account, address = await stored_webhook(webhook_id=WEBHOOK_ID + 5)

    async def broken(account_id: int) -> None:
        raise RuntimeError("telegram is down")

    result = await send_one(make(on_gone=broken), address=address)
    assert result.verdict is Verdict.GONE
    assert not await DiscordWebhook.exists(account_id=account.id)
    assert any("telegram is down" in record.getMessage() for record in caplog.records)


async def test_a_test_message_to_a_missing_webhook_forgets_nothing(api, make, i18n, db):
    account, address = await stored_webhook(webhook_id=WEBHOOK_ID + 5)
    told = GoneCalls()
    channel = make(on_gone=told)

    result = await channel.send_test(replace(address, account_id=0), MOSCOW_EN)

    assert result.verdict is Verdict.GONE
    assert await DiscordWebhook.exists(account_id=account.id)
    assert told == []
    assert (await channel.send_test(DiscordAddress(0, WEBHOOK_ID, TOKEN), MOSCOW_EN)).sent
    (call,) = await api.fake.wait_for(1)
    assert call.body == {"content": "contestbell will post contest reminders here.", "allowed_mentions": {"parse": []}}


async def test_5xx_is_retried(api, make):
    api.fake.fail_next(500, {"message": "500: Internal Server Error", "code": 0})
    api.fake.fail_next(502, "<html>Bad Gateway</html>")
    result = await send_one(make(attempts=3))

    assert result.verdict is Verdict.SENT
    assert [call.status for call in api.fake.received] == [500, 502, 204]


async def test_5xx_to_the_last_attempt_fails(api, make):
    for _ in range(3):
        api.fake.fail_next(503, None)
    result = await send_one(make(attempts=3))
    assert result.verdict is Verdict.FAILED and "503" in result.error
    assert len(api.fake.received) == 3


async def test_a_refused_message_fails_once_with_discords_words(api, make, caplog):
    api.fake.fail_next(400, {"message": "Invalid Form Body", "code": 50035, "errors": {}})
    with caplog.at_level(logging.WARNING, logger="contestbell.discord"):
        result = await send_one(make())

    assert result.verdict is Verdict.FAILED
    assert result.error == "discord answered 400: Invalid Form Body (code 50035)"
    assert len(api.fake.received) == 1
    warnings = [r for r in caplog.records if r.name == "contestbell.discord" and r.levelno == logging.WARNING]
    assert len(warnings) == 1 and str(WEBHOOK_ID) in warnings[0].getMessage()


async def test_a_huge_answer_is_not_read_whole(api, make):
    api.fake.fail_next(400, {"message": "x" * 2_000_000, "code": 50035})
    result = await send_one(make())
    assert result.verdict is Verdict.FAILED and result.error == "discord answered 400"  # its head was no JSON


async def test_a_redirect_is_not_followed(api, make):
    api.fake.fail_next(307, None, headers={"Location": f"{api.base}/elsewhere"})
    result = await send_one(make())
    assert result.verdict is Verdict.FAILED and "307" in result.error
    assert api.fake.strays == [] and len(api.fake.received) == 1


async def test_a_hanging_discord_times_out(api, make):
    api.fake.stall()
    started = time.monotonic()
    result = await send_one(make(attempts=2, request_timeout=0.2))
    assert result.verdict is Verdict.FAILED and "0.2 s" in result.error
    assert time.monotonic() - started < 2.0


async def test_an_unreachable_discord_fails_after_a_few_attempts(make):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{probe.getsockname()[1]}"
    result = await send_one(make(base=closed, attempts=2))
    assert result.verdict is Verdict.FAILED and "Connect" in result.error


def test_the_api_base_must_be_an_http_address(i18n):
    for base in ("", "discord.com", "file:///etc", "https://discord.com/?x=1"):
        with pytest.raises(ValueError):
            DiscordChannel(i18n, base)
    assert DiscordChannel(i18n, "https://discord.com/").api_base == "https://discord.com"


async def test_a_broken_address_is_not_sent(api, make):
    for address in (DiscordAddress(7, WEBHOOK_ID, "../../evil?x="), DiscordAddress(7, 0, TOKEN),
                    DiscordAddress(7, 2**64, TOKEN)):
        assert (await send_one(make(), address=address)).verdict is Verdict.FAILED
    assert api.fake.received == [] and api.fake.strays == []


async def test_the_token_is_in_no_log_line(api, make, db, caplog):
    caplog.set_level(logging.DEBUG)
    _, address = await stored_webhook(token=OTHER_TOKEN)  # 401: forgotten
    channel = make(attempts=2, on_gone=GoneCalls())
    api.fake.fail_next(400, {"message": f"Bad token {TOKEN}", "code": 50035})  # an answer repeating it
    api.fake.fail_next(500, None)
    api.fake.fail_next(500, None)
    api.fake.fail_next(429, rate_limited(60), retry_after=60)
    results = [await send_one(channel) for _ in range(3)]
    results.append(await send_one(channel, address=address))
    results.append(await channel.send_test(DiscordAddress(0, WEBHOOK_ID + 9, TOKEN), MOSCOW_EN))
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{probe.getsockname()[1]}"
    results.append(await send_one(make(base=closed, attempts=1)))

    assert [r.verdict for r in results] == [Verdict.FAILED, Verdict.FAILED, Verdict.RETRY, Verdict.GONE,
                                            Verdict.GONE, Verdict.FAILED]
    assert caplog.records
    for record in caplog.records:
        if record.name.startswith(("tortoise", "aiosqlite")):  # they log each query's values at DEBUG (not ours)
            continue
        logged = record.getMessage() + (record.exc_text or "")
        assert TOKEN not in logged and OTHER_TOKEN not in logged, record.getMessage()
    for result in results:
        assert TOKEN not in (result.error or "") and OTHER_TOKEN not in (result.error or "")
