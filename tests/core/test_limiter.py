"""The account-wide adaptive limiter, against the local server imitating ModelsLab's per-account queue.

Each test runs a real `LocalServer(queue_limit=N, latency_ms=...)`: at most N requests in service per key,
the rest refused at once with a 429, as ModelsLab does. Nothing is mocked; no test asserts a duration (one
checks that a service time of milliseconds leaves out a 0.5 s pause).
"""

from __future__ import annotations

import asyncio
import random
import threading
from collections.abc import Iterator

import pytest

import modelslab_core.async_client
from modelslab_core import AsyncClient, Client, ModelsLabError
from modelslab_core._aimd import Controller
from modelslab_core._shared import MAX_KEPT_PAUSE, Attempts, kept_backoff
from modelslab_core.limiter import AdaptiveLimiter, Limiter, Parking, limiter_for
from modelslab_core.testing import LocalServer

from ..retry_waits import record_retry_waits

KEY = "test-key"
CALL = {"model": "m", "max_tokens": 8, "messages": [{"role": "user", "content": "hi"}]}


@pytest.fixture
def queue() -> Iterator[LocalServer]:
    with LocalServer(queue_limit=5, latency_ms=20) as server:
        yield server


def aclient(server: LocalServer, **options: object) -> AsyncClient:
    return AsyncClient(api_key=KEY, base_url=server.base_url, max_retries=0, **options)  # type: ignore[arg-type]


async def burst(client: AsyncClient, n: int) -> int:
    replies = await asyncio.gather(*(client.create(**CALL) for _ in range(n)))  # type: ignore[arg-type]
    return sum(1 for reply in replies if reply.text)


# --- the controller alone (no I/O) ------------------------------------------------------------------------


def simulate(control: Controller, capacity: int, rounds: int) -> list[int]:
    """Each round fills the limit; requests past `capacity` are refused. The limit after each round."""
    seen = []
    for _ in range(rounds):
        generation, limit = control.generation, control.limit
        for slot in range(limit):
            outcome = "ok" if slot < capacity else "congested"
            control.finish(outcome, generation, saturated=True)
        seen.append(control.limit)
    return seen


@pytest.mark.parametrize("capacity", [1, 2, 5, 10, 15])
def test_the_controller_settles_within_one_step_of_the_capacity(capacity: int) -> None:
    limits = simulate(Controller(), capacity, 200)
    assert all(capacity - 1 <= limit <= capacity + 1 for limit in limits[-100:]), limits[-100:]


def test_past_the_plans_the_controller_settles_within_a_tenth() -> None:
    limits = simulate(Controller(), 40, 300)
    assert all(36 <= limit <= 41 for limit in limits[-100:]), limits[-100:]


def test_the_controller_follows_a_change_of_capacity() -> None:
    control = Controller()
    simulate(control, 10, 100)
    assert simulate(control, 3, 100)[-1] in (2, 3, 4)
    assert simulate(control, 12, 200)[-1] in (11, 12, 13)


def test_one_decrease_per_generation() -> None:
    control = Controller(limit=20, slow_start=False)
    generation = control.generation
    for _ in range(10):  # ten refusals of requests all sent under the old limit
        control.finish("congested", generation, saturated=True)
    assert control.limit == 18 and control.decreases == 1


@pytest.mark.parametrize(("before", "after"), [(11, 10), (16, 14), (20, 18), (40, 36), (6, 5), (2, 1)])
def test_a_decrease_is_a_tenth_rounded_and_at_least_one(before: int, after: int) -> None:
    # a probe refused at 11 on a queue of 10 goes back to 10 (rounding down would sit at 9 for a window)
    control = Controller(limit=before, slow_start=False)
    control.finish("congested", control.generation, saturated=True)
    assert control.limit == after


def test_the_limit_never_goes_below_one() -> None:
    control = Controller(limit=1, slow_start=False)
    for _ in range(5):
        control.finish("congested", control.generation, saturated=True)
    assert control.limit == 1


def test_growth_needs_the_limit_in_use() -> None:
    control = Controller(limit=5)
    for _ in range(100):  # one request at a time: nothing says the account could take more
        control.finish("ok", control.generation, saturated=False)
    assert control.limit == 5


def test_a_probe_that_holds_finds_the_new_room_by_slow_start() -> None:
    # settled at 5 under a queue of 5; the queue grows to 40 (a bigger plan, the account's other work ended)
    control = Controller(limit=5, slow_start=False, failed_at=6)
    # a window to probe 6, one held at 6 (where it failed): the room is new, so it doubles from there on
    assert simulate(control, 40, 5) == [6, 7, 14, 28, 56]  # (+1 a window: 6, 7, 8, 9, 10)


def test_a_kept_request_answered_means_the_other_work_left() -> None:
    # squeezed by other processes on the account: a request is refused and keeps its slot, the limit goes to 1
    control = Controller(limit=2, slow_start=False, failed_at=3, probe_windows=4)
    control.finish("congested", control.generation, saturated=True, place=2)
    assert control.limit == 1
    # sent again in its slot, it is answered with no decrease since: the queue has room again
    control.finish("ok", control.generation, saturated=True, place=1, refused=True)
    assert control.slow_start and control.failed_at == 0
    assert simulate(control, 12, 3) == [4, 8, 16]  # (a probe every 4 windows: 1, 1, 2)


def test_a_kept_request_answered_as_its_batch_drains_says_nothing_new() -> None:
    # alone on a queue of 3: refused with 4 in flight, the limit goes to 3, and the request keeps its slot
    control = Controller(limit=4, slow_start=False)
    control.finish("congested", control.generation, saturated=True, place=4)
    assert control.limit == 3
    # answered with 1 of this process's requests in flight (itself) where 3 were when it was refused: the room
    # came from the process's own requests ending, not from other work leaving
    control.finish("ok", control.generation, saturated=True, place=3, refused=True, holding=1)
    assert not control.slow_start and control.limit == 3 and control.failed_at == 4


def drain_a_batch(limiter: Limiter) -> None:
    """A limiter starting at 3 sends 3, keeps the one the queue refused, and ends its batch: no restart."""
    first, second, third = (limiter.acquire() for _ in range(3))
    limiter.release(first, "ok")
    assert limiter.refused(third)  # the queue held 2 of them: the limit goes to 2, the request keeps its slot
    assert limiter.limit == 2  # type: ignore[attr-defined]
    limiter.release(second, "ok")
    limiter.release(third, "ok")  # answered last, alone in flight: the batch drained
    assert limiter.limit == 2  # type: ignore[attr-defined]  # (slow start again would make it 3 at once)


def test_a_limiter_whose_batch_drained_does_not_start_slow_again() -> None:
    drain_a_batch(AdaptiveLimiter(initial_limit=3))


def test_a_kept_request_answered_after_a_decrease_says_nothing_new() -> None:
    control = Controller(limit=6, slow_start=False)
    kept_in = control.generation
    control.finish("congested", kept_in, saturated=True, place=6)  # refused, kept (generation kept_in + 1)
    control.finish("congested", control.generation, saturated=True, place=3)  # another decrease after it
    control.finish("ok", kept_in + 1, saturated=True, place=5, refused=True)
    assert not control.slow_start and control.limit == 4


# --- against the imitated queue ---------------------------------------------------------------------------


@pytest.mark.parametrize("n", [1, 5, 15])
def test_a_batch_converges_to_the_queue_limit_with_no_failure(n: int) -> None:
    # each request held long enough that the client, in this process with the server, can overfill the queue
    with LocalServer(queue_limit=n, latency_ms=80) as server:
        client = aclient(server)
        answered = asyncio.run(burst(client, 25 * n))
        limiter = client.limiter
        assert isinstance(limiter, AdaptiveLimiter)
        assert answered == 25 * n  # with max_retries=0: no queue refusal used the retry budget
        assert n - 1 <= limiter.limit <= n + 1, limiter.stats()
        assert limiter.in_flight == 0
        refused = server.queue.counters()["queue_refused"]
        assert refused == limiter.stats()["congested"]
        assert refused is not None and refused <= 10 + n  # slow start's overshoot, then rare probes


def test_the_limit_follows_a_change_of_the_queue_mid_run() -> None:
    with LocalServer(queue_limit=10, latency_ms=40) as server:
        client = aclient(server)

        async def run() -> list[int]:
            limits = []
            for queue_limit, prompts in ((10, 200), (3, 90), (8, 320)):  # 20 to 40 windows each
                server.queue.set_limit(queue_limit)
                assert await burst(client, prompts) == prompts
                assert client.limiter is not None
                limits.append(client.limiter.limit)  # type: ignore[attr-defined]
            return limits

        first, lowered, raised = asyncio.run(run())
        assert 9 <= first <= 11
        assert 2 <= lowered <= 4
        assert 7 <= raised <= 9


def test_sync_threads_and_async_tasks_share_one_limiter(queue: LocalServer) -> None:
    sync = Client(api_key=KEY, base_url=queue.base_url, max_retries=0)
    async_ = aclient(queue)
    assert sync.limiter is async_.limiter
    answers: list[str] = []

    def thread() -> None:
        for _ in range(10):
            answers.append(sync.create(**CALL).text)  # type: ignore[arg-type]

    threads = [threading.Thread(target=thread) for _ in range(4)]
    for t in threads:
        t.start()
    answered = asyncio.run(burst(async_, 60))
    for t in threads:
        t.join()
    assert answered == 60 and len(answers) == 40
    limiter = sync.limiter
    assert isinstance(limiter, AdaptiveLimiter)
    stats = limiter.stats()
    # every call took a slot of this limiter; a refusal takes a new one unless its request kept the slot
    assert 100 <= stats["granted"] <= 100 + stats["congested"], stats
    assert limiter.in_flight == 0


def test_one_limiter_per_account() -> None:
    base = "http://127.0.0.1:9/api/v7/llm"
    one = Client(api_key="key-one", base_url=base)
    assert Client(api_key="key-one", base_url=base).limiter is one.limiter
    assert AsyncClient(api_key="key-one", base_url=base).limiter is one.limiter
    assert Client(api_key="key-two", base_url=base).limiter is not one.limiter
    assert Client(api_key="key-one", base_url="http://127.0.0.1:8/api/v7/llm").limiter is not one.limiter
    assert Client(api_key="key-one", base_url=base, limiter=None).limiter is None
    mine = AdaptiveLimiter(initial_limit=2)
    assert Client(api_key="key-one", base_url=base, limiter=mine).limiter is mine
    assert limiter_for("adaptive", "key-one", base) is one.limiter


def test_a_bad_limiter_argument_is_refused() -> None:
    with pytest.raises(ValueError, match="limiter must be 'adaptive', None or a limiter object"):
        Client(api_key=KEY, limiter="fast")  # type: ignore[arg-type]


def test_without_a_limiter_a_batch_fails_on_the_queue(queue: LocalServer) -> None:
    client = aclient(queue, limiter=None)

    async def run() -> list[object]:
        calls = (client.create(**CALL) for _ in range(30))  # type: ignore[arg-type]
        return await asyncio.gather(*calls, return_exceptions=True)

    failures = [r for r in asyncio.run(run()) if isinstance(r, ModelsLabError)]
    assert failures  # what users hit before the limiter: 429s through the retry budget


def test_a_thousand_mixed_calls_leave_no_slot_taken() -> None:
    with LocalServer(queue_limit=8) as server:
        client = aclient(server)
        rng = random.Random(7)

        async def one(i: int) -> None:
            kind = rng.choice(["ok", "error", "stream", "cut", "cancel"])
            if kind == "error":
                with pytest.raises(ModelsLabError):
                    await client.create(**CALL, extra_body={"max_tokens": -1})  # type: ignore[arg-type]
            elif kind == "stream":
                async with client.stream(**CALL) as stream:  # type: ignore[arg-type]
                    await stream.get_final_message()
            elif kind == "cut":
                async with client.stream(**CALL) as stream:  # type: ignore[arg-type]
                    async for _ in stream:
                        break  # left after the first event
            elif kind == "cancel":
                task = asyncio.ensure_future(client.create(**CALL))  # type: ignore[arg-type]
                await asyncio.sleep(rng.random() / 500)
                task.cancel()
                with pytest.raises(asyncio.CancelledError):
                    await task
            else:
                await client.create(**CALL)  # type: ignore[arg-type]

        async def run() -> None:
            await asyncio.gather(*(one(i) for i in range(1000)))

        asyncio.run(run())
        limiter = client.limiter
        assert isinstance(limiter, AdaptiveLimiter)
        stats = limiter.stats()
        assert stats["in_flight"] == 0 and stats["waiting"] == 0, stats
        assert stats["granted"] > 500  # cancelled waiters and calls refused before sending hold none


def test_threads_interrupted_while_waiting_give_their_place_back() -> None:
    limiter = AdaptiveLimiter(initial_limit=1)
    held = limiter.acquire()

    async def wait_then_cancel() -> None:
        task = asyncio.ensure_future(limiter.aacquire())
        await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(wait_then_cancel())
    assert limiter.stats()["waiting"] == 0
    limiter.release(held, "ok")
    limiter.release(held, "ok")  # a second release does nothing
    assert limiter.in_flight == 0
    again = limiter.acquire()
    assert limiter.in_flight == 1
    limiter.release(again, "failed")


def test_copies_share_the_limiter_and_a_pickle_starts_from_what_it_learnt() -> None:
    import copy
    import pickle

    limiter = AdaptiveLimiter(initial_limit=3)
    assert copy.copy(limiter) is limiter and copy.deepcopy(limiter) is limiter
    limiter.release(limiter.acquire(), "ok")  # 1 of 3 in flight: nothing learnt
    twin = pickle.loads(pickle.dumps(limiter))
    assert isinstance(twin, AdaptiveLimiter) and twin is not limiter
    assert twin.limit == limiter.limit and twin.in_flight == 0


def test_a_model_deep_copied_keeps_the_limiter_it_was_given() -> None:
    pytest.importorskip("langchain_core")
    import copy

    from langchain_modelslab import ChatModelsLab

    mine = AdaptiveLimiter(initial_limit=2)
    model = ChatModelsLab(model="m", api_key=KEY, limiter=mine)
    assert copy.deepcopy(model).limiter is mine


def test_a_refusal_within_the_limit_keeps_the_slot_and_one_over_it_gives_it_back() -> None:
    limiter = AdaptiveLimiter(initial_limit=4)
    leases = [limiter.acquire() for _ in range(4)]
    assert [lease.place for lease in leases] == [1, 2, 3, 4]
    waiting = threading.Thread(target=lambda: limiter.release(limiter.acquire(), "ok"))
    waiting.start()
    # the 4th in line was refused: slow start ends at 3, so it gives its slot back, and nobody is woken
    assert limiter.refused(leases[3]) is False
    assert limiter.limit == 3 and limiter.in_flight == 3 and limiter.stats()["waiting"] == 1
    limiter.release(leases[0], "failed")  # the waiter takes this slot
    limiter.release(leases[1], "failed")
    # the 3rd of the same window refused too: the queue held 2, and this request is within that limit
    assert limiter.refused(leases[2]) is True
    assert limiter.limit == 2 and limiter.in_flight <= limiter.limit
    limiter.release(leases[2], "ok")
    waiting.join(5)
    assert limiter.in_flight == 0 and limiter.stats()["waiting"] == 0


async def window(limiter: AdaptiveLimiter, waiting: int) -> int:
    """Five granted at once, `waiting` more in line behind them; the limit once the five are answered."""
    leases = [await limiter.aacquire() for _ in range(5)]
    line = [asyncio.ensure_future(limiter.aacquire()) for _ in range(waiting)]
    await asyncio.sleep(0)  # in line behind the five
    for lease in leases:
        limiter.release(lease, "ok")
    limit = limiter.limit
    for waiter in line:  # the line goes through, in slots of the new limit
        limiter.release(await waiter, "failed")
    return limit


def restarted_at_five() -> AdaptiveLimiter:
    """A limiter back in slow start at limit 5, reached as a client reaches it: its first window overfills
    the queue, and later a request the queue refused, kept in its slot, is answered with no decrease since."""
    limiter = AdaptiveLimiter(initial_limit=6)
    first = [limiter.acquire() for _ in range(6)]
    assert limiter.refused(first[-1]) is False  # the sixth: slow start ends at 5, the slot goes back
    for lease in first[:-1]:
        limiter.release(lease, "ok")
    lease = limiter.acquire()
    assert limiter.refused(lease) is True  # the queue is full of other work: 5 -> 4, the slot kept
    limiter.release(lease, "ok")  # taken back: the other work left, slow start again (4 + 1)
    assert (limiter.limit, limiter.stats()["decreases"]) == (5, 2)
    return limiter


def test_a_window_that_held_work_back_doubles_the_limit_in_slow_start_again() -> None:
    """Only the fifth of five granted at once found the limit full, but the batch waited behind each."""
    # a new limiter's first window: one above the smallest plan's queue, the likeliest, before doubling
    assert asyncio.run(window(AdaptiveLimiter(initial_limit=5), 15)) == 6
    assert asyncio.run(window(restarted_at_five(), 15)) == 10  # (6 before: only the fifth counted)


def test_a_window_that_held_nothing_back_leaves_the_limit() -> None:
    limiter = AdaptiveLimiter(initial_limit=5)
    leases = [limiter.acquire() for _ in range(4)]
    for lease in leases:
        limiter.release(lease, "ok")
    assert limiter.limit == 5


def test_a_first_burst_into_a_small_queue_settles_at_once() -> None:
    control = Controller(limit=5)
    for place in (4, 2, 5, 3):  # five sent at once to a queue of 1: four refused, in any order
        control.finish("congested", 0, saturated=True, place=place)
    assert control.limit == 1


def test_a_kept_requests_pause_is_not_counted_as_service_time(monkeypatch: pytest.MonkeyPatch) -> None:
    """The service time (the basis of a kept request's pause) is how long the server held a request: a
    request that paused in its slot before being answered must not stretch it, or the next pauses grow."""
    pauses = record_retry_waits(monkeypatch, scale=1.0)  # this test's pause is really waited
    limiter = AdaptiveLimiter()
    fault = {"x-modelslab-fault": "rate-limit-once;key=pause;retry-after=0.5"}
    with (
        LocalServer() as server,
        Client(
            api_key=KEY, base_url=server.base_url, max_retries=0, limiter=limiter, default_headers=fault
        ) as client,
    ):
        assert client.create(**CALL).text  # type: ignore[arg-type]
    assert limiter.stats()["congested"] == 1 and pauses == [0.5]  # refused once, kept its slot, answered
    assert 0 < limiter.service_time < 0.5, limiter.service_time


def kept_pauses(count: int, others_in_flight: int) -> tuple[list[float], Attempts]:
    """`count` pauses of one request the queue refuses again and again, keeping its slot, in a process
    whose answers held 0.2 s (pauses start from 0.1 s) and that has `others_in_flight` other requests."""
    limiter = AdaptiveLimiter()
    lease = limiter.acquire()
    lease.started -= 0.2
    limiter.release(lease, "ok")
    with Client(api_key=KEY, base_url="http://127.0.0.1:9", limiter=limiter) as client:
        attempts = Attempts(client._config)
    others = [limiter.acquire() for _ in range(others_in_flight)]
    lease = limiter.acquire()
    pauses = [attempts.pause(None, lease) for _ in range(count)]
    for held in [lease, *others]:
        limiter.release(held, "failed")
    return pauses, attempts


def test_a_kept_requests_pause_doubles_up_to_two_seconds() -> None:
    """From half the service time, doubling with each refusal of the same request, to `MAX_KEPT_PAUSE`: a
    request refused again and again while the queue is full of other work waits longer, never over 2 s.
    (Another request of the process is in flight: its answer would end the pause early.)"""
    pauses, _ = kept_pauses(8, others_in_flight=1)
    assert 0.05 <= pauses[0] <= 0.11, pauses  # about 0.1 s, jittered down to half at most
    assert all(1.0 <= p <= MAX_KEPT_PAUSE for p in pauses[5:]), pauses  # 3.2 s and more, capped at 2 s


def test_a_request_alone_in_flight_pauses_at_most_two_service_times() -> None:
    """With nothing else of the process in flight, no answer of its own ends a kept request's pause, and
    sending is its only way to find the room another process leaves when it finishes: its backoff stops
    at two service times (0.4 s here), until it has paused four times that long (then a quarter of the
    time paused so far, up to 2 s), so a request refused for minutes still backs off."""
    pauses, attempts = kept_pauses(5, others_in_flight=0)
    assert 0.05 <= pauses[0] <= 0.11, pauses
    assert all(p <= 0.4 for p in pauses), pauses  # 0.8 s and 1.6 s by doubling alone
    assert 0.4 <= sum(pauses) < 1.6, pauses
    long_ago = kept_backoff(kept=20, service_time=0.2, paused=4.0, alone=True)
    assert long_ago == 1.0 and kept_backoff(20, 0.2, 60.0, alone=True) == MAX_KEPT_PAUSE
    assert kept_backoff(20, 0.2, 0.0, alone=False) == MAX_KEPT_PAUSE
    assert attempts.paused == pytest.approx(sum(pauses))


def end_kept_pauses(limiter: Limiter) -> None:
    """An answer ends the first kept request's pause; a failure does not, nor does a second release of the
    answered lease, nor an answer a pause that is over."""
    assert isinstance(limiter, Parking)  # what the clients check before a pause an answer may end
    first, second = limiter.park(None), limiter.park(None)
    limiter.release(limiter.acquire(), "failed")  # no answer: no place in the queue is known to be free
    assert not first.event.is_set()
    answered = limiter.acquire()
    limiter.release(answered, "ok")
    assert first.event.is_set() and not second.event.is_set()
    limiter.release(answered, "ok")  # a second release frees no second place in the queue
    asyncio.run(limiter.arelease(answered, "ok"))
    assert not second.event.is_set()
    limiter.unpark(first)
    limiter.unpark(second)
    limiter.release(limiter.acquire(), "ok")
    assert not second.event.is_set()


def test_an_answer_ends_the_first_kept_pause() -> None:
    end_kept_pauses(AdaptiveLimiter())


def slow_limiter() -> AdaptiveLimiter:
    """A limiter of 3 past slow start whose answers held 60 s: a kept request's pause starts from 30 s."""
    limiter = AdaptiveLimiter(initial_limit=4)
    leases = [limiter.acquire() for _ in range(4)]
    assert not limiter.refused(leases[3])  # slow start ends at 3
    for lease in leases[:3]:
        lease.started -= 60
        limiter.release(lease, "ok")
    return limiter


@pytest.mark.parametrize("mode", ["async", "threads"])
def test_a_kept_request_goes_as_soon_as_another_is_answered(
    monkeypatch: pytest.MonkeyPatch, mode: str
) -> None:
    """Refused while the process's other request holds the queue's one place, the request keeps its slot
    and is sent again when that request is answered, not after its pause (15-30 s here)."""
    monkeypatch.setattr("modelslab_core._shared.MAX_KEPT_PAUSE", 60.0)
    pauses = record_retry_waits(monkeypatch, scale=1.0)
    woken: list[bool] = []
    pause, apause = modelslab_core.client._pause, modelslab_core.async_client._apause

    def watched(event: threading.Event, seconds: float) -> None:
        pause(event, seconds)
        woken.append(event.is_set())

    async def awatched(future: asyncio.Future[None], seconds: float) -> None:
        await apause(future, seconds)
        woken.append(future.done())

    monkeypatch.setattr(modelslab_core.client, "_pause", watched)
    monkeypatch.setattr(modelslab_core.async_client, "_apause", awatched)
    limiter = slow_limiter()
    with LocalServer(queue_limit=1, latency_ms=200) as server:
        if mode == "async":
            assert asyncio.run(burst(aclient(server, limiter=limiter), 2)) == 2
        else:
            client = Client(api_key=KEY, base_url=server.base_url, max_retries=0, limiter=limiter)
            answers: list[str] = []
            threads = [
                threading.Thread(target=lambda: answers.append(client.create(**CALL).text))  # type: ignore[arg-type]
                for _ in range(2)
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            assert len(answers) == 2 and all(answers)
        assert server.queue.counters()["queue_refused"] == 1
    assert len(pauses) == 1 and 15 <= pauses[0] <= 30, pauses
    assert woken == [True]
    assert limiter.in_flight == 0


def test_a_pause_ended_early_counts_only_the_time_paused() -> None:
    """Free retries stop once a request's pauses add up to its read timeout: a pause an answer ended early
    counts for the time it lasted, not the time it was planned for."""
    limiter = slow_limiter()
    with Client(api_key=KEY, base_url="http://127.0.0.1:9", limiter=limiter) as client:
        attempts = Attempts(client._config)
    lease = limiter.acquire()
    planned = attempts.pause(None, lease)
    assert planned >= 1 and attempts.paused == planned
    attempts.resumed(lease)  # woken at once
    assert 0 <= attempts.paused < 0.5 * planned, (attempts.paused, planned)
    limiter.release(lease, "ok")
