"""How an email looks: a letter (heading, contest cards, a button, a footer) written as HTML and as plain text
from the templates in notify/templates/ (jinja2, HTML autoescaped: titles come from contest sites).

The HTML is what mail clients render well: a table layout at most 600 px wide that is fluid on phones, inline
CSS (clients drop much of a <style>; the small one kept holds only the dark-mode and the narrow-screen rules),
`color-scheme: light dark`, and buttons made of a table cell and a link (they survive clients that ignore
padding on links). The plain text says the same for clients that show no HTML.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from functools import cache
from pathlib import Path
from urllib.parse import urlsplit

from babel.dates import format_datetime
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from notify.formatting import relative, span
from notify.messages import ContestInfo
from notify.site_colours import site_colour
from notify.zones import utc_offset

TEMPLATES = Path(__file__).resolve().parent / "templates"
#: a card's time: "Mon, 1 Jul, 19:05" (the zone is said once, in the letter's header)
CARD_TIME = "EEE, d MMM, HH:mm"
#: a card's time under a heading that names its day (a digest's)
CARD_CLOCK = "HH:mm"
#: a subject's time: "Fri 27 Nov 00:33", then the zone's abbreviation or offset
SUBJECT_TIME = "EEE d MMM HH:mm"


@dataclass(frozen=True, slots=True)
class Button:
    label: str
    url: str


@dataclass(frozen=True, slots=True)
class Card:
    """One contest: site (and its colour), title, when (absolute first, then how far away), how long, its link."""

    site: str
    colour: str
    title: str
    when: str
    hint: str
    duration: str
    button: Button | None
    was: str | None = None  # a moved contest's old time; a cancelled one's planned time
    cancelled: bool = False


@dataclass(frozen=True, slots=True)
class Section:
    """Cards under an optional heading (a digest has one per local day)."""

    cards: tuple[Card, ...]
    heading: str | None = None


@dataclass(frozen=True, slots=True)
class Footer:
    """Why the email came and the link that stops it."""

    lines: tuple[str, ...]
    link_label: str
    link: str


@dataclass(frozen=True, slots=True)
class Letter:
    """An email's words before they become a message."""

    language: str
    subject: str
    heading: str
    intro: tuple[str, ...] = ()
    sections: tuple[Section, ...] = ()
    button: Button | None = None
    button_fallback: str | None = None  # the button's link written out (HTML only: the text shows the link anyway)
    outro: tuple[str, ...] = ()
    footer: Footer | None = None
    labels: dict[str, str] = field(default_factory=dict)  # "open", "duration": words the templates print

    @property
    def preheader(self) -> str:
        """What inboxes show after the subject: when the first contest starts and where, else the first words."""
        cards = [card for section in self.sections for card in section.cards]
        if cards:
            return f"{cards[0].when} · {cards[0].site} · {cards[0].title}"
        return " ".join(self.intro[:1]) or self.heading


@cache
def _environment() -> Environment:
    return Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]),
                       undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)


def html_of(letter: Letter) -> str:
    return _environment().get_template("email.html").render(letter=letter)


def text_of(letter: Letter) -> str:
    text = _environment().get_template("email.txt").render(letter=letter)
    return "\n".join(line.rstrip() for line in text.splitlines()).strip() + "\n"


# what cards and subjects say


def web_link(url: str) -> str | None:
    """The contest's address when it is http(s): a site's payload never becomes a script link."""
    return url if urlsplit(url).scheme in ("http", "https") and urlsplit(url).netloc else None


def card_time(moment: datetime, zone: tzinfo, language: str, pattern: str = CARD_TIME) -> str:
    return format_datetime(moment.astimezone(zone), pattern, locale=language)


def zone_abbreviation(moment: datetime, zone: tzinfo) -> str:
    """'MSK', 'CEST', 'EDT' where the zone database has letters for it; the UTC offset otherwise ('+05' is not
    a name people know)."""
    name = moment.astimezone(zone).tzname() or ""
    return name if name.isalpha() and name.isascii() and name != "UTC" else utc_offset(zone, moment)


def subject_time(moment: datetime, zone: tzinfo, language: str) -> str:
    """'Fri 27 Nov 00:33 MSK'"""
    shown = format_datetime(moment.astimezone(zone), SUBJECT_TIME, locale=language)
    return f"{shown} {zone_abbreviation(moment, zone)}"


def contest_card(contest: ContestInfo, zone: tzinfo, language: str, now: datetime, open_label: str, *,
                 was: str | None = None, cancelled: bool = False, pattern: str = CARD_TIME) -> Card:
    """A contest's card; `pattern` (babel's) writes its start ("Mon, 1 Jul, 19:05")."""
    link = web_link(contest.url)
    return Card(site=contest.site_label, colour=site_colour(contest.site), title=" ".join(contest.title.split()),
                when=card_time(contest.start, zone, language, pattern), hint=relative(contest.start, now),
                duration=span(contest.duration) if contest.duration > 0 else "",
                button=Button(open_label, link) if link else None, was=was, cancelled=cancelled)
