"""The webhook is an open door: whatever arrives there is a 401 (wrong or odd secret) or a 400 with one WARNING
line (anything that is not a readable update), never a 500, a traceback or an unretrieved task exception
(issue 9, items 3 and 4)."""

from __future__ import annotations

import asyncio
import gc
import gzip
import json
import logging

import pytest

from contestbell.telegram import WEBHOOK_PATH
from models.account import Account, TelegramChat
from tests.bot.conftest import SECRET
from tests.bot.updates import USER_ID, private_message


async def raw_post(telegram, body: bytes, headers: dict[str, bytes]) -> int:
    """POST exact bytes to the webhook (header values too: a client library would refuse some of them)."""
    host, port = telegram.client.host, telegram.client.port
    reader, writer = await asyncio.open_connection(host, port)
    head = [b"POST " + WEBHOOK_PATH.encode() + b" HTTP/1.1", b"Host: " + f"{host}:{port}".encode(),
            b"Content-Length: " + str(len(body)).encode(), b"Connection: close"]
    head += [name.encode() + b": " + value for name, value in headers.items()]
    writer.write(b"\r\n".join(head) + b"\r\n\r\n" + body)
    await writer.drain()
    status_line = await reader.readline()
    writer.close()
    return int(status_line.split()[1])


def problems(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    gc.collect()  # an unretrieved task exception is logged when the task is collected
    return [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]


def secret(value: bytes = SECRET.encode()) -> dict[str, bytes]:
    return {"X-Telegram-Bot-Api-Secret-Token": value, "Content-Type": b"application/json"}


async def test_an_odd_or_wrong_secret_is_401(telegram, caplog):
    for value in ("sécret".encode(), "секрет".encode(), b"\xff\xfe", b"\x80abc", b"", SECRET.encode()[:-1]):
        with caplog.at_level(logging.INFO):
            status = await raw_post(telegram, json.dumps(private_message("/stop")).encode(), secret(value))
        assert status == 401, value
    assert not problems(caplog), caplog.text
    assert not await TelegramChat.exists()


async def test_a_control_byte_in_a_header_is_malformed_http_one_warning_without_traceback(telegram, caplog):
    with caplog.at_level(logging.INFO):
        status = await raw_post(telegram, json.dumps(private_message("/stop")).encode(), secret(b"se\x01cret"))
    assert status == 400
    [warning] = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert warning.levelno == logging.WARNING and "malformed HTTP" in warning.getMessage()
    assert not problems(caplog), caplog.text


DEEP = b"[" * 100_000 + b"]" * 100_000
NOT_UPDATES = {
    "malformed": b'{"update_id": 1, "message": {',
    "empty": b"",
    "deeply nested": DEEP,
    "deeply nested in an update": b'{"update_id": 5, "x": ' + b"[" * 5000 + b"]" * 5000 + b"}",
    "a number with 10,000 digits": b'{"update_id": ' + b"9" * 10_000 + b"}",
    "a float that overflows": b'{"update_id": 1e999999}',
    "NaN": b'{"update_id": NaN}',
    "a chat id beyond 64 bits": json.dumps(private_message("/start", user_id=10**30)).encode(),
    "not UTF-8": b'{"update_id": 7, "x": "\xff"}',
    "a list": b"[]",
    "a string": b'"update"',
    "null": b"null",
    "no update_id": b'{"message": {}}',
    "a wrong type": b'{"update_id": "seven"}',
    "a message without its fields": b'{"update_id": 8, "message": {"text": "/stop"}}',
    "NUL in a text": json.dumps(private_message("/filter include div\x00")).encode(),
    "a lone surrogate in a name": json.dumps(private_message("/start")).replace(
        '"first_name": "', '"first_name": "\\ud800').encode(),
}


async def test_what_is_not_a_readable_update_is_a_400_with_one_warning(telegram, caplog):
    for name, body in NOT_UPDATES.items():
        caplog.clear()
        with caplog.at_level(logging.INFO):
            status = await raw_post(telegram, body, secret())
            await asyncio.sleep(0.05)
        assert status == 400, name
        warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
        assert len(warnings) == 1 and "webhook" in warnings[0].getMessage(), (name, caplog.text)
        assert not problems(caplog), (name, caplog.text)
    assert not await Account.exists()


async def test_a_false_content_encoding_is_a_400(telegram, caplog):
    body = json.dumps(private_message("/stop")).encode()
    for encoding in (b"gzip", b"deflate", b"br", b"zstd", b"x-unknown"):
        with caplog.at_level(logging.INFO):
            status = await raw_post(telegram, body, {**secret(), "Content-Encoding": encoding})
            await asyncio.sleep(0.05)
        assert status == 400, encoding
    assert not problems(caplog), caplog.text
    assert not await Account.exists()


async def test_a_true_content_encoding_is_read(telegram):
    body = gzip.compress(json.dumps(private_message("/start")).encode())
    assert await raw_post(telegram, body, {**secret(), "Content-Encoding": b"gzip"}) == 200
    [reply] = await telegram.fake.wait_for("sendMessage", chat_id=USER_ID)
    assert "I remind you of programming contests" in reply.text


async def test_a_normal_update_still_works_after_all_that(telegram, caplog):
    for name in ("malformed", "deeply nested", "a chat id beyond 64 bits"):
        assert await raw_post(telegram, NOT_UPDATES[name], secret()) == 400
    reply = await telegram.reply_to(private_message("/start"))
    assert "I remind you of programming contests" in reply.text
    assert not problems(caplog), caplog.text
