"""gettext for the bot: catalogs in `locales/<lang>/LC_MESSAGES/messages.po`, compiled to .mo on start.

A new language is a new catalog: nothing in the code lists the languages.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path

from aiogram.utils.i18n import I18n, gettext
from babel import Locale
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

LOCALES = Path(__file__).resolve().parents[1] / "locales"
DOMAIN = "messages"
DEFAULT_LANGUAGE = "en"


def N_(message: str) -> str:
    """Mark a text for the catalog where it is translated later, with an explicit locale."""
    return message


def ngettext(singular: str, plural: str, n: int) -> str:
    """The form of a counted text for `n` in the language in force ("1 contest" / "2 contests"; Russian has three
    forms). The count is not filled in: pass it to `.format()` as well."""
    return gettext(singular, plural, n)


def compile_catalogs(root: Path = LOCALES) -> None:
    """Write each catalog's .mo beside its .po when the .po is newer (aiogram reads only .mo files)."""
    for po_path in root.glob(f"*/LC_MESSAGES/{DOMAIN}.po"):
        mo_path = po_path.with_suffix(".mo")
        if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
            continue
        with po_path.open("rb") as po_file:
            catalog = read_po(po_file)
        with mo_path.open("wb") as mo_file:
            write_mo(mo_file, catalog)


def make_i18n(root: Path = LOCALES) -> I18n:
    compile_catalogs(root)
    return I18n(path=root, default_locale=DEFAULT_LANGUAGE, domain=DOMAIN)


@cache
def spoken_languages(root: Path = LOCALES) -> frozenset[str]:
    """The default language and every catalog under `root`: what `languages()` lists, without an I18n at hand."""
    return frozenset({DEFAULT_LANGUAGE, *(po.parents[1].name for po in root.glob(f"*/LC_MESSAGES/{DOMAIN}.po"))})


def languages(i18n: I18n) -> list[str]:
    """Every language the bot speaks: the default one and each compiled catalog."""
    return sorted({i18n.default_locale, *i18n.available_locales})


def language_name(code: str) -> str:
    """The language's own name ("English", "Русский")."""
    name = Locale.parse(code).get_display_name(code) or code
    return name[:1].upper() + name[1:]


def pick_language(i18n: I18n, telegram_code: str | None) -> str:
    """The language for a new chat: the user's Telegram language when we speak it."""
    code = (telegram_code or "").split("-")[0].lower()
    return code if code in languages(i18n) else i18n.default_locale


@contextmanager
def speaking(i18n: I18n, language: str) -> Iterator[None]:
    """`_()` (and the bot's formatting helpers) in `language`, outside of update handling."""
    with i18n.context(), i18n.use_locale(language if language in i18n.available_locales else i18n.default_locale):
        yield


if __name__ == "__main__":
    compile_catalogs()
