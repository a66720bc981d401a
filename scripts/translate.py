"""Fill a catalog's empty translations from a JSON file of {msgid: msgstr} (used when adding texts):

    .venv/bin/python scripts/translate.py ru translations.json

A counted text (`ngettext` in notify/i18n.py) is keyed by its singular msgid and given a list of every plural
form of the language (Russian: one, few, many: ["{n} контест", "{n} контеста", "{n} контестов"]).
Only entries whose msgid is in the catalog are taken; placeholders must match or the entry is refused.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

from babel.messages.pofile import read_po, write_po

PLACEHOLDER = re.compile(r"{\w*}")


def placeholders(text: str) -> list[str]:
    return sorted(PLACEHOLDER.findall(text))


def refusal(forms: tuple[str, ...], singular: str, count: int) -> str | None:
    """Why these translated forms cannot be taken, or None when they can."""
    if len(forms) != count:
        return f"{len(forms)} forms given, {count} wanted (a counted text takes a list of every plural form)"
    if any(placeholders(form) != placeholders(singular) for form in forms):
        return "placeholders differ"
    return None


def fill(path: Path, translations: dict[str, str | list[str]]) -> int:
    """Set the msgstr of each catalog entry at `path` named in `translations`; the count of entries refused."""
    with path.open("rb") as file:
        catalog = read_po(file)
    refused = 0
    for message in catalog:
        singular = message.id[0] if isinstance(message.id, tuple) else message.id
        text = translations.get(singular) if singular else None
        if text is None:
            continue
        forms = tuple(text) if isinstance(text, list) else (text,)
        problem = refusal(forms, singular, catalog.num_plurals if isinstance(message.id, tuple) else 1)
        if problem:
            print(f"{problem}, not taken: {singular!r}", file=sys.stderr)
            refused += 1
            continue
        message.string = forms if isinstance(message.id, tuple) else text
    with path.open("wb") as file:
        write_po(file, catalog, width=120, omit_header=False)
    return refused


def main(language: str, source: str) -> int:
    path = Path(__file__).resolve().parents[1] / "locales" / language / "LC_MESSAGES" / "messages.po"
    return 1 if fill(path, json.loads(Path(source).read_text(encoding="utf-8"))) else 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
