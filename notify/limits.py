"""Telegram's sending limits: about 30 messages/s for the whole bot, 1 message/s per chat, 20 messages/min
per group chat, and a pause of every send after a 429 for as long as its `retry_after` says.

A sender asks `await limiter.wait_turn(chat_id)` before each message; it returns when the message may go.
Two limiters keep the same rules: `LocalLimiter` in one process (asyncio), `RedisLimiter` shared by every
process that uses the same Redis (a Lua script decides atomically, on Redis's clock), so several workers
together stay under the limits. `make_limiter` picks one by whether a Redis URL is configured.

How a turn is decided (the same in both): while the chat, its group window or a pause says "not yet", the
caller waits and asks again; once the chat may receive, it books the next free slot of the bot-wide pace
(one slot every 1/per_second s) and records that slot as the chat's latest message. Booking the global slot
only when the chat is free keeps a busy chat from holding up everyone else. A pause that begins after a
slot was booked voids the slot: the caller queues again once the pause is over.
"""

from __future__ import annotations

import asyncio
import itertools
import time
import uuid
from collections import deque
from dataclasses import dataclass
from typing import Protocol

import redis.asyncio as aioredis


@dataclass(frozen=True, slots=True)
class Limits:
    """The numbers. Zero or None lifts a limit (the benchmark lifts them; production keeps the defaults)."""

    per_second: float | None = 30  # messages per second for the whole bot
    chat_interval: float = 1.0  # seconds between two messages to one chat
    group_limit: int | None = 20  # messages per group chat (negative chat id) ...
    group_window: float = 60.0  # ... per this many seconds

    @property
    def slot(self) -> float:
        """Seconds between two messages of the bot, 0 when the bot-wide limit is lifted."""
        return 1.0 / self.per_second if self.per_second else 0.0

    def limits_group(self, chat_id: int) -> bool:
        return bool(self.group_limit) and chat_id < 0


class Limiter(Protocol):
    limits: Limits

    async def wait_turn(self, chat_id: int) -> None:
        """Return when a message to `chat_id` may be sent (the caller sends right away)."""

    async def pause_all(self, seconds: float) -> None:
        """Telegram answered 429: no message of this bot goes out for `seconds`."""

    async def aclose(self) -> None: ...


def make_limiter(redis_url: str | None, per_second: float | None = 30, *, chat_interval: float = 1.0,
                 group_limit: int | None = 20, group_window: float = 60.0) -> Limiter:
    """The Redis-shared limiter when a Redis URL is given, else the in-process one."""
    limits = Limits(per_second, chat_interval, group_limit, group_window)
    if redis_url:
        return RedisLimiter.from_url(redis_url, limits)
    return LocalLimiter(limits)


class LocalLimiter:
    """The limits within one process. Every decision runs without an await in between, so it is atomic."""

    def __init__(self, limits: Limits | None = None) -> None:
        self.limits = limits or Limits()
        self._paused_until = 0.0
        self._next_slot = 0.0
        self._latest: dict[int, float] = {}  # chat -> when its latest message was booked to go
        self._groups: dict[int, deque[float]] = {}  # group chat -> bookings within the window
        self._bookings = 0

    async def wait_turn(self, chat_id: int) -> None:
        while True:
            now = time.monotonic()
            wait = self._not_before(chat_id, now) - now
            if wait > 0:
                await asyncio.sleep(wait)
                continue
            slot = self._book(chat_id, now)
            if slot <= now:
                return
            await asyncio.sleep(slot - now)
            if self._paused_until <= time.monotonic():
                return

    async def pause_all(self, seconds: float) -> None:
        self._paused_until = max(self._paused_until, time.monotonic() + seconds)

    async def aclose(self) -> None:
        pass

    def _not_before(self, chat_id: int, now: float) -> float:
        limits = self.limits
        earliest = self._paused_until
        if limits.chat_interval and chat_id in self._latest:
            earliest = max(earliest, self._latest[chat_id] + limits.chat_interval)
        if limits.limits_group(chat_id):
            booked = self._groups.get(chat_id)
            if booked:
                while booked and booked[0] <= now - limits.group_window:
                    booked.popleft()
                if len(booked) >= limits.group_limit:
                    earliest = max(earliest, booked[-limits.group_limit] + limits.group_window)
        return earliest

    def _book(self, chat_id: int, now: float) -> float:
        slot = max(now, self._next_slot)
        if self.limits.slot:
            self._next_slot = slot + self.limits.slot
        if self.limits.chat_interval:
            self._latest[chat_id] = slot
        if self.limits.limits_group(chat_id):
            self._groups.setdefault(chat_id, deque()).append(slot)
        self._bookings += 1
        if self._bookings % 4096 == 0:
            self._forget_quiet_chats(now)
        return slot

    def _forget_quiet_chats(self, now: float) -> None:
        """Chats whose limits no longer bind are dropped, so the tables stay as small as the busy chats."""
        interval, window = self.limits.chat_interval, self.limits.group_window
        self._latest = {chat: at for chat, at in self._latest.items() if at + interval > now}
        self._groups = {chat: booked for chat, booked in self._groups.items() if booked and booked[-1] + window > now}


# KEYS: pause, next slot, chat's latest, group window (a sorted set; any key when the chat is no group)
# ARGV: chat interval ms, slot ms, group limit (0 = none), group window ms, booking id
# Returns {1, delay ms}: booked, send after the delay; or {0, wait ms}: not yet, ask again after the wait.
RESERVE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local chat_interval, slot_ms = tonumber(ARGV[1]), tonumber(ARGV[2])
local group_limit, window = tonumber(ARGV[3]), tonumber(ARGV[4])
local earliest = tonumber(redis.call('GET', KEYS[1]) or '0')
if chat_interval > 0 then
  local latest = redis.call('GET', KEYS[3])
  if latest then earliest = math.max(earliest, tonumber(latest) + chat_interval) end
end
if group_limit > 0 then
  redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', string.format('%.3f', now - window))
  local count = redis.call('ZCARD', KEYS[4])
  if count >= group_limit then
    local oldest = redis.call('ZRANGE', KEYS[4], count - group_limit, count - group_limit, 'WITHSCORES')
    earliest = math.max(earliest, tonumber(oldest[2]) + window)
  end
end
if earliest > now then return {0, string.format('%.3f', earliest - now)} end
local slot = math.max(now, tonumber(redis.call('GET', KEYS[2]) or '0'))
local function keep(ms) return string.format('%d', math.ceil(slot - now + ms) + 1000) end
if slot_ms > 0 then
  redis.call('SET', KEYS[2], string.format('%.3f', slot + slot_ms), 'PX', keep(slot_ms))
end
if chat_interval > 0 then
  redis.call('SET', KEYS[3], string.format('%.3f', slot), 'PX', keep(chat_interval))
end
if group_limit > 0 then
  redis.call('ZADD', KEYS[4], string.format('%.3f', slot), ARGV[5])
  redis.call('PEXPIRE', KEYS[4], keep(window))
end
return {1, string.format('%.3f', slot - now)}
"""

# KEYS: pause; ARGV: seconds. Extends the pause to now + seconds (never shortens it).
PAUSE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local upto = now + tonumber(ARGV[1]) * 1000
if upto > tonumber(redis.call('GET', KEYS[1]) or '0') then
  redis.call('SET', KEYS[1], string.format('%.3f', upto), 'PX', string.format('%d', math.ceil(upto - now) + 1000))
end
return 1
"""

# KEYS: pause. Returns the ms left of the pause, "0" when there is none.
PAUSE_LEFT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
return string.format('%.3f', math.max(0, tonumber(redis.call('GET', KEYS[1]) or '0') - now))
"""


class RedisLimiter:
    """The limits shared through Redis by every process of the bot. Times are Redis's own (TIME), so the
    processes' clocks don't matter; keys expire once they no longer bind."""

    def __init__(self, redis: aioredis.Redis, limits: Limits | None = None,
                 prefix: str = "contestbell:{telegram}:") -> None:
        self.limits = limits or Limits()
        self.redis = redis
        self.prefix = prefix
        self._reserve = redis.register_script(RESERVE)
        self._pause = redis.register_script(PAUSE)
        self._pause_left = redis.register_script(PAUSE_LEFT)
        self._booking_ids = (f"{uuid.uuid4().hex[:12]}:{n}" for n in itertools.count())

    @classmethod
    def from_url(cls, url: str, limits: Limits | None = None, connections: int = 16) -> RedisLimiter:
        """A few connections shared by every sender of the process: a fan-out of thousands of concurrent
        sends queues for them (each script takes well under a millisecond) instead of failing."""
        pool = aioredis.BlockingConnectionPool.from_url(url, max_connections=connections, timeout=30)
        return cls(aioredis.Redis.from_pool(pool), limits)

    async def wait_turn(self, chat_id: int) -> None:
        limits = self.limits
        group = limits.limits_group(chat_id)
        keys = [self.prefix + "pause", self.prefix + "slot", f"{self.prefix}chat:{chat_id}",
                f"{self.prefix}group:{chat_id}"]
        args = [limits.chat_interval * 1000, limits.slot * 1000, (limits.group_limit or 0) if group else 0,
                limits.group_window * 1000]
        while True:
            booked, ms = await self._reserve(keys=keys, args=[*args, next(self._booking_ids)])
            delay = float(ms) / 1000
            if not booked:
                await asyncio.sleep(delay)
                continue
            if delay <= 0:
                return
            await asyncio.sleep(delay)
            if float(await self._pause_left(keys=keys[:1])) <= 0:
                return

    async def pause_all(self, seconds: float) -> None:
        await self._pause(keys=[self.prefix + "pause"], args=[seconds])

    async def aclose(self) -> None:
        await self.redis.aclose()
