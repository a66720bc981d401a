"""The secret key that signs what the service hands out (the Telegram webhook secret derives from it).

Reachable from outside (`CONTESTBELL_PUBLIC_URL` set: the webhook is then mounted), a process refuses to start
unless the operator set a key of at least 32 characters that no one else knows: a key every web process shares,
and not a value written in any source. On a laptop nothing needs setting: a random key is made once and kept in
the data directory (readable by its owner only).
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from contestbell.settings import Settings

MIN_LENGTH = 32
KEY_FILE = "secret_key"
#: values that have been written in public (our own former default): never a secret
KNOWN_VALUES = frozenset({"dev-only-secret-change-me", "change-me", "changeme", "secret"})
HOW_TO_MAKE_ONE = "python3 -c 'import secrets; print(secrets.token_urlsafe(48))'"


class SecretKeyProblem(ValueError):
    """The key cannot be used; the message names CONTESTBELL_SECRET_KEY and says what to do."""


def checked(key: str) -> str:
    if key.strip().lower() in KNOWN_VALUES or len(set(key)) < 8:
        raise SecretKeyProblem("CONTESTBELL_SECRET_KEY is a well-known or trivial value; set a random one: "
                               + HOW_TO_MAKE_ONE)
    if len(key) < MIN_LENGTH:
        raise SecretKeyProblem(f"CONTESTBELL_SECRET_KEY must be at least {MIN_LENGTH} characters long; "
                               f"make one with: {HOW_TO_MAKE_ONE}")
    return key


def secret_key(settings: Settings) -> str:
    """The key this process uses: the configured one (checked), or, when the service is not reachable from
    outside, the one kept in the data directory (made on first use)."""
    if settings.secret_key is not None:
        return checked(settings.secret_key)
    if settings.public_url:
        raise SecretKeyProblem("CONTESTBELL_SECRET_KEY is not set, and this service is reachable from outside "
                               f"(CONTESTBELL_PUBLIC_URL is set): set a random key of at least {MIN_LENGTH} "
                               f"characters, the same for every process, e.g. from: {HOW_TO_MAKE_ONE}")
    return kept_key(Path(settings.data_dir) / KEY_FILE)


def kept_key(path: Path) -> str:
    """The key in `path`, written there first when there is none (two processes starting at once agree: only
    the first write lands, the other reads it)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return read_kept_key(path)
    with os.fdopen(descriptor, "w") as file:
        file.write(secrets.token_urlsafe(48) + "\n")
    return read_kept_key(path)


def read_kept_key(path: Path) -> str:
    key = path.read_text().strip()
    if len(key) < MIN_LENGTH:  # cut short by a crash while it was written: nothing was signed with it yet
        raise SecretKeyProblem(f"{path} does not hold a usable key; delete it to have a new one made, or set "
                               "CONTESTBELL_SECRET_KEY")
    return key
