"""Account-wide adaptive concurrency: how many requests one ModelsLab account has in flight, and who waits.

ModelsLab refuses requests beyond the account's queue limit (5, 10 or 15 at once, by plan, across all of its
APIs) with a 429. Every `Client` and `AsyncClient` (and so every adapter instance) with the same API key and
base URL shares one `AdaptiveLimiter` in a process, sync threads and async tasks of any event loop alike:

```
acquire() -> [a slot free? grant : wait in line] -> request -> release(lease, "ok" | "congested" | "failed")
```

The limit itself comes from `_aimd.Controller`. Waiting for a slot happens before a request is sent, so it
never counts against the request's timeout. `limiter=None` turns all of this off; `RedisLimiter` shares one
limit between processes and machines.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import os
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal, Protocol, TypedDict, runtime_checkable

from ._aimd import Controller, Outcome, held_back

if TYPE_CHECKING:  # asyncio is loaded by whoever awaits `aacquire`: a sync client does not pay its import
    import asyncio

__all__ = [
    "AdaptiveLimiter",
    "Lease",
    "Limiter",
    "LimiterChoice",
    "LimiterStats",
    "Outcome",
    "Parking",
    "PerAccount",
    "account_id",
    "forget_accounts",
    "limiter_for",
]


@dataclass
class Lease:
    """One granted slot: released exactly once, however the request ends."""

    generation: int
    saturated: bool
    started: float  # when its request was sent, or is to be sent again after a pause in the slot
    token: str = ""  # the Redis member that holds the slot there
    released: bool = False
    place: int = 0  # requests in flight when it was granted, itself included
    refused: bool = False  # the queue refused it and it kept the slot (sent again in it)
    blocked: int = 0  # how many times, when it was granted, the limit had kept a request waiting

    def kept(self, generation: int, place: int) -> None:
        """The queue refused its request and the slot is kept for the next attempt: that attempt's
        refusal counts anew, in `generation`, from `place` (the requests in flight now)."""
        self.generation, self.saturated, self.place, self.refused = generation, True, place, True

    def resend_in(self, delay: float) -> None:
        """Its request is sent again in `delay` seconds, in this slot: the pause is not service time."""
        self.started = time.monotonic() + delay

    def averaged_into(self, service_time: float) -> float:
        """`service_time` (a moving average of how long answered requests were in service) with this one's."""
        held = time.monotonic() - self.started
        return held if not service_time else 0.8 * service_time + 0.2 * held


class LimiterStats(TypedDict):
    """What a limiter has done so far; `limit` and `in_flight` are the values at the time of the call."""

    limit: int
    in_flight: int
    waiting: int
    peak_in_flight: int
    granted: int
    congested: int
    increases: int
    decreases: int


@runtime_checkable
class Limiter(Protocol):
    """What the clients need of a limiter: a slot before each attempt, its outcome after."""

    def acquire(self) -> Lease: ...

    async def aacquire(self) -> Lease: ...

    def release(self, lease: Lease, outcome: Outcome) -> None: ...

    async def arelease(self, lease: Lease, outcome: Outcome) -> None: ...

    def refused(self, lease: Lease) -> bool: ...

    async def arefused(self, lease: Lease) -> bool: ...

    @property
    def in_flight(self) -> int: ...

    @property
    def service_time(self) -> float: ...


@runtime_checkable
class PerAccount(Protocol):
    """A limiter shared by several accounts, with one view each (`RedisLimiter`)."""

    def for_account(self, account: str) -> Limiter: ...


@runtime_checkable
class Parking(Protocol):
    """A limiter that ends a kept request's pause early, as soon as one of the process's own requests is
    answered (both limiters here). A limiter object without it: the pause is slept whole."""

    def park(self, loop: asyncio.AbstractEventLoop | None) -> KeptPause: ...

    def unpark(self, pause: KeptPause) -> None: ...


LimiterChoice = Literal["adaptive"] | Limiter | PerAccount | None
"""`"adaptive"` (the default: the process's limiter for the account, or Redis when `MODELSLAB_LIMITER_URL` is
set), `None` (no limiter), or a limiter object used as is."""


@dataclass(eq=False)
class _Waiter:
    loop: asyncio.AbstractEventLoop | None
    future: asyncio.Future[None] | None = None
    event: threading.Event = field(default_factory=threading.Event)
    lease: Lease | None = None

    def wake(self) -> bool:
        """Tell the waiter its slot is granted; False when its event loop is gone."""
        if self.loop is None:
            self.event.set()
            return True
        try:
            self.loop.call_soon_threadsafe(_resolve, self.future)
        except RuntimeError:  # the loop is closed: nobody will take this slot
            return False
        return True


def _resolve(future: asyncio.Future[None] | None) -> None:
    if future is not None and not future.done():
        future.set_result(None)


KeptPause = _Waiter
"""A kept request's pause: woken (`event` or `future`) when one of the process's requests is answered."""


class KeptPauses:
    """The pauses of a process's refused requests that keep their slots, first paused first woken.

    A request the queue refused keeps its slot when the process is within its limit, and pauses before it
    is sent again. An answer to one of the process's own requests frees a place in the account's queue
    that the process held: the first paused request is sent at once, into that place, instead of at the
    end of its pause, where the process's next request would have taken the place first and the paused
    one would have been refused again. Alone on a queue that shrank, the process keeps few requests
    paused above what the queue holds, and its limit follows the queue down in a few windows.
    """

    def __init__(self) -> None:
        self._pauses_lock = threading.Lock()
        self._pauses: deque[KeptPause] = deque()

    def park(self, loop: asyncio.AbstractEventLoop | None) -> KeptPause:
        """A pause for a kept request of a thread (`loop` None) or of a task of `loop`."""
        pause = KeptPause(loop=loop, future=loop.create_future() if loop is not None else None)
        with self._pauses_lock:
            self._pauses.append(pause)
        return pause

    def unpark(self, pause: KeptPause) -> None:
        """The pause is over (woken, timed out or cancelled)."""
        with self._pauses_lock, contextlib.suppress(ValueError):
            self._pauses.remove(pause)

    def _answered(self) -> None:
        """One of the process's requests was answered: the first paused request goes now."""
        with self._pauses_lock:
            pause = self._pauses.popleft() if self._pauses else None
        if pause is not None:
            pause.wake()


class AdaptiveLimiter(KeptPauses):
    """An adaptive cap on requests in flight, shared by threads and event loops (see the module docstring)."""

    def __init__(self, *, initial_limit: int = 5, max_limit: int = 100, decrease: float = 0.9) -> None:
        """`initial_limit`: where discovery starts (the smallest plan's queue); `max_limit`: the most ever."""
        if not 1 <= initial_limit <= max_limit:
            raise ValueError(f"initial_limit must be between 1 and max_limit, got {initial_limit!r}")
        if not 0 < decrease < 1:
            raise ValueError(f"decrease must be between 0 and 1, got {decrease!r}")
        super().__init__()
        self._lock = threading.Lock()
        self._control = Controller(limit=initial_limit, ceiling=max_limit, decrease=decrease)
        self._in_flight = 0
        self._waiters: deque[_Waiter] = deque()
        self._peak = self._granted = self._congested = self._blocked = 0
        self._service_time = 0.0

    @property
    def limit(self) -> int:
        """The number of requests allowed in flight now."""
        return self._control.limit

    @property
    def in_flight(self) -> int:
        """Requests holding a slot now."""
        return self._in_flight

    @property
    def service_time(self) -> float:
        """A moving average of how long an answered request was in service (sent to answered, a refused
        request's pauses in its slot left out), in seconds (0 before any)."""
        return self._service_time

    def stats(self) -> LimiterStats:
        """The current limit, requests in flight and waiting, and counters since the start."""
        with self._lock:
            return LimiterStats(
                limit=self._control.limit,
                in_flight=self._in_flight,
                waiting=len(self._waiters),
                peak_in_flight=self._peak,
                granted=self._granted,
                congested=self._congested,
                increases=self._control.increases,
                decreases=self._control.decreases,
            )

    # -- slots -------------------------------------------------------------------------------------------

    def acquire(self) -> Lease:
        """A slot, waiting in line (FIFO) for one if none is free."""
        with self._lock:
            if (lease := self._grant_now()) is not None:
                return lease
            waiter = _Waiter(loop=None)
            self._waiters.append(waiter)
            self._blocked += 1
        try:
            waiter.event.wait()
        except BaseException:
            self._abandon(waiter)
            raise
        assert waiter.lease is not None
        return waiter.lease

    async def aacquire(self) -> Lease:
        """A slot for a task of the running event loop, waiting in line for one if none is free."""
        with self._lock:
            if (lease := self._grant_now()) is not None:
                return lease
            import asyncio  # already loaded: a coroutine is running

            loop = asyncio.get_running_loop()
            waiter = _Waiter(loop=loop, future=loop.create_future())
            self._waiters.append(waiter)
            self._blocked += 1
        try:
            assert waiter.future is not None
            await waiter.future
        except BaseException:  # cancelled while waiting: out of the line, or the slot it just got goes back
            self._abandon(waiter)
            raise
        assert waiter.lease is not None
        return waiter.lease

    def release(self, lease: Lease, outcome: Outcome) -> None:
        """Give the slot back and learn from how the request ended; a second release does nothing."""
        wake: list[_Waiter] = []
        with self._lock:
            if lease.released:
                return
            lease.released = True
            self._in_flight -= 1
            if outcome == "ok":
                self._service_time = lease.averaged_into(self._service_time)
            elif outcome == "congested":
                self._congested += 1
            saturated = held_back(lease.saturated, lease.generation, lease.blocked, self._blocked)
            holding = self._in_flight + 1  # itself included
            self._control.finish(outcome, lease.generation, saturated, lease.place, lease.refused, holding)
            wake = self._grant_waiters()
        self._wake(wake)
        if outcome == "ok":
            self._answered()

    async def arelease(self, lease: Lease, outcome: Outcome) -> None:
        """`release`, for async callers (nothing here waits)."""
        self.release(lease, outcome)

    def refused(self, lease: Lease) -> bool:
        """The account's queue refused the request holding `lease` (a 429): learn from it, then either keep
        the slot for the request to be sent again (True: the process is within its new limit, so the queue
        is full of other work) or take it back (False: the request must wait in line for a slot)."""
        with self._lock:
            if lease.released:
                return False
            self._congested += 1
            control = self._control
            control.finish("congested", lease.generation, lease.saturated, lease.place)
            if self._in_flight <= control.limit:
                lease.kept(control.generation, self._in_flight)
                return True
            lease.released = True
            self._in_flight -= 1  # still at or over the limit: no waiter to wake
            return False

    async def arefused(self, lease: Lease) -> bool:
        """`refused`, for async callers (nothing here waits)."""
        return self.refused(lease)

    # -- under the lock ----------------------------------------------------------------------------------

    def _grant_now(self) -> Lease | None:
        if self._waiters or self._in_flight >= self._control.limit:
            return None
        return self._new_lease()

    def _new_lease(self) -> Lease:
        self._in_flight += 1
        self._granted += 1
        self._peak = max(self._peak, self._in_flight)
        control = self._control
        in_flight = self._in_flight
        saturated = control.saturated(in_flight)
        return Lease(control.generation, saturated, time.monotonic(), place=in_flight, blocked=self._blocked)

    def _grant_waiters(self) -> list[_Waiter]:
        granted = []
        while self._waiters and self._in_flight < self._control.limit:
            waiter = self._waiters.popleft()
            waiter.lease = self._new_lease()
            granted.append(waiter)
        return granted

    def _wake(self, waiters: list[_Waiter]) -> None:
        for waiter in waiters:
            if not waiter.wake():
                assert waiter.lease is not None
                self.release(waiter.lease, "failed")

    def _abandon(self, waiter: _Waiter) -> None:
        with self._lock:
            if waiter.lease is None:
                self._waiters.remove(waiter)
                return
        self.release(waiter.lease, "failed")

    def __copy__(self) -> AdaptiveLimiter:
        return self  # a limiter is shared by design: a copied model keeps sharing the account's limit

    def __deepcopy__(self, memo: dict[int, object]) -> AdaptiveLimiter:
        return self

    def __reduce__(self) -> tuple[Callable[[], AdaptiveLimiter], tuple[()]]:
        # in another process no slot it holds exists: a new limiter, starting at the limit learnt so far
        control = self._control
        rebuild = functools.partial(
            AdaptiveLimiter, initial_limit=control.limit, max_limit=control.ceiling, decrease=control.decrease
        )
        return (rebuild, ())

    def __repr__(self) -> str:
        return f"AdaptiveLimiter(limit={self.limit}, in_flight={self.in_flight})"


# -- one limiter per account per process -----------------------------------------------------------------

_registry_lock = threading.Lock()
_ACCOUNTS: dict[str, AdaptiveLimiter] = {}
_REDIS: dict[str, Limiter] = {}


def account_id(api_key: str, base_url: str) -> str:
    """A stable name for an account (key + base URL) that does not reveal the key."""
    return hashlib.sha256(f"{base_url}\n{api_key}".encode()).hexdigest()[:32]


def limiter_for(choice: LimiterChoice, api_key: str, base_url: str) -> Limiter | None:
    """The limiter a client with this key and base URL uses for `choice` (see `LimiterChoice`)."""
    if choice is None:
        return None
    account = account_id(api_key, base_url)
    if choice != "adaptive":
        if isinstance(choice, PerAccount):  # a RedisLimiter: one shared connection, a view per account
            return choice.for_account(account)
        if isinstance(choice, Limiter):
            return choice
        raise ValueError(f"limiter must be 'adaptive', None or a limiter object, got {choice!r}")
    url = os.environ.get("MODELSLAB_LIMITER_URL", "").strip()
    with _registry_lock:
        if url:
            key = f"{url}\n{account}"
            if (shared := _REDIS.get(key)) is None:
                from .redis_limiter import RedisLimiter

                shared = _REDIS[key] = RedisLimiter(url).for_account(account)
            return shared
        limiter = _ACCOUNTS.get(account)
        if limiter is None:
            limiter = _ACCOUNTS[account] = AdaptiveLimiter()
        return limiter


def forget_accounts() -> None:
    """Drop the process's account limiters (what they learnt): the next client starts discovery anew."""
    with _registry_lock:
        _ACCOUNTS.clear()
        _REDIS.clear()
