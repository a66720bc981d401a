"""The email channel against a real SMTP server (aiosmtpd on loopback): what arrives (multipart text + HTML in
the account's language and zone, the .ics, one-click unsubscribe headers), one connection per batch, what a
dropped connection, a refused recipient and an outage do, and who may get mail.

`running_inbox` (the SMTP server) and `parts` (reading an email back) are used by the bot email tests too.
"""

from __future__ import annotations

import asyncio
import email.policy
import socket
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from email.message import EmailMessage
from email.parser import BytesParser
from email.policy import default as default_policy
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from icalendar import Calendar

from models.account import Account, EmailAddress
from notify.email import (
    EmailSender,
    SmtpServer,
    email_recipients,
    notice_email,
    reminder_email,
    verification_email,
)
from notify.formatting import relative, span
from notify.i18n import make_i18n, speaking
from notify.ical import contest_uid
from notify.messages import ContestInfo, Locale, Notice, Reminder

FROM = "contestbell <bell@example.org>"
BASE_URL = "https://bell.example.org"
TOKEN = "tok-3q2ZbQ_ExAmPlE"
VERIFY_TOKEN = "vfy-8kPq_ExAmPlE"


# a real SMTP server


def free_port() -> int:
    with socket.socket() as probe:  # aiosmtpd's Controller takes no port 0
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Inbox:
    """A real SMTP server (aiosmtpd in its own thread) on a free loopback port. As its handler it keeps what
    arrives and counts connections (one EHLO each); it can be told to answer DATA or RCPT otherwise, and be
    stopped (an outage) and started again on the same port."""

    def __init__(self) -> None:
        self.envelopes: list[Any] = []
        self.connections = 0
        self.data_answers: list[str | None] = []  # None: accept as usual
        self.refused: dict[str, str] = {}  # recipient -> answer to its RCPT
        self.port = free_port()
        self.controller: Controller | None = None

    def start(self) -> None:
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        self.connections += 1
        session.host_name = hostname
        return responses

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refused:
            return self.refused[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        answer = self.data_answers.pop(0) if self.data_answers else None
        if answer is not None:
            return answer
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"

    def messages(self) -> list[EmailMessage]:
        return [message_from_bytes(e.original_content or e.content, policy=default_policy) for e in self.envelopes]

    async def wait_for(self, count: int, timeout: float = 5.0) -> list[EmailMessage]:
        deadline = time.monotonic() + timeout
        while len(self.envelopes) < count:
            assert time.monotonic() < deadline, f"{count} emails expected, {len(self.envelopes)} arrived"
            await asyncio.sleep(0.01)
        return self.messages()

    def sender(self, **options: Any) -> EmailSender:
        """A sender to this server (no TLS on loopback), quick to give up."""
        options = {"timeout": 5.0, "attempts": 3, "backoff": 0.05, **options}
        return EmailSender(SmtpServer("127.0.0.1", self.port, starttls=False), FROM, **options)


@contextmanager
def running_inbox() -> Iterator[Inbox]:
    inbox = Inbox()
    inbox.start()
    try:
        yield inbox
    finally:
        inbox.stop()


@pytest.fixture
def inbox() -> Iterator[Inbox]:
    with running_inbox() as running:
        yield running


# reading emails back


def parts(message: EmailMessage) -> tuple[str, str, list[EmailMessage]]:
    """The plain text, the HTML and the attachments of multipart/mixed(alternative(text, html), attachments...)
    or, without attachments, of multipart/alternative(text, html). Line ends as Python writes them."""
    if message.get_content_type() == "multipart/mixed":
        alternative, *attachments = message.iter_parts()
    else:
        alternative, attachments = message, []
    assert alternative.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in alternative.iter_parts()] == ["text/plain", "text/html"]
    text, html = (p.get_content().replace("\r\n", "\n") for p in alternative.iter_parts())
    return text, html, attachments


def calendar_of(message: EmailMessage) -> Calendar:
    *_, attachments = parts(message)
    (ics,) = [a for a in attachments if a.get_content_type() == "text/calendar"]
    assert ics.get_filename().endswith(".ics") and ics.get_param("method") == "PUBLISH"
    return Calendar.from_ical(ics.get_content())


def unsubscribe_headers(message: EmailMessage, token: str = TOKEN) -> None:
    # a long header is folded on the wire (legal: readers unfold it), which leaves a space in front here
    assert message["List-Unsubscribe"].strip() == f"<{BASE_URL}/email/unsubscribe/{token}>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


# what emails say

LONG_TITLE = "Раунд Codeforces 1000 (Див. 2) с очень длинным названием, которое не влезает в одну строку"
START = datetime(2030, 7, 1, 17, 5, tzinfo=UTC)  # a Monday; 19:05 in Berlin (CEST), 20:05 in Moscow
ROUND = ContestInfo(1, "codeforces", "2100", "Codeforces Round 1000 <Div. 2> & friends",
                    "https://codeforces.com/contest/2100", START, 2 * 3600 + 15 * 60, "Codeforces")
ABC = ContestInfo(2, "atcoder", "abc400", "AtCoder Beginner Contest 400", "https://atcoder.jp/contests/abc400",
                  START + timedelta(hours=1), 100 * 60, "AtCoder")


@pytest.fixture(scope="module")
def i18n():
    return make_i18n()


class To:
    address = "ann@example.org"
    token = TOKEN
    verify_token = VERIFY_TOKEN


def reminder(i18n, reminders, language="en", zone="Europe/Berlin", now=START - timedelta(hours=1)):
    return reminder_email(i18n, Locale(language, zone), To(), reminders, from_address=FROM,
                          base_url=BASE_URL, now=now)


async def deliver(inbox: Inbox, *messages: EmailMessage) -> list[EmailMessage]:
    results = await inbox.sender().send(list(messages))
    assert all(result.ok for result in results), results
    return await inbox.wait_for(len(messages))


def alarm_of(event) -> timedelta:
    """When the event's one alarm rings, before its start (it must be a DISPLAY alarm with a text)."""
    (alarm,) = event.subcomponents
    assert alarm.name == "VALARM" and str(alarm["ACTION"]) == "DISPLAY" and str(alarm["DESCRIPTION"])
    return -alarm["TRIGGER"].dt


def ics_of(message: EmailMessage) -> EmailMessage:
    *_, attachments = parts(message)
    (ics,) = attachments
    return ics


async def test_a_reminder_arrives_as_text_html_and_ics_in_the_account_zone(inbox, i18n):
    (got,) = await deliver(inbox, reminder(i18n, [Reminder(ROUND, 3600)]))
    assert got["Subject"] == "Starts in 1 h: Codeforces Round 1000 <Div. 2> & friends"
    assert got["From"] == FROM and got["To"] == "ann@example.org"
    assert got["Auto-Submitted"] == "auto-generated" and got["Message-ID"].endswith("@example.org>")
    unsubscribe_headers(got)
    text, html, _attachments = parts(got)
    assert text.startswith("Contest reminder\n\nTimes are in Berlin (UTC+2).\n\n")
    assert ("Codeforces Round 1000 <Div. 2> & friends\nCodeforces\nMon, 1 Jul, 19:05 (in 1 h)\n"
            "Duration: 2 h 15 min\nOpen the contest: https://codeforces.com/contest/2100\n") in text
    assert f"Unsubscribe: {BASE_URL}/email/unsubscribe/{TOKEN}" in text and "late" not in text
    assert "Codeforces Round 1000 &lt;Div. 2&gt; &amp; friends" in html and "<Div. 2>" not in html
    assert 'href="https://codeforces.com/contest/2100"' in html and ">Open the contest</a>" in html
    card = html[html.index('class="cb-card"'):]
    assert card.index("Mon, 1 Jul, 19:05") < card.index("in 1 h")  # the absolute time first
    assert html.count("Berlin (UTC+2)") == 1
    assert f'href="{BASE_URL}/email/unsubscribe/{TOKEN}"' in html
    assert "color-scheme:light dark" in html and "@media (prefers-color-scheme: dark)" in html

    ics = ics_of(got)
    assert ics.get_filename() == "Codeforces-Round-1000-Div-2-friends.ics"
    (event,) = calendar_of(got).events
    assert str(event["UID"]) == "contest-codeforces-2100@contestbell" == contest_uid(ROUND)
    assert event.start == START and event.start.utcoffset() == timedelta(0)  # DTSTART in UTC
    assert event.end == START + timedelta(hours=2, minutes=15)
    assert str(event["SUMMARY"]) == ROUND.title and str(event["STATUS"]) == "CONFIRMED"
    assert b"DTSTART:20300701T170500Z" in event.to_ical()
    assert alarm_of(event) == timedelta(minutes=15)  # an hour before would ring as the email arrives


async def test_a_short_reminder_rings_at_its_own_offset(inbox, i18n):
    (got,) = await deliver(inbox, reminder(i18n, [Reminder(ROUND, 600)], now=START - timedelta(minutes=10)))
    assert got["Subject"] == f"Starts in 10 min: {ROUND.title}"
    (event,) = calendar_of(got).events
    assert alarm_of(event) == timedelta(minutes=10)


async def test_a_russian_account_gets_russian_in_its_own_zone(inbox, i18n):
    (got,) = await deliver(inbox, reminder(i18n, [Reminder(ROUND, 3600)], language="ru", zone="Europe/Moscow"))
    with speaking(i18n, "ru"):
        soon = relative(ROUND.start, START - timedelta(hours=1))
        duration = span(ROUND.duration)
    assert got["Subject"] == f"Начнётся {soon}: Codeforces Round 1000 <Div. 2> & friends"
    text, html, _attachments = parts(got)
    assert text.startswith("Напоминание о контесте\n\nЧасовой пояс: Москва (UTC+3).")
    assert f"пн, 1 июл., 20:05 ({soon})" in text and f"Длительность: {duration}" in text
    assert "Отписаться" in html and "Открыть контест" in html
    assert got["Content-Language"] == "ru" and '<html lang="ru"' in html
    unsubscribe_headers(got)


async def test_reminders_due_together_are_one_email_with_every_contest(inbox, i18n):
    (got,) = await deliver(inbox, reminder(i18n, [Reminder(ABC, 3600), Reminder(ROUND, 3600, late=True)],
                                           zone="America/New_York"))
    assert got["Subject"] == "2 contests start soon"
    text, html, _attachments = parts(got)
    assert text.startswith("2 contests start soon\n\nTimes are in New York (UTC−4).")
    assert text.index("Mon, 1 Jul, 13:05 (in 1 h)") < text.index("Mon, 1 Jul, 14:05 (in 2 h)")  # by start
    assert "This reminder comes late" in text and html.count(">Open the contest</a>") == 2
    assert ics_of(got).get_filename() == "contests.ics"
    events = calendar_of(got).events
    assert sorted(str(e["UID"]) for e in events) == sorted([contest_uid(ROUND), contest_uid(ABC)])
    assert [alarm_of(event) for event in events] == [timedelta(minutes=15)] * 2
    unsubscribe_headers(got)


@pytest.mark.parametrize(("count", "subject"), [(2, "2 контеста скоро начнутся"), (5, "5 контестов скоро начнутся"),
                                                (21, "21 контест скоро начнётся")])
def test_grouped_reminders_count_in_russian_plural_forms(i18n, count, subject):
    contests = [ContestInfo(n, "atcoder", f"abc{n}", f"ABC {n}", "https://atcoder.jp/", START, 6000)
                for n in range(1, count + 1)]
    letter = reminder(i18n, [Reminder(contest, 3600) for contest in contests], language="ru")
    assert letter["Subject"] == subject
    assert parts(letter)[0].startswith(subject + "\n")  # the heading too


async def test_moved_and_cancelled_notices_update_the_same_calendar_event(inbox, i18n):
    recipient = Locale("en", "Europe/Berlin")
    moved_to = START + timedelta(days=1)
    moved = ContestInfo(**{**{f: getattr(ROUND, f) for f in ROUND.__slots__}, "start": moved_to})
    first = reminder(i18n, [Reminder(ROUND, 86400)], now=START - timedelta(days=1))
    later = START - timedelta(hours=20)
    moved_email = notice_email(i18n, recipient, To(), Notice("moved", moved, old_start=START), from_address=FROM,
                               base_url=BASE_URL, now=later)
    cancelled_email = notice_email(i18n, recipient, To(), Notice("cancelled", moved), from_address=FROM,
                                   base_url=BASE_URL, now=later + timedelta(hours=1))
    got_first, got_moved, got_cancelled = await deliver(inbox, first, moved_email, cancelled_email)

    assert got_moved["Subject"] == f"Moved: {ROUND.title} → Tue 2 Jul 19:05 CEST"
    text, html, _ = parts(got_moved)
    assert "Tue, 2 Jul, 19:05 (in 1 d 20 h)\n" in text and "Was: Mon, 1 Jul, 19:05" in text
    assert html.index("Tue, 2 Jul, 19:05") < html.index("<s>Mon, 1 Jul, 19:05</s>")  # the news first
    assert "&lt;Div. 2&gt; &amp; friends has moved." in html
    assert got_cancelled["Subject"] == f"Cancelled: {ROUND.title}"
    text, html, _ = parts(got_cancelled)
    assert "has been cancelled" in text and "Cancelled (Tue, 2 Jul, 19:05)" in text
    assert ics_of(got_moved).get_filename() == ics_of(got_cancelled).get_filename() == \
        "Codeforces-Round-1000-Div-2-friends.ics"

    (e1,), (e2,), (e3,) = (calendar_of(m).events for m in (got_first, got_moved, got_cancelled))
    assert str(e1["UID"]) == str(e2["UID"]) == str(e3["UID"]) == contest_uid(ROUND)
    assert (e1.start, e2.start) == (START, moved_to)
    assert int(e1["SEQUENCE"]) < int(e2["SEQUENCE"]) < int(e3["SEQUENCE"])  # each supersedes the one before
    assert str(e2["STATUS"]) == "CONFIRMED" and str(e3["STATUS"]) == "CANCELLED"
    assert alarm_of(e2) == timedelta(minutes=15) and not e3.subcomponents  # no alarm for what will not happen
    for message in (got_moved, got_cancelled):
        unsubscribe_headers(message)


async def test_a_subject_with_non_ascii_is_encoded_and_reads_back(inbox, i18n):
    """The arrow and Cyrillic go out as RFC 2047 encoded words (the raw header is ASCII) and decode to the words."""
    moved = Notice("moved", ROUND, old_start=START - timedelta(hours=2))
    letters = [notice_email(i18n, Locale(language, "Europe/Moscow"), To(), moved, from_address=FROM,
                            base_url=BASE_URL, now=START - timedelta(days=1)) for language in ("en", "ru")]
    await deliver(inbox, *letters)
    subjects = []
    for envelope in inbox.envelopes:
        raw = envelope.original_content
        assert b"".join(raw_headers(raw)["subject"]).isascii() and b"=?utf-8?" in raw_headers(raw)["subject"][0]
        subjects.append(BytesParser(policy=default_policy).parsebytes(raw)["Subject"])
    assert subjects[0] == f"Moved: {ROUND.title} → Mon 1 Jul 20:05 MSK"
    assert subjects[1] == f"Перенесён: {ROUND.title} → пн 1 июл. 20:05 MSK"


@pytest.mark.parametrize(("zone", "shown"), [
    ("Europe/Berlin", "Mon 1 Jul 19:05 CEST"), ("Europe/Minsk", "Mon 1 Jul 20:05 UTC+3"),
    ("America/New_York", "Mon 1 Jul 13:05 EDT"), ("UTC", "Mon 1 Jul 17:05 UTC"),
    ("UTC-04:30", "Mon 1 Jul 12:35 UTC−4:30"),
])
def test_a_moved_subject_names_the_zone_by_its_letters_or_its_offset(i18n, zone, shown):
    """Letters where the zone database has them (CEST, EDT); where it has only digits ("+03"), the UTC offset."""
    letter = notice_email(i18n, Locale("en", zone), To(), Notice("moved", ROUND, START - timedelta(hours=1)),
                          from_address=FROM, base_url=BASE_URL, now=START - timedelta(days=1))
    assert letter["Subject"] == f"Moved: {ROUND.title} → {shown}"


@pytest.mark.parametrize(("title", "filename"), [
    ("Codeforces Round 999 (Div. 2)", "Codeforces-Round-999-Div-2.ics"),
    ("École d'été — Round #3", "Ecole-d-ete-Round-3.ics"),
    ("Раунд Codeforces 1000 (Див. 2)", "Раунд-Codeforces-1000-Див-2.ics"),
    ("../../etc/passwd\r\nX: y", "etc-passwd-X-y.ics"),
    ("★ ☆ ★", "contest.ics"),
    (LONG_TITLE, "Раунд-Codeforces-1000-Див-2-с-очень-длинным-названием.ics"),
])
async def test_the_ics_is_named_after_the_contest(inbox, i18n, title, filename):
    """A safe name (letters, digits and dashes, at most 60 characters before .ics); a name kept in another script
    goes out as RFC 2231 `filename*`, and mail clients read it back."""
    contest = ContestInfo(5, "codeforces", "999", title, "https://codeforces.com/contest/999", START, 7200)
    (got,) = await deliver(inbox, reminder(i18n, [Reminder(contest, 3600)]))
    assert ics_of(got).get_filename() == filename and len(filename) <= 64
    raw = inbox.envelopes[0].original_content
    assert (b"*=utf-8''" in raw) == (not filename.isascii())


async def test_the_verification_email_says_why_it_came_and_has_no_unsubscribe(inbox, i18n):
    """Nobody has subscribed yet: no List-Unsubscribe and no unsubscribe footer, but why it came and what to do
    when it was not them."""
    letter = verification_email(i18n, To(), "en", from_address=FROM, base_url=BASE_URL + "/")
    (got,) = await deliver(inbox, letter)
    assert got.get_content_type() == "multipart/alternative"
    assert got["List-Unsubscribe"] is None and got["List-Unsubscribe-Post"] is None
    assert b"List-Unsubscribe" not in inbox.envelopes[0].original_content
    text, html, attachments = parts(got)
    link = f"{BASE_URL}/email/verify/{VERIFY_TOKEN}"  # its own token: an unsubscribe link cannot confirm
    assert f"Confirm this address: {link}" in text and f'href="{link}"' in html
    assert f"/verify/{TOKEN}" not in text + html and "/unsubscribe/" not in text + html
    assert "Unsubscribe" not in text + html
    assert "asked contestbell to send contest reminders to ann@example.org" in text
    assert "If it was not you, ignore this email" in text and attachments == []
    russian = parts(verification_email(i18n, To(), "ru", from_address=FROM, base_url=BASE_URL))[0]
    assert "Если это были не вы" in russian and "Отписаться" not in russian


def test_line_breaks_in_a_title_never_make_headers(i18n):
    sneaky = ContestInfo(3, "atcoder", "arc1", "Round\r\n1\nBcc: eve@example.org", "https://atcoder.jp/", START, 60)
    letter = reminder(i18n, [Reminder(sneaky, 3600)])
    assert letter["Subject"] == "Starts in 1 h: Round 1 Bcc: eve@example.org" and letter["Bcc"] is None
    assert "eve" not in repr(SmtpServer("h", user="u", password="eve-secret"))  # nor passwords in logs


def test_a_script_link_from_a_site_never_becomes_a_button(i18n):
    sneaky = ContestInfo(3, "ical", "x", "Feed contest", "javascript:alert(1)", START, 3600, "Some feed")
    _text, html, _attachments = parts(reminder(i18n, [Reminder(sneaky, 3600)]))
    assert "javascript:" not in html and "Open the contest" not in html and "Feed contest" in html


def test_a_message_needs_a_token_for_its_links(i18n):
    class NoToken:
        address, token = "ann@example.org", None

    with pytest.raises(ValueError, match="no token"):
        reminder_email(i18n, Locale("en", "UTC"), NoToken(), [Reminder(ROUND, 3600)], from_address=FROM,
                       base_url=BASE_URL)


def test_a_verification_email_needs_its_own_token(i18n):
    class NoVerifyToken(To):
        verify_token = None

    with pytest.raises(ValueError, match="no token"):
        verification_email(i18n, NoVerifyToken(), "en", from_address=FROM, base_url=BASE_URL)


# the one-click unsubscribe headers on the wire

LONG_BASE_URL = "https://contestbell.example-organisation.org"
REAL_TOKEN = "Q2hlY2tfdGhlX2xlbmd0aF9vZl9hX3JlYWxfdG9rZW4"  # as long as secrets.token_urlsafe(32) makes


class LongTo(To):
    token = REAL_TOKEN


def raw_headers(raw: bytes, linesep: bytes = b"\r\n") -> dict[str, list[bytes]]:
    """The top-level headers of a raw message, each as its lines on the wire, by lower-cased name."""
    headers: dict[str, list[bytes]] = {}
    lines: list[bytes] = []
    for line in raw.split(linesep * 2, 1)[0].split(linesep):
        if line[:1] not in (b" ", b"\t"):
            lines = headers.setdefault(line.split(b":", 1)[0].decode("ascii").lower(), [])
        lines.append(line)
    return headers


def unfolded(lines: list[bytes]) -> str:
    """A header's value as RFC 5322 reads it: line breaks removed, whitespace after the colon skipped."""
    return b"".join(lines).split(b":", 1)[1].lstrip(b" \t").decode("ascii")


def assert_plain_unsubscribe_headers(raw: bytes, base_url: str, linesep: bytes = b"\r\n") -> None:
    headers = raw_headers(raw, linesep)
    unsubscribe = headers["list-unsubscribe"]
    assert unfolded(unsubscribe) == f"<{base_url}/email/unsubscribe/{REAL_TOKEN}>", unsubscribe
    assert b"=?" not in b"".join(unsubscribe)
    assert headers["list-unsubscribe-post"] == [b"List-Unsubscribe-Post: List-Unsubscribe=One-Click"]
    assert all(len(line) <= 998 for line in raw.split(linesep))


@pytest.mark.parametrize("base_url", [BASE_URL, LONG_BASE_URL, LONG_BASE_URL + "/contest-reminders/europe"])
async def test_unsubscribe_headers_arrive_plain_however_long_the_link(inbox, i18n, base_url):
    """Mail providers read List-Unsubscribe only as plain text: no RFC 2047 encoded word, the URL in one piece,
    folded only where whitespace may go (a line may pass 78 characters then, never 998). The Subject, non-ASCII
    and long, is still encoded and folded to 78."""
    contest = ContestInfo(4, "codeforces", "2101", LONG_TITLE, "https://codeforces.com/contest/2101", START, 7200)
    moscow = Locale("ru", "Europe/Moscow")
    letters = [
        reminder_email(i18n, moscow, LongTo(), [Reminder(contest, 3600)], from_address=FROM, base_url=base_url,
                       now=START - timedelta(hours=1)),
        notice_email(i18n, moscow, LongTo(), Notice("cancelled", contest), from_address=FROM, base_url=base_url),
    ]
    got = await deliver(inbox, *letters)
    for envelope in inbox.envelopes:
        raw = envelope.original_content
        assert_plain_unsubscribe_headers(raw, base_url)
        subject = raw_headers(raw)["subject"]
        assert subject[0].startswith(b"Subject: =?utf-8?") and all(len(line) <= 78 for line in subject)
    assert got[0]["Subject"].endswith(f": {LONG_TITLE}") and got[0]["Subject"].startswith("Начнётся через 1")
    assert got[1]["Subject"] == f"Отменён: {LONG_TITLE}"


def test_a_link_that_cannot_be_a_plain_header_is_refused_when_the_email_is_made(i18n):
    """Better no email than one whose unsubscribe header providers ignore (an IDN base URL must be punycode)."""
    for base_url in ("https://звонок.example", BASE_URL + "/" + "x" * 1000):
        with pytest.raises(ValueError, match="header"):
            reminder_email(i18n, Locale("en", "UTC"), To(), [Reminder(ROUND, 3600)], from_address=FROM,
                           base_url=base_url)


@pytest.mark.parametrize("policy", [email.policy.SMTP, email.policy.SMTPUTF8, email.policy.default],
                         ids=["SMTP", "SMTPUTF8", "default"])
def test_every_policy_writes_the_unsubscribe_headers_plain(i18n, policy):
    """As text (`fold`) and as bytes (`fold_binary`), whichever policy the writer brings."""
    letter = reminder_email(i18n, Locale("en", "UTC"), LongTo(), [Reminder(ROUND, 3600)], from_address=FROM,
                            base_url=LONG_BASE_URL, now=START)
    linesep = policy.linesep.encode()
    assert_plain_unsubscribe_headers(letter.as_bytes(policy=policy), LONG_BASE_URL, linesep)
    assert_plain_unsubscribe_headers(letter.as_string(policy=policy).encode(), LONG_BASE_URL, linesep)


# sending


def numbered(i18n, count: int) -> list[EmailMessage]:
    letters = []
    for n in range(count):
        letter = reminder(i18n, [Reminder(ROUND, 3600)])
        letter.replace_header("To", f"user{n}@example.org")
        letters.append(letter)
    return letters


async def test_a_batch_goes_over_one_connection(inbox, i18n):
    sender = inbox.sender()
    results = await sender.send(numbered(i18n, 5))
    assert [r.ok for r in results] == [True] * 5
    got = await inbox.wait_for(5)
    assert [m["To"] for m in got] == [f"user{n}@example.org" for n in range(5)]
    assert [e.rcpt_tos for e in inbox.envelopes] == [[f"user{n}@example.org"] for n in range(5)]
    assert inbox.connections == 1
    await sender.send(numbered(i18n, 2))
    assert inbox.connections == 2 and len(inbox.envelopes) == 7
    assert await sender.send([]) == []


async def test_a_dropped_connection_sends_the_rest_over_a_new_one(inbox, i18n):
    inbox.data_answers = [None, "421 Service shutting down"]  # the second message: the server goes away
    results = await inbox.sender().send(numbered(i18n, 4))
    assert all(r.ok for r in results), results
    got = await inbox.wait_for(4)
    assert sorted(m["To"] for m in got) == [f"user{n}@example.org" for n in range(4)]  # each once
    assert inbox.connections == 2


async def test_a_flaky_server_gets_the_whole_batch_while_each_connection_gets_somewhere(inbox, i18n):
    """Every connection drops after one message: more drops than `attempts`, yet no connection was fruitless."""
    inbox.data_answers = [None, "421 Going away"] * 3
    results = await inbox.sender(attempts=2).send(numbered(i18n, 4))
    assert all(r.ok for r in results), results
    assert sorted(m["To"] for m in await inbox.wait_for(4)) == [f"user{n}@example.org" for n in range(4)]
    assert inbox.connections == 4


async def test_a_refused_recipient_fails_alone(inbox, i18n):
    inbox.refused["user1@example.org"] = "550 5.1.1 No such user"
    inbox.refused["user2@example.org"] = "450 4.2.1 Mailbox busy"
    results = await inbox.sender().send(numbered(i18n, 4))
    assert [r.ok for r in results] == [True, False, False, True]
    assert "No such user" in results[1].error and not results[1].temporary
    assert results[2].temporary
    await inbox.wait_for(2)
    assert inbox.connections == 1


async def test_an_smtp_outage_is_reported_not_raised(inbox, i18n):
    inbox.stop()  # the port is closed now
    sender = inbox.sender(timeout=3.0, attempts=3, backoff=0.05)
    began = time.monotonic()
    results = await sender.send(numbered(i18n, 3))
    assert time.monotonic() - began < 3.0
    assert [r.ok for r in results] == [False] * 3
    assert all(r.temporary and "Connect" in r.error for r in results), results
    inbox.start()  # back: the same sender works again
    assert (await sender.send_one(numbered(i18n, 1)[0])).ok


@pytest.fixture
async def silent_server() -> AsyncIterator[int]:
    """A server that accepts connections and never says a word."""
    async def hold(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()
        writer.close()

    server = await asyncio.start_server(hold, "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()


async def test_a_server_that_hangs_costs_no_more_than_the_timeout(silent_server, i18n):
    sender = EmailSender(SmtpServer("127.0.0.1", silent_server, starttls=False), FROM, timeout=1.0,
                         attempts=5, backoff=0.05)
    began = time.monotonic()
    other_channel = asyncio.create_task(asyncio.sleep(0.1))
    results = await sender.send(numbered(i18n, 3))
    assert time.monotonic() - began < 1.5
    assert other_channel.done()  # the event loop was never blocked
    assert [r.ok for r in results] == [False] * 3 and all(r.temporary for r in results)


async def test_a_configuration_error_is_not_retried(inbox, i18n):
    """STARTTLS required (the default) on a server without it: failing again would not help."""
    sender = EmailSender(SmtpServer("127.0.0.1", inbox.port), FROM, timeout=5.0, attempts=3, backoff=0.05)
    results = await sender.send(numbered(i18n, 2))
    assert [r.ok for r in results] == [False, False]
    assert "STARTTLS" in results[0].error and not results[0].temporary
    assert inbox.connections == 1 and inbox.envelopes == []


def test_the_sender_needs_a_from_address():
    with pytest.raises(ValueError, match="not an email address"):
        EmailSender(SmtpServer("127.0.0.1"), "contestbell")


# who gets mail


async def test_only_verified_subscribed_addresses_get_reminders(db):
    now = datetime.now(UTC)
    accounts = [await Account.create() for _ in range(5)]
    verified = await EmailAddress.create(account=accounts[0], address="a@example.org", token="t0", verified_at=now)
    await EmailAddress.create(account=accounts[1], address="b@example.org", token="t1")  # not confirmed
    await EmailAddress.create(account=accounts[2], address="c@example.org", token="t2", verified_at=now,
                              unsubscribed=True)
    other = await EmailAddress.create(account=accounts[3], address="d@example.org", token="t3", verified_at=now)
    found = await email_recipients(a.id for a in accounts)
    assert {k: v.address for k, v in found.items()} == {accounts[0].id: verified.address, accounts[3].id: other.address}
    assert await email_recipients([]) == {}
    assert list(await email_recipients([accounts[3].id, accounts[3].id])) == [accounts[3].id]
