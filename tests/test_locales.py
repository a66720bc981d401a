"""Every text the code marks for translation is translated in every catalog but English, with the same
{placeholders} (a missing one would show English to a Russian user, a wrong one would crash .format())."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from notify.i18n import LOCALES

REPO = Path(__file__).resolve().parents[1]
PLACEHOLDER = re.compile(r"{\w*}")
KEYWORDS = {**DEFAULT_KEYWORDS, "__": None}


def marked_texts() -> set[str]:
    """What scripts/i18n extracts: the Python code and the page templates named in locales/babel.cfg."""
    with (LOCALES / "babel.cfg").open() as mapping:
        method_map, options_map = parse_mapping_cfg(mapping)
    texts = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
            REPO, method_map, options_map, keywords=KEYWORDS):
        texts.add(message if isinstance(message, str) else message[0])
    return texts


def test_the_page_templates_are_read():
    assert "Skip to the content" in marked_texts()  # only web/templates/base.html has it


def catalog(language: str):
    with (LOCALES / language / "LC_MESSAGES" / "messages.po").open("rb") as file:
        return read_po(file)


def test_the_code_marks_texts():
    assert len(marked_texts()) > 40


def translated_forms(language: str) -> dict[str, tuple[str, ...]]:
    """Each text (a counted one by its singular) with its translated forms: one, or every plural form."""
    forms = {}
    for message in catalog(language):
        if not message.id:
            continue
        singular = message.id[0] if isinstance(message.id, tuple) else message.id
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        forms[singular] = tuple(strings) if all(strings) else ()
    return forms


@pytest.mark.parametrize("language", [p.name for p in LOCALES.iterdir() if p.is_dir() and p.name != "en"])
def test_catalog_translates_every_text(language):
    translations = translated_forms(language)
    missing = sorted(text for text in marked_texts() if not translations.get(text))
    assert not missing, f"{language}: not translated (run scripts/i18n, then translate): {missing}"
    for text in marked_texts():
        for form in translations[text]:
            assert sorted(PLACEHOLDER.findall(form)) == sorted(PLACEHOLDER.findall(text)), text
