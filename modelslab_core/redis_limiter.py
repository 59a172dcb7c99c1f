"""`RedisLimiter`: one adaptive limit per account shared by every process and machine, kept in Redis.

Workers (Celery, Ray, multiprocessing, several hosts) that share a ModelsLab account cannot see each other's
requests; per-process limiters then add up past the account's queue. `RedisLimiter("redis://host:6379/0")`,
or `MODELSLAB_LIMITER_URL=redis://host:6379/0` with no code change, keeps the slots and the learnt limit in
Redis instead:

- a slot is a lease in a sorted set, granted and returned by Lua scripts (`_redis_scripts`), so grants are
  atomic across workers; a background thread renews this process's leases every third of `lease_ttl`, so a
  killed worker's slots come back within `lease_ttl` seconds;
- the limit follows the same rules as `AdaptiveLimiter` (`_aimd.Controller`), learnt once for all workers;
- a worker waiting for a slot polls Redis with a short, growing, jittered pause.

The `redis` package is an optional extra (`pip install 'modelslab-integrations[redis]'`). A missing package
or an unreachable server raises `LimiterError` at the first request, never a silent fall back.
"""

from __future__ import annotations

import asyncio
import functools
import random
import threading
import time
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

from ._aimd import SHARED_MAX_PROBE_WINDOWS, Outcome
from ._redis_scripts import ACQUIRE, REFUSED, RELEASE
from .errors import LimiterError
from .limiter import KeptPauses, Lease, LimiterStats

if TYPE_CHECKING:
    import redis

__all__ = ["RedisLimiter"]

_POLL_FIRST, _POLL_MAX = 0.002, 0.02  # one poller per process and event loop (see RedisAccountLimiter)


def _redacted(url: str) -> str:
    """The URL without its password, for error messages."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{parts.username or ''}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


class RedisLimiter:
    """Slots and the adaptive limit of each account in Redis (see the module docstring)."""

    def __init__(
        self,
        url: str,
        *,
        prefix: str = "modelslab:limiter",
        lease_ttl: float = 30.0,
        initial_limit: int = 5,
        max_limit: int = 100,
        decrease: float = 0.9,
    ) -> None:
        """`url` as `redis.Redis.from_url` takes it; `lease_ttl`: seconds until a dead worker's slot frees."""
        if not url.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError(f"RedisLimiter url must start with redis://, rediss:// or unix://, got {url!r}")
        if lease_ttl <= 0:
            raise ValueError(f"lease_ttl must be > 0 seconds, got {lease_ttl!r}")
        if not 1 <= initial_limit <= max_limit:
            raise ValueError(f"initial_limit must be between 1 and max_limit, got {initial_limit!r}")
        self.url, self.prefix, self.lease_ttl = url, prefix, lease_ttl
        self._settings = (initial_limit, max_limit, decrease)
        self._lock = threading.Lock()
        self._redis: redis.Redis | None = None
        self._scripts: tuple[Any, Any, Any] | None = None
        self._live: dict[str, str] = {}  # token -> lease key, renewed by the keeper thread
        self._keeper: threading.Thread | None = None

    def for_account(self, account: str) -> RedisAccountLimiter:
        """The limiter of one account (see `limiter.account_id`), sharing this connection."""
        return RedisAccountLimiter(self, account)

    # -- Redis, connected on first use -------------------------------------------------------------------

    def _connection(self) -> tuple[redis.Redis, tuple[Any, Any, Any]]:
        with self._lock:
            if self._redis is None or self._scripts is None:
                try:
                    import redis
                except ImportError:
                    raise LimiterError(
                        "RedisLimiter needs the redis package: pip install 'modelslab-integrations[redis]'"
                    ) from None
                client = redis.Redis.from_url(self.url, socket_timeout=5, socket_connect_timeout=5)
                register = client.register_script
                self._scripts = (register(ACQUIRE), register(RELEASE), register(REFUSED))
                self._redis = client
            return self._redis, self._scripts

    def _call(self, action: str, run: Any) -> Any:
        try:
            return run()
        except LimiterError:
            raise
        except Exception as exc:  # redis.exceptions.* and OSError: the limiter cannot work, say so
            raise LimiterError(
                f"the limiter's Redis at {_redacted(self.url)} failed to {action}: {exc}"
            ) from exc

    def try_acquire(self, account: str) -> Lease | None:
        """A lease now, or None when the account's slots are all taken."""
        _, (acquire, _, _) = self._connection()
        token = uuid.uuid4().hex
        keys = [f"{self.prefix}:{account}:leases", f"{self.prefix}:{account}:state"]
        now = int(time.time() * 1000)
        args = [now, int(self.lease_ttl * 1000), token, *self._settings, SHARED_MAX_PROBE_WINDOWS]
        granted, generation, saturated, *grant = self._call(
            "grant a slot", lambda: acquire(keys=keys, args=args)
        )
        if not granted:
            return None
        with self._lock:
            self._live[token] = keys[0]
            self._start_keeper()
        place, blocked = (int(value) for value in grant)
        return Lease(int(generation), bool(saturated), time.monotonic(), token, place=place, blocked=blocked)

    def give_back(self, account: str, lease: Lease, outcome: Outcome) -> None:
        """Return the lease's slot and teach the shared limit how the request ended."""
        _, (_, release, _) = self._connection()
        with self._lock:
            self._live.pop(lease.token, None)
        keys = [f"{self.prefix}:{account}:leases", f"{self.prefix}:{account}:state"]
        args = [
            lease.token,
            outcome,
            lease.generation,
            int(lease.saturated),
            lease.place,
            int(lease.refused),
            lease.blocked,
        ]
        self._call("return a slot", lambda: release(keys=keys, args=args))

    def keep_refused(self, account: str, lease: Lease) -> bool:
        """Learn from a queue refusal; keep the lease (True) while the account is within its limit."""
        _, (_, _, refused) = self._connection()
        keys = [f"{self.prefix}:{account}:leases", f"{self.prefix}:{account}:state"]
        now, ttl = int(time.time() * 1000), int(self.lease_ttl * 1000)
        args = [lease.token, lease.generation, now, ttl, lease.place]
        kept, generation, *held = self._call("learn from a refusal", lambda: refused(keys=keys, args=args))
        if kept:
            lease.kept(int(generation), int(held[0]))
            return True
        with self._lock:
            self._live.pop(lease.token, None)
        return False

    def state(self, account: str) -> dict[str, int]:
        """The account's shared limit and counters, and its live leases (`in_flight`)."""
        client, _ = self._connection()
        prefix = f"{self.prefix}:{account}"

        def read() -> dict[str, int]:
            now = int(time.time() * 1000)
            in_flight = client.zcount(f"{prefix}:leases", now + 1, "+inf")
            fields = client.hgetall(f"{prefix}:state")
            state = {_text(k): int(float(v)) for k, v in fields.items()}
            return {**state, "in_flight": int(in_flight)}

        return dict(self._call("read the state", read))

    def _start_keeper(self) -> None:
        if self._keeper is None or not self._keeper.is_alive():
            self._keeper = threading.Thread(target=self._keep, name="modelslab-limiter-leases", daemon=True)
            self._keeper.start()

    def _keep(self) -> None:
        """Renew this process's live leases until none is left; the thread ends with the process."""
        while True:
            time.sleep(self.lease_ttl / 3)
            with self._lock:
                live = dict(self._live)
                if not live:
                    self._keeper = None
                    return
            client, _ = self._connection()
            expiry = int((time.time() + self.lease_ttl) * 1000)
            try:
                with client.pipeline(transaction=False) as pipe:
                    for token, key in live.items():
                        pipe.zadd(key, {token: expiry}, xx=True)
                    pipe.execute()
            except Exception:
                continue

    def __reduce__(self) -> tuple[Callable[[], RedisLimiter], tuple[()]]:
        # a worker process (multiprocessing, Ray) gets its own connection to the same shared state
        initial_limit, max_limit, decrease = self._settings
        rebuild = functools.partial(
            RedisLimiter,
            self.url,
            prefix=self.prefix,
            lease_ttl=self.lease_ttl,
            initial_limit=initial_limit,
            max_limit=max_limit,
            decrease=decrease,
        )
        return (rebuild, ())

    def __copy__(self) -> RedisLimiter:
        return self  # one connection and one keeper thread per limiter: copies share them

    def __deepcopy__(self, memo: dict[int, object]) -> RedisLimiter:
        return self

    def __repr__(self) -> str:
        return f"RedisLimiter({_redacted(self.url)!r}, lease_ttl={self.lease_ttl})"


class RedisAccountLimiter(KeptPauses):
    """One account's view of a `RedisLimiter`: the `Limiter` the clients wait on."""

    def __init__(self, shared: RedisLimiter, account: str) -> None:
        """Use `RedisLimiter.for_account`; the clients do it for you."""
        super().__init__()
        self.shared, self.account = shared, account
        self._lock = threading.Lock()
        self._in_flight = 0
        self._service_time = 0.0
        # the waiters of a process take turns: only the first in line (per thread pool, per event loop) polls
        # Redis, so a wait costs a few calls a second whatever the number of waiting requests
        self._sync_turn = threading.Lock()
        self._async_turns: dict[asyncio.AbstractEventLoop, asyncio.Lock] = {}

    @property
    def in_flight(self) -> int:
        """Requests of this process holding a slot of the account."""
        return self._in_flight

    @property
    def service_time(self) -> float:
        """A moving average of how long this process's answered requests were in service (sent to answered,
        pauses in a kept slot left out), in seconds."""
        return self._service_time

    @property
    def limit(self) -> int:
        """The account's shared limit now."""
        return self.shared.state(self.account).get("limit", self.shared._settings[0])

    def stats(self) -> LimiterStats:
        """The shared limit and counters (`in_flight` counts every worker's live leases)."""
        state = self.shared.state(self.account)
        return LimiterStats(
            limit=state.get("limit", self.shared._settings[0]),
            in_flight=state["in_flight"],
            waiting=0,
            peak_in_flight=0,
            granted=state.get("granted", 0),
            congested=state.get("congested", 0),
            increases=state.get("increases", 0),
            decreases=state.get("decreases", 0),
        )

    def acquire(self) -> Lease:
        """A slot, polling Redis (first in this process's line) until one is free."""
        with self._sync_turn:
            pause = _POLL_FIRST
            while (lease := self.shared.try_acquire(self.account)) is None:
                time.sleep(pause * (0.5 + random.random()))
                pause = min(pause * 2, _POLL_MAX)
        self._held(+1)
        return lease

    async def aacquire(self) -> Lease:
        """A slot for an async task; Redis is called from a worker thread, the wait is `asyncio.sleep`."""
        async with self._turn():
            pause = _POLL_FIRST
            while (lease := await self._try_in_thread()) is None:
                await asyncio.sleep(pause * (0.5 + random.random()))
                pause = min(pause * 2, _POLL_MAX)
        self._held(+1)
        return lease

    def _turn(self) -> asyncio.Lock:
        loop = asyncio.get_running_loop()
        with self._lock:
            turn = self._async_turns.get(loop)
            if turn is None:
                for old in [old for old in self._async_turns if old.is_closed()]:
                    del self._async_turns[old]
                turn = self._async_turns[loop] = asyncio.Lock()
        return turn

    async def _try_in_thread(self) -> Lease | None:
        attempt = asyncio.ensure_future(asyncio.to_thread(self.shared.try_acquire, self.account))
        try:
            return await asyncio.shield(attempt)
        except asyncio.CancelledError:  # the thread may still win a slot: give it straight back
            attempt.add_done_callback(self._give_back_unused)
            raise

    def _give_back_unused(self, attempt: asyncio.Future[Lease | None]) -> None:
        if (
            not attempt.cancelled()
            and attempt.exception() is None
            and (lease := attempt.result()) is not None
        ):
            self.shared.give_back(self.account, lease, "failed")

    def release(self, lease: Lease, outcome: Outcome) -> None:
        """Return the slot; a second release does nothing."""
        if self._end(lease, outcome):
            self.shared.give_back(self.account, lease, outcome)
            if outcome == "ok":
                self._answered()

    async def arelease(self, lease: Lease, outcome: Outcome) -> None:
        """`release` from an async task (Redis is called from a worker thread)."""
        if self._end(lease, outcome):
            await asyncio.to_thread(self.shared.give_back, self.account, lease, outcome)
            if outcome == "ok":
                self._answered()

    def refused(self, lease: Lease) -> bool:
        """The queue refused the request (a 429): keep its slot (True) or give it back (False)."""
        if lease.released:
            return False
        if self.shared.keep_refused(self.account, lease):
            return True
        self._end(lease, "congested")
        return False

    async def arefused(self, lease: Lease) -> bool:
        """`refused` from an async task (Redis is called from a worker thread)."""
        if lease.released:
            return False
        if await asyncio.to_thread(self.shared.keep_refused, self.account, lease):
            return True
        self._end(lease, "congested")
        return False

    def _held(self, change: int) -> None:
        with self._lock:
            self._in_flight += change

    def _end(self, lease: Lease, outcome: Outcome) -> bool:
        with self._lock:
            if lease.released:
                return False
            lease.released = True
            self._in_flight -= 1
            if outcome == "ok":
                self._service_time = lease.averaged_into(self._service_time)
            return True

    def __repr__(self) -> str:
        return f"RedisAccountLimiter({self.shared!r})"
