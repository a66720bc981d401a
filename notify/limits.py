"""Telegram's sending limits: 30 messages in any second for the whole bot, 1 message/s per chat, 20 messages/min
per group chat, and a pause of every send after a 429 for as long as its `retry_after` says.

A sender asks `await limiter.wait_turn(chat_id)` before each message; it returns when the message may go (it is
*released*), and the caller sends right away. Two limiters keep the same rules: `LocalLimiter` in one process
(asyncio), `RedisLimiter` shared by every process that uses the same Redis (Lua scripts decide atomically, on
Redis's clock), so several workers together stay under the limits. `make_limiter` picks one by whether a Redis URL
is configured.

How a turn is decided (the same in both): while the chat, its group window or a pause says "not yet", the caller
waits and asks again; once the chat may receive, it books the next free slot of the bot-wide pace and records that
slot as the chat's latest message. Booking the global slot only when the chat is free keeps a busy chat from
holding up everyone else. At its slot the message is released once the bot-wide window (below) allows it; a pause
that began after the slot was booked voids the slot, and the caller queues again once the pause is over.

The bot-wide limit. `per_second` is Telegram's own figure (30), not a rate chosen a little under it: the safety
margin is kept here. Telegram counts the messages that *arrive* within any sliding second, so two rules hold:

- pace: one slot every `window / burst` seconds (1.015 s / 30 = 33.8 ms), so messages go evenly, not in bursts;
- window: the moments at which the latest `burst` (30) messages were really released are kept (a deque here, a
  Redis list there, on Redis's TIME), and the next one waits until the oldest of them is `window` (1 s + `margin`)
  old. So no `burst` + 1 messages are ever released within `window`, whatever bunched them up: a timer that fired
  late (a busy event loop, a descheduled process) followed by ones on time, or booked slots coming due together
  after a stall.

Pacing alone (this module up to 45eaeea) booked evenly spaced slots, but a message went when its timer fired: one
released late and the next ones on time arrive bunched. Against a server enforcing 30 in any second it had to be set
below 30: at 30/s nearly every second drew a 429 (15/s delivered, as each 429 stops all sending for its
`retry_after`), and at 29/s it still drew 1-2 a minute while requests were built with aiogram (27.8-28.5/s). With
the window the rate is exact on the limiter's clock, and what remains is the time from release to arrival (building
the request, the socket, the server reading it; for Redis also the script's reply): when message k takes longer than
message k + 30, they arrive closer together than they were released. `margin` covers that difference, and it is also
what the rate gives up: 30 / (1 + margin) must stay >= 29.5/s (within 2 % of the limit), so margin <= 17 ms.
Measured with bench/limits.py (32 senders, the server in another process, loopback, 2 cores, one kept busy by a
third process): release to arrival 0.5-0.9 ms median, 1-6 ms p99, up to 10 ms besides garbage collections; with 15
ms the tightest 31 consecutive arrivals stayed at least 6 ms clear of the server's second, and 29.54-29.55/s arrived
(30 / 1.015 = 29.56, less timers firing late). 10 ms gave 29.7/s but came within 2 ms of a 429 with one core busy.

Garbage collection is the one stop the margin can't cover: a full collection of the process's heap takes ~100 ms
(240,000 objects in the bench's process), and it tends to begin right after a release because building the request
allocates. That message then leaves ~100 ms late, and the window, counted from its release, would let message
k + 30 go 100 ms early (a 429 in 4 of 7 bench runs before this was accounted for). So the limiters watch the collector
(`Stalls`) and count a release made from GRACE before such a stop until its end as made at its end.
"""

from __future__ import annotations

import asyncio
import gc
import itertools
import math
import time
import uuid
from collections import deque
from dataclasses import dataclass
from typing import Protocol

import redis.asyncio as aioredis

#: seconds added to the bot-wide window for the varying time between a message's release and its arrival
MARGIN = 0.015
#: a garbage collection at least this long counts as a stop of the process (see `Stalls`)
STALL = 0.001
#: a message released up to this long before such a stop may not have left the process when it began
GRACE = 0.005


@dataclass(frozen=True, slots=True)
class Limits:
    """The numbers. Zero or None lifts a limit (the benchmark lifts them; production keeps the defaults)."""

    per_second: float | None = 30  # Telegram's limit for the whole bot: messages in any one second
    chat_interval: float = 1.0  # seconds between two messages to one chat
    group_limit: int | None = 20  # messages per group chat (negative chat id) ...
    group_window: float = 60.0  # ... per this many seconds
    margin: float = MARGIN  # added to the bot-wide window (see the module's docstring)

    @property
    def burst(self) -> int:
        """At most this many messages of the bot within `window`; 0 when the bot-wide limit is lifted."""
        return max(1, math.floor(self.per_second)) if self.per_second else 0

    @property
    def window(self) -> float:
        """The seconds `burst` messages take at `per_second`, plus the margin; 0 when the limit is lifted."""
        return self.burst / self.per_second + self.margin if self.per_second else 0.0

    @property
    def slot(self) -> float:
        """Seconds between two messages of the bot, 0 when the bot-wide limit is lifted."""
        return self.window / self.burst if self.per_second else 0.0

    def limits_group(self, chat_id: int) -> bool:
        return bool(self.group_limit) and chat_id < 0


class Limiter(Protocol):
    limits: Limits

    async def wait_turn(self, chat_id: int) -> None:
        """Return when a message to `chat_id` may be sent (the caller sends right away)."""

    async def pause_all(self, seconds: float) -> None:
        """Telegram answered 429: no message of this bot goes out for `seconds`."""

    async def aclose(self) -> None: ...


class Stalls:
    """The process's recent stops for garbage collection, as (start, end) on time.monotonic(), newest last.

    A collection stops every task, and it tends to begin right after a release: building the request allocates.
    The message then leaves when the collection ends, so a limiter moves the releases made from GRACE before a
    stop until its end to the end (as if they went then) before it next opens the window (see the module)."""

    def __init__(self) -> None:
        #: replaced, never changed in place: a collection (and so this hook) may run while a reader iterates
        self.recent: tuple[tuple[float, float], ...] = ()
        self._started: float | None = None

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        """A gc.callbacks hook: runs in whichever thread collects, and every thread stands still meanwhile."""
        now = time.monotonic()
        if phase == "start":
            self._started = now
            return
        if self._started is not None and now - self._started >= STALL:
            self.recent = (*self.recent[-7:], (self._started, now))
        self._started = None

    def since(self, moment: float) -> list[tuple[float, float]]:
        """The stops that ended after `moment`."""
        return [stall for stall in self.recent if stall[1] > moment]


STALLS = Stalls()


def watch_collections() -> Stalls:
    """The process's one `Stalls`, hooked into the garbage collector once."""
    if STALLS not in gc.callbacks:
        gc.callbacks.append(STALLS)
    return STALLS


def make_limiter(redis_url: str | None, per_second: float | None = 30, *, chat_interval: float = 1.0,
                 group_limit: int | None = 20, group_window: float = 60.0, margin: float = MARGIN) -> Limiter:
    """The Redis-shared limiter when a Redis URL is given, else the in-process one."""
    limits = Limits(per_second, chat_interval, group_limit, group_window, margin)
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
        self._released: deque[float] = deque(maxlen=self.limits.burst or 1)  # the latest releases, oldest first
        self._bookings = 0
        self._stalls = watch_collections()
        self._stalls_seen = time.monotonic()  # the stops that ended before this are accounted for

    async def wait_turn(self, chat_id: int) -> None:
        while True:
            now = time.monotonic()
            wait = self._not_before(chat_id, now) - now
            if wait > 0:
                await asyncio.sleep(wait)
                continue
            if await self._release(self._book(chat_id, now)):
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

    async def _release(self, slot: float) -> bool:
        """Waits for the slot, then for the window; True once released, False when a pause voided the slot.

        The clock is read again after every sleep: a timer may fire early (uvloop rounds to milliseconds), and
        the window must hold on the moments the messages really went."""
        due = slot
        while True:
            now = time.monotonic()
            if now < due:
                await asyncio.sleep(due - now)
                continue
            if self._paused_until > now:
                return False
            due = self._window_opens()
            if due <= now:
                self._released.append(now)
                return True

    def _window_opens(self) -> float:
        """When the next message may be released: `window` after the oldest of the latest `burst` releases."""
        burst = self.limits.burst
        if not burst:
            return 0.0
        self._account_for_stalls()
        if len(self._released) >= burst:
            return self._released[0] + self.limits.window
        return 0.0

    def _account_for_stalls(self) -> None:
        """Releases made just before or during a stop of the process count as made at its end (see `Stalls`)."""
        for start, end in self._stalls.since(self._stalls_seen):
            self._released = deque((end if start - GRACE <= moment < end else moment for moment in self._released),
                                   maxlen=self._released.maxlen)
            self._stalls_seen = end

    def _forget_quiet_chats(self, now: float) -> None:
        """Chats whose limits no longer bind are dropped, so the tables stay as small as the busy chats."""
        interval, window = self.limits.chat_interval, self.limits.group_window
        self._latest = {chat: at for chat, at in self._latest.items() if at + interval > now}
        self._groups = {chat: booked for chat, booked in self._groups.items() if booked and booked[-1] + window > now}


# Both scripts that let messages go start here. KEYS[1]: the pause; KEYS[2]: the latest releases (a list of at
# most `burst` moments, newest first). ARGV[1]: burst (0 = no bot-wide limit); ARGV[2]: window ms; ARGV[3], ARGV[4]:
# a stop of the calling process (see `Stalls`), ms ago from now: releases made between are moved to its end (0, 0:
# none). Then `now` is Redis's clock in ms, and `release()` records a release and returns 0, or returns the ms
# until the window opens.
WINDOW = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local burst, window = tonumber(ARGV[1]), tonumber(ARGV[2])
local stall_from, stall_to = now - tonumber(ARGV[3]), now - tonumber(ARGV[4])
if stall_from < now then
  for i, moment in ipairs(redis.call('LRANGE', KEYS[2], 0, -1)) do
    local at = tonumber(moment)
    if at < stall_from then break end
    if at < stall_to then redis.call('LSET', KEYS[2], i - 1, string.format('%.3f', stall_to)) end
  end
end
local function release()
  if burst <= 0 then return 0 end
  if redis.call('LLEN', KEYS[2]) >= burst then
    local opens = tonumber(redis.call('LINDEX', KEYS[2], burst - 1)) + window
    if opens > now then return opens - now end
  end
  redis.call('LPUSH', KEYS[2], string.format('%.3f', now))
  redis.call('LTRIM', KEYS[2], 0, burst - 1)
  redis.call('PEXPIRE', KEYS[2], string.format('%d', math.ceil(window) + 1000))
  return 0
end
"""

# KEYS[3]: next slot, KEYS[4]: chat's latest, KEYS[5]: group window (a sorted set; any key when the chat is no
# group). ARGV[5]: chat interval ms, ARGV[6]: slot ms, ARGV[7]: group limit (0 = none), ARGV[8]: group window ms,
# ARGV[9]: booking id. Returns {0, wait ms}: not yet, ask again after the wait; {1, wait ms, slot}: booked, RELEASE
# after the wait; {2}: booked and released (the slot was due and the window open), send now.
RESERVE = WINDOW + """
local chat_interval, slot_ms = tonumber(ARGV[5]), tonumber(ARGV[6])
local group_limit, group_window = tonumber(ARGV[7]), tonumber(ARGV[8])
local earliest = tonumber(redis.call('GET', KEYS[1]) or '0')
if chat_interval > 0 then
  local latest = redis.call('GET', KEYS[4])
  if latest then earliest = math.max(earliest, tonumber(latest) + chat_interval) end
end
if group_limit > 0 then
  redis.call('ZREMRANGEBYSCORE', KEYS[5], '-inf', string.format('%.3f', now - group_window))
  local count = redis.call('ZCARD', KEYS[5])
  if count >= group_limit then
    local oldest = redis.call('ZRANGE', KEYS[5], count - group_limit, count - group_limit, 'WITHSCORES')
    earliest = math.max(earliest, tonumber(oldest[2]) + group_window)
  end
end
if earliest > now then return {0, string.format('%.3f', earliest - now)} end
local slot = math.max(now, tonumber(redis.call('GET', KEYS[3]) or '0'))
local function keep(ms) return string.format('%d', math.ceil(slot - now + ms) + 1000) end
if slot_ms > 0 then
  redis.call('SET', KEYS[3], string.format('%.3f', slot + slot_ms), 'PX', keep(slot_ms))
end
if chat_interval > 0 then
  redis.call('SET', KEYS[4], string.format('%.3f', slot), 'PX', keep(chat_interval))
end
if group_limit > 0 then
  redis.call('ZADD', KEYS[5], string.format('%.3f', slot), ARGV[9])
  redis.call('PEXPIRE', KEYS[5], keep(group_window))
end
local wait = slot - now
if wait <= 0 then
  wait = release()
  if wait <= 0 then return {2} end
end
return {1, string.format('%.3f', wait), string.format('%.3f', slot)}
"""

# ARGV[5]: the booked slot (ms, Redis's clock). Returns {2}: released, send now; {0, wait ms}: the slot or the
# window is not there yet, ask again after the wait; {-1}: a pause began after the booking and still runs, the
# slot is void.
RELEASE = WINDOW + """
if tonumber(redis.call('GET', KEYS[1]) or '0') > now then return {-1} end
local wait = tonumber(ARGV[5]) - now
if wait <= 0 then wait = release() end
if wait > 0 then return {0, string.format('%.3f', wait)} end
return {2}
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

NOT_YET, RELEASED = 0, 2  # what the scripts answer first (1: booked, -1: the slot is void)


class RedisLimiter:
    """The limits shared through Redis by every process of the bot. Times are Redis's own (TIME), so the
    processes' clocks don't matter; keys expire once they no longer bind."""

    def __init__(self, redis: aioredis.Redis, limits: Limits | None = None,
                 prefix: str = "contestbell:{telegram}:") -> None:
        self.limits = limits or Limits()
        self.redis = redis
        self.prefix = prefix
        self._reserve = redis.register_script(RESERVE)
        self._release = redis.register_script(RELEASE)
        self._pause = redis.register_script(PAUSE)
        self._booking_ids = (f"{uuid.uuid4().hex[:12]}:{n}" for n in itertools.count())
        self._stalls = watch_collections()
        self._stalls_reported = time.monotonic()  # the stops that ended before this are accounted for

    @classmethod
    def from_url(cls, url: str, limits: Limits | None = None, connections: int = 16) -> RedisLimiter:
        """A few connections shared by every sender of the process: a fan-out of thousands of concurrent
        sends queues for them (each script takes well under a millisecond) instead of failing."""
        pool = aioredis.BlockingConnectionPool.from_url(url, max_connections=connections, timeout=30)
        return cls(aioredis.Redis.from_pool(pool), limits)

    async def wait_turn(self, chat_id: int) -> None:
        limits = self.limits
        group = limits.limits_group(chat_id)
        keys = [self.prefix + "pause", self.prefix + "released", self.prefix + "slot", f"{self.prefix}chat:{chat_id}",
                f"{self.prefix}group:{chat_id}"]
        args = [limits.chat_interval * 1000, limits.slot * 1000, (limits.group_limit or 0) if group else 0,
                limits.group_window * 1000]
        while True:
            status, *rest = await self._reserve(keys=keys, args=[*self._window_args(), *args, next(self._booking_ids)])
            if status == RELEASED:
                return
            if status == NOT_YET:
                await asyncio.sleep(float(rest[0]) / 1000)
                continue
            wait, slot = rest
            if await self._released(keys[:2], slot, float(wait) / 1000):
                return

    async def _released(self, keys: list[str], slot: bytes, wait: float) -> bool:
        """Asks Redis to release the booked slot after `wait`, again until it does; False when a pause voided it."""
        while True:
            await asyncio.sleep(wait)
            status, *rest = await self._release(keys=keys, args=[*self._window_args(), slot])
            if status != NOT_YET:
                return status == RELEASED
            wait = float(rest[0]) / 1000

    def _window_args(self) -> list[float]:
        """burst, window ms, and the process's stops not yet reported to Redis, as ms ago: from GRACE before the
        first one began until the last one ended (0, 0: none). See `Stalls`."""
        args = [self.limits.burst, self.limits.window * 1000]
        stalls = self._stalls.since(self._stalls_reported)
        if not stalls:
            return [*args, 0, 0]
        now, self._stalls_reported = time.monotonic(), stalls[-1][1]
        return [*args, (now - stalls[0][0] + GRACE) * 1000, (now - stalls[-1][1]) * 1000]

    async def pause_all(self, seconds: float) -> None:
        await self._pause(keys=[self.prefix + "pause"], args=[seconds])

    async def aclose(self) -> None:
        await self.redis.aclose()
