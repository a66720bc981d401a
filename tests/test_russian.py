"""The Russian catalog keeps issue 14's rules: one word for a contest («контест»), «» quotes, Cyrillic duration
units written compactly (1д 2ч), and a counted text in the proper plural form (1 контест, 2 контеста,
5 контестов, 21 контест), through the whole chain from the code to what aiogram returns."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from notify.formatting import relative, span
from notify.i18n import LOCALES, make_i18n, ngettext, speaking
from notify.messages import ContestInfo, Locale, Reminder
from notify.render import reminder_text
from notify.rules import UnknownSites, duration_in_seconds, parse_offsets

REPO = Path(__file__).resolve().parents[1]
RUSSIAN = LOCALES / "ru" / "LC_MESSAGES" / "messages.po"
COUNTS = {1: 0, 2: 1, 5: 2, 21: 0, 11: 2, 22: 1, 112: 2}  # a count and the Russian form it takes (one, few, many)
I18N = make_i18n()


def russian_entries() -> list:
    with RUSSIAN.open("rb") as file:
        return [message for message in read_po(file) if message.id]


def forms(message) -> tuple[str, ...]:
    return message.string if isinstance(message.string, tuple) else (message.string,)


def singular(message) -> str:
    return message.id[0] if isinstance(message.id, tuple) else message.id


def test_the_pipeline_gives_each_count_its_russian_form(tmp_path):
    """A counted text in code → pybabel extract (as scripts/i18n runs it) → a plural entry merged into a copy of
    the real Russian catalog → scripts/translate.py's fill → compile_catalogs → aiogram's gettext."""
    (tmp_path / "code").mkdir()
    (tmp_path / "code" / "counted.py").write_text(
        'from notify.i18n import ngettext\n\nngettext("{n} bell rang", "{n} bells rang", 3)\n', encoding="utf-8")
    (tmp_path / "babel.cfg").write_text("[python: code/**.py]\n", encoding="utf-8")
    locales = tmp_path / "locales"
    shutil.copytree(LOCALES / "ru", locales / "ru")
    for mo in locales.glob("*/LC_MESSAGES/*.mo"):
        mo.unlink()
    pybabel = [sys.executable, "-m", "babel.messages.frontend"]
    subprocess.run([*pybabel, "extract", "-k", "_", "-k", "__", "--no-location", "--omit-header", "--sort-output",
                    "-F", "babel.cfg", "-o", "locales/messages.pot", "."], cwd=tmp_path, check=True,
                   capture_output=True)
    subprocess.run([*pybabel, "update", "--no-fuzzy-matching", "--ignore-obsolete", "-i", "locales/messages.pot",
                    "-d", "locales", "-D", "messages"], cwd=tmp_path, check=True, capture_output=True)
    sys.path.insert(0, str(REPO / "scripts"))
    try:
        from translate import fill
    finally:
        sys.path.remove(str(REPO / "scripts"))
    po = locales / "ru" / "LC_MESSAGES" / "messages.po"
    assert fill(po, {"{n} bell rang": ["{n} колокол прозвонил", "{n} колокола прозвонили",
                                       "{n} колоколов прозвонили"]}) == 0
    assert fill(po, {"{n} bell rang": "{n} колоколов"}) == 1  # one form for a counted text is refused
    i18n = make_i18n(locales)
    rendered = {}
    with speaking(i18n, "ru"):
        for n in COUNTS:
            rendered[n] = ngettext("{n} bell rang", "{n} bells rang", n).format(n=n)
    assert rendered == {1: "1 колокол прозвонил", 2: "2 колокола прозвонили", 5: "5 колоколов прозвонили",
                        21: "21 колокол прозвонил", 11: "11 колоколов прозвонили", 22: "22 колокола прозвонили",
                        112: "112 колоколов прозвонили"}


@pytest.mark.parametrize("language", ["ru", "en"])
def test_every_counted_entry_has_each_form_of_its_language(language):
    with (LOCALES / language / "LC_MESSAGES" / "messages.po").open("rb") as file:
        catalog = read_po(file)
    counted = [message for message in catalog if isinstance(message.id, tuple)]
    assert counted, "no counted text in the catalog (ngettext in the code)"
    for message in counted:
        assert len(forms(message)) == catalog.num_plurals, message.id
        if language == "ru":
            assert all(forms(message)) and len(set(forms(message))) > 1, message.id


def reminders(count: int) -> list[Reminder]:
    start = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
    return [Reminder(ContestInfo(i, "codeforces", str(i), f"Round {i}", f"https://codeforces.com/contest/{i}",
                                 start + timedelta(minutes=i), 7200), 3600) for i in range(count)]


@pytest.mark.parametrize(("count", "heading"), [
    (2, "⏰ 2 контеста скоро начнутся:"), (5, "⏰ 5 контестов скоро начнутся:"), (21, "⏰ 21 контест скоро начнётся:"),
    (11, "⏰ 11 контестов скоро начнутся:"), (22, "⏰ 22 контеста скоро начнутся:"),
])
def test_the_heading_of_grouped_reminders_agrees_with_the_count(count, heading):
    """What a Russian chat reads when several contests are due at once (notify/render.py), and one form of it
    for a single contest, which the pipeline reaches only through a count like 21."""
    text = reminder_text(I18N, Locale("ru", "Europe/Moscow"), reminders(count), datetime(2026, 11, 27, 11, 0,
                                                                                         tzinfo=UTC))
    assert text.split("\n")[0] == heading


COUNT = re.compile(r"{(n|count|minutes|hours|days|more)}")
# Texts with a count that needs no plural in either language: the count stands after a colon or a preposition
# that takes no noun after it ("всего 5", "из 12").
UNCOUNTED = {
    "Page {page} of {pages}.",
    "Press a button to switch a reminder on or off, or send your own times: /remind 1d 1h 10m (m, h, d; up to {n}). "
    "/remind off turns reminders off.",
    "{count} of {total} sites match.",  # rendered by the page's script, which has no plural rules
    "{sites}, … ({count} in all)",
    "🔔 Again in {minutes} min",  # «мин» (an abbreviation) reads the same for every count
    "I will remind you again in {minutes} min.",
    "{n} d", "{n} h", "{n} min",  # units of span(): «1д 2ч 10м»
}


def test_a_text_with_a_count_is_a_counted_text():
    """A text that shows a number of things is an ngettext entry, so Russian can say «2 контеста» and
    «5 контестов» (see UNCOUNTED for the few that need no plural)."""
    plain = sorted(message.id for message in russian_entries()
                   if isinstance(message.id, str) and COUNT.search(message.id) and message.id not in UNCOUNTED)
    assert not plain, f"a count in a text without plural forms (use ngettext): {plain}"


ENGLISH_QUOTES = re.compile(r"[\"“”„‟‘’]")


def test_russian_quotes_are_guillemets():
    wrong = [(singular(message), form) for message in russian_entries() for form in forms(message)
             if ENGLISH_QUOTES.search(re.sub(r"<[^>]*>", "", form))]
    assert not wrong, f"Russian quotes are «»: {wrong}"


def test_every_opening_guillemet_is_closed():
    """« alone reads as a quote that never ends (an arrow is ←)."""
    unpaired = [form for message in russian_entries() for form in forms(message) if not guillemets_pair(form)]
    assert not unpaired, unpaired


def guillemets_pair(text: str) -> bool:
    depth = 0
    for mark in re.findall("[«»]", text):
        depth += 1 if mark == "«" else -1
        if depth < 0:
            return False
    return depth == 0


def test_one_word_for_a_contest():
    every = " ".join(form for message in russian_entries() for form in forms(message)).lower()
    assert "контест" in every
    assert not re.search(r"соревновани", every), "the word for a contest is «контест», never «соревнование»"


def test_the_polite_you_is_lowercase():
    """«вы» in lowercase everywhere (the friendly form the catalog picked), also at the start of a sentence
    that is not the start of the text."""
    capital = [form for message in russian_entries() for form in forms(message)
               if re.search(r"(?<=[^.!?:\n]\s)(Вы|Вас|Вам|Ваш\w*)\b", form)]
    assert not capital, capital
    informal = [form for message in russian_entries() for form in forms(message)
                if re.search(r"\b(ты|тебя|тебе|тобой|тво[йяёеи]\w*)\b", form, re.IGNORECASE)]
    assert not informal, f"the catalog says «вы», never «ты»: {informal}"


def russian(render):
    with speaking(I18N, "ru"):
        return render()


@pytest.mark.parametrize(("seconds", "shown"), [
    (0, "0м"), (10 * 60, "10м"), (3 * 3600 + 20 * 60, "3ч 20м"), (3 * 3600, "3ч"),
    (26 * 3600 + 10 * 60, "1д 2ч"), (2 * 86400, "2д"), (59 * 60 + 50, "1ч"),
])
def test_russian_lengths_use_compact_cyrillic_units(seconds, shown):
    assert russian(lambda: span(seconds)) == shown


def test_russian_distances_read_naturally():
    now = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
    assert russian(lambda: relative(now + timedelta(hours=3, minutes=20), now)) == "через 3ч 20м"
    assert russian(lambda: relative(now - timedelta(minutes=20), now)) == "20м назад"
    assert russian(lambda: relative(now + timedelta(days=1, hours=2, minutes=10), now)) == "через 1д 2ч"
    assert russian(lambda: relative(now + timedelta(seconds=20), now)) == "сейчас"
    with speaking(I18N, "en"):
        assert relative(now + timedelta(hours=3, minutes=20), now) == "in 3 h 20 min"


def test_a_refused_name_is_quoted_the_russian_way():
    with speaking(I18N, "ru"):
        text = UnknownSites(["topcoder", "kattis"], ["codeforces", "atcoder"]).text()
    assert text.startswith("Такого сайта нет: «topcoder», «kattis».")


def test_a_russian_types_lengths_as_the_bot_writes_them():
    """The bot shows «1д 1ч 10м»: typed back, it is read as 1d 1h 10m."""
    assert parse_offsets("1д 1ч 10м") == parse_offsets("1d 1h 10m") == [86400, 3600, 600]
    assert duration_in_seconds("2Ч30м") == duration_in_seconds("2h30m") == 9000
    assert duration_in_seconds("5ж") is None
