"""`RedisLimiter` against a real Redis server and the local server's imitation of ModelsLab's queue."""

from __future__ import annotations

import asyncio
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from modelslab_core import AsyncClient, Client, LimiterError, RedisLimiter
from modelslab_core._aimd import SHARED_MAX_PROBE_WINDOWS, Controller, held_back
from modelslab_core.limiter import account_id, forget_accounts
from modelslab_core.redis_limiter import RedisAccountLimiter
from modelslab_core.testing import LocalServer

from ..core.test_limiter import drain_a_batch, end_kept_pauses

ROOT = Path(__file__).resolve().parents[2]
KEY = "test-key"
CALL = {"model": "m", "max_tokens": 8, "messages": [{"role": "user", "content": "hi"}]}


def test_the_lua_rules_are_the_controllers(redis_url: str, prefix: str) -> None:
    """The same grants, outcomes and refusals, in the same order, give the same limit after each step."""
    view = RedisLimiter(redis_url, prefix=prefix).for_account("parity")
    control = Controller(max_probe_windows=SHARED_MAX_PROBE_WINDOWS)
    rng = random.Random(3)
    held: list[tuple[object, int, bool, int]] = []
    in_flight = blocked = 0  # blocked: grants refused for a full limit
    for _ in range(600):
        if held and (rng.random() < 0.5 or in_flight >= control.limit):
            if in_flight >= control.limit and rng.random() < 0.3:  # someone else finds the limit full
                assert view.shared.try_acquire("parity") is None
                blocked += 1
                continue
            index = rng.randrange(len(held))
            lease, generation, saturated, blocked_then = held[index]
            saturated = held_back(saturated, generation, blocked_then, blocked)
            outcome = rng.choice(["ok", "ok", "ok", "congested", "failed", "refused"])
            place = lease.place  # type: ignore[attr-defined]
            if outcome == "refused":  # the slot is kept while the account is within its limit
                control.finish("congested", generation, saturated, place)
                keep = in_flight <= control.limit
                assert view.refused(lease) is keep  # type: ignore[arg-type]
                if keep:
                    held[index] = (lease, control.generation, True, blocked_then)
                    assert lease.generation == control.generation  # type: ignore[attr-defined]
                    assert lease.place == in_flight  # type: ignore[attr-defined]
                    assert lease.refused  # type: ignore[attr-defined]
                    continue
            else:
                view.release(lease, outcome)  # type: ignore[arg-type]
                refused = lease.refused  # type: ignore[attr-defined]
                control.finish(outcome, generation, saturated, place, refused, in_flight)  # type: ignore[arg-type]
            held.pop(index)
            in_flight -= 1
        else:
            lease = view.shared.try_acquire("parity")
            assert lease is not None
            view._held(+1)
            in_flight += 1
            saturated = control.saturated(in_flight)
            assert (lease.generation, lease.saturated) == (control.generation, saturated)
            assert lease.place == in_flight and lease.blocked == blocked
            held.append((lease, control.generation, saturated, blocked))
        assert view.limit == control.limit


def test_a_redis_limit_whose_batch_drained_does_not_start_slow_again(redis_url: str, prefix: str) -> None:
    drain_a_batch(RedisLimiter(redis_url, prefix=prefix, initial_limit=3).for_account("drain"))


def test_an_answer_ends_the_first_kept_pause_with_redis(redis_url: str, prefix: str) -> None:
    end_kept_pauses(RedisLimiter(redis_url, prefix=prefix).for_account("pauses"))


def test_a_batch_through_redis_answers_every_prompt(redis_url: str, prefix: str) -> None:
    with LocalServer(queue_limit=5, latency_ms=60) as server:
        limiter = RedisLimiter(redis_url, prefix=prefix)
        client = AsyncClient(api_key=KEY, base_url=server.base_url, max_retries=0, limiter=limiter)

        async def run() -> int:
            replies = await asyncio.gather(*(client.create(**CALL) for _ in range(100)))  # type: ignore[arg-type]
            return sum(1 for reply in replies if reply.text)

        assert asyncio.run(run()) == 100
        view = client.limiter
        assert isinstance(view, RedisAccountLimiter)
        stats = view.stats()
        assert stats["in_flight"] == 0
        assert 4 <= stats["limit"] <= 6, stats
        assert server.queue.counters()["queue_refused"] == stats["congested"]


def test_the_environment_variable_picks_redis(
    redis_url: str, prefix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MODELSLAB_LIMITER_URL", redis_url)
    forget_accounts()
    with LocalServer() as server:
        client = Client(api_key=KEY, base_url=server.base_url)
        assert isinstance(client.limiter, RedisAccountLimiter)
        assert client.limiter.account == account_id(KEY, server.base_url)
        assert Client(api_key=KEY, base_url=server.base_url).limiter is client.limiter
        assert client.create(**CALL).text  # type: ignore[arg-type]
        assert client.limiter.stats()["granted"] >= 1


def test_an_unreachable_redis_is_a_clear_error_before_any_request() -> None:
    with LocalServer() as server:
        limiter = RedisLimiter("redis://:secret-pass@127.0.0.1:9/0", prefix="unreachable")
        client = Client(api_key=KEY, base_url=server.base_url, limiter=limiter)
        with pytest.raises(LimiterError, match=r"Redis at redis://:\*\*\*@127\.0\.0\.1:9/0 failed") as caught:
            client.create(**CALL)  # type: ignore[arg-type]
        assert "secret-pass" not in str(caught.value)
        assert server.stats.requests == 0


def test_a_missing_redis_package_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "redis", None)  # what `import redis` sees without the package
    limiter = RedisLimiter("redis://127.0.0.1:9/0")
    client = Client(api_key=KEY, base_url="http://127.0.0.1:9/api/v7/llm", limiter=limiter)
    with pytest.raises(LimiterError, match=r"pip install 'modelslab-integrations\[redis\]'"):
        client.create(**CALL)  # type: ignore[arg-type]


def test_a_bad_url_is_refused() -> None:
    with pytest.raises(ValueError, match="must start with redis://"):
        RedisLimiter("http://127.0.0.1:6379")


def test_eight_processes_one_killed_slots_come_back(redis_url: str, prefix: str) -> None:
    ttl = 2.0
    with LocalServer(queue_limit=5, latency_ms=40) as server:
        env = {
            **os.environ,
            "MODELSLAB_LIMITER_URL": redis_url,
            "MODELSLAB_TEST_PREFIX": prefix,
            "MODELSLAB_TEST_TTL": str(ttl),
        }
        command = [sys.executable, "-m", "tests.redis.worker", server.base_url]
        victim = subprocess.Popen([*command, "400"], cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)
        assert victim.stdout is not None and victim.stdout.readline().strip() == "started"
        workers = [
            subprocess.Popen([*command, "25"], cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)
            for _ in range(7)
        ]
        deadline = time.monotonic() + 10
        while server.stats.requests < 20 and time.monotonic() < deadline:
            time.sleep(0.01)
        victim.send_signal(signal.SIGKILL)  # mid-run, holding slots it will never give back
        victim.wait(10)
        outputs = [worker.communicate(timeout=120)[0] for worker in workers]
        assert all(worker.returncode == 0 for worker in workers), outputs
        assert all(out.strip().endswith("answered 25") for out in outputs), outputs  # no prompt lost

        view = RedisLimiter(redis_url, prefix=prefix).for_account(account_id("test-key", server.base_url))
        deadline = time.monotonic() + ttl + 2
        while view.stats()["in_flight"] and time.monotonic() < deadline:
            time.sleep(0.05)
        assert view.stats()["in_flight"] == 0  # the killed worker's leases expired
        assert server.queue.counters()["peak_in_service"] <= 6  # the queue never saw the workers pile up


def test_a_pickled_redis_limiter_reconnects_to_the_same_state(redis_url: str, prefix: str) -> None:
    import copy
    import pickle

    limiter = RedisLimiter(redis_url, prefix=prefix, lease_ttl=7)
    assert copy.deepcopy(limiter) is limiter
    view = limiter.for_account("shared")
    lease = view.acquire()
    twin = pickle.loads(pickle.dumps(limiter))
    assert twin is not limiter and (twin.url, twin.prefix, twin.lease_ttl) == (redis_url, prefix, 7)
    assert twin.for_account("shared").stats()["in_flight"] == 1  # the other process sees the live lease
    view.release(lease, "ok")
    assert twin.for_account("shared").stats()["in_flight"] == 0
