"""A Russian chat reads Russian on every screen: the commands, the /settings sections and a reminder, through the
real dispatcher and the Telegram sender to the fake Bot API. No English word leaks (site names, commands and
what one types after them, e-mail and web addresses, zone names and a few proper nouns stay as they are)."""

from __future__ import annotations

import asyncio
import html
import itertools
import re
from datetime import UTC, datetime, timedelta

from bot.screens import OpenSection
from bot.settings import SECTIONS
from models.catalog import ListedSite, listed_sites
from models.contest import Contest
from notify.channel import Batch, Reminders
from notify.i18n import make_i18n
from notify.limits import make_limiter
from notify.messages import ContestInfo, Locale, Notice, Reminder
from notify.telegram import TelegramChannel, TelegramSender
from tests.bot.updates import USER_ID, callback, private_message

COMMANDS = ["/settings", "/help", "/upcoming", "/sites", "/remind", "/filter", "/timezone", "/language", "/email",
            "/digest", "/discord", "/calendar", "/remind 1д 1ч 10м", "/filter max 5ч", "/timezone Mars/Phobos",
            "/email not-an-address", "/digest weekly mon 18:30", "/frobnicate", "hello there"]
#: Latin words a Russian text may hold: names of things, and what one types after a command
KEPT = {
    "codeforces", "atcoder", "leetcode", "codechef", "round", "telegram", "google", "discord", "ical", "utc", "url",
    "webhook_url", "contestbell", "json", "api", "ics",
    "daily", "weekly", "off", "mon", "tue", "wed", "thu", "fri", "sat", "sun", "m", "h", "d", "div", "kotlin",
    "include", "exclude", "min", "max", "clear", "remove", "en", "ru", "english", "europe", "moscow", "berlin",
    "mars", "phobos", "frobnicate", "educational", "msk", "a", "z",
}
ADDRESS = re.compile(r"(https?://\S+|[\w.+-]+@[\w.-]+|/\w+(@\w+)?|@\w+|\b[A-Z][a-z]+/[A-Za-z_]+\b)")
WORD = re.compile(r"[A-Za-z][A-Za-z_]*")
RUSSIAN = re.compile(r"[а-яё]", re.IGNORECASE)


def leaked(text: str, sites: list[ListedSite]) -> set[str]:
    """The Latin words of a text that are neither kept names, site names nor typed input."""
    plain = ADDRESS.sub(" ", html.unescape(re.sub(r"<[^>]+>", " ", text)))
    names = {word.lower() for site in sites for word in WORD.findall(site.name)}
    return {word for word in WORD.findall(plain) if word.lower() not in KEPT | names}


async def contests_ahead() -> None:
    now = datetime.now(UTC)
    for key, hours in (("2100", 3), ("2101", 27), ("2102", 50)):
        start = now + timedelta(hours=hours, minutes=20)
        await Contest.create(site_id="codeforces", key=key, title=f"Codeforces Round {key} (Div. 2)",
                             url=f"https://codeforces.com/contest/{key}", start=start,
                             end=start + timedelta(hours=2), duration=7200)


#: a new Russian-speaking person per screen: the bot's flood guard would slow one person's twenty commands down
people = itertools.count(USER_ID + 1)


def screens(fake) -> list:
    return [call for call in fake.calls if call.method in ("sendMessage", "editMessageText")]


async def next_screen(telegram, data: str):
    """The message a button press draws (in place, or a new one)."""
    before = len(screens(telegram.fake))
    person = next(people)
    assert await telegram.send(callback(data, chat_id=person, user_id=person, language_code="ru")) == 200
    deadline = asyncio.get_running_loop().time() + 5
    while len(screens(telegram.fake)) == before:
        assert asyncio.get_running_loop().time() < deadline, f"no screen for {data}"
        await asyncio.sleep(0.01)
    return screens(telegram.fake)[-1]


async def test_every_screen_of_a_russian_chat_is_russian(telegram):
    await contests_ahead()
    shown = {}
    for command in ["/start", *COMMANDS]:
        shown[command] = await telegram.reply_to(private_message(command, user_id=next(people), language_code="ru"))
    for section, _label in SECTIONS:
        shown[f"button {section}"] = await next_screen(telegram, OpenSection(section=section).pack())
    problems, sites = {}, await listed_sites()
    for name, call in shown.items():
        texts = [call.text, *(button["text"] for button in call.buttons())]
        words = set().union(*(leaked(text, sites) for text in texts))
        if words or not RUSSIAN.search(call.text):
            problems[name] = sorted(words)
    assert not problems, "\n".join(f"{name}: {words}" for name, words in problems.items())
    assert shown["/remind 1д 1ч 10м"].text.startswith("Напоминания: за 1д, 1ч, 10м до начала")
    assert "Длительность: не больше 5ч" in shown["/filter max 5ч"].text


async def test_a_reminder_and_a_notice_in_russian(telegram):
    sender = TelegramChannel(make_i18n(), TelegramSender(telegram.bot, make_limiter(None)))
    now = datetime.now(UTC)
    moscow = Locale("ru", "Europe/Moscow")
    rounds = [ContestInfo(i, "codeforces", str(i), f"Codeforces Round {i} (Div. 2)",
                          f"https://codeforces.com/contest/{i}", now + timedelta(hours=3, minutes=19 + i), 8100,
                          "Codeforces") for i in range(1, 4)]
    contents = [Reminders((Reminder(rounds[0], 3600),)), Reminders(tuple(Reminder(r, 3600) for r in rounds)),
                Notice("moved", rounds[1], old_start=rounds[1].start - timedelta(days=1)),
                Notice("cancelled", rounds[2])]
    for content in contents:
        [outgoing] = sender.render(Batch(1, moscow, content, (USER_ID,), now))
        assert (await sender.send([outgoing]))[0].sent
    calls = await telegram.fake.wait_for(chat_id=USER_ID, count=len(contents))
    for call in calls:
        texts = [call.text, *(button["text"] for button in call.buttons())]
        assert not set().union(*(leaked(text, []) for text in texts)), call.text
    single, grouped, moved, cancelled = (call.text for call in calls)
    assert "через 3ч 20м" in single and "2ч 15м" in single
    assert grouped.startswith("⏰ 3 контеста скоро начнутся:")
    assert "перенесён" in moved and "отменён" in cancelled


def test_an_english_word_is_caught_and_names_are_not():
    assert leaked("<b>Upcoming contests</b> · через 3ч", []) == {"Upcoming", "contests"}
    assert leaked('Codeforces Round 5 (Div. 2) · <a href="https://x.org/a">открыть</a> /remind 1d 1h 10m', []) == set()
