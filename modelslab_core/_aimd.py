"""The concurrency controller behind every limiter: how many requests may be in flight. No I/O, no clock.

ModelsLab serves at most 5, 10 or 15 requests at once per account and refuses the rest with a 429 at once.
The client cannot know the plan or what else the account runs, so the limit is discovered:

- **slow start**: from `initial`, each success that found the limit in use adds 1 (so a full window of
  successes doubles it) until the first congestion signal (a queue 429, or a 529). The limiters judge "in
  use" (`saturated`): full when the request was granted, or, once the limit has been lowered, a request
  had to wait while it was in flight (`held_back`); a new limiter's first window counts only the
  grant that filled it, so it tries one above the smallest plan before doubling;
- **the end of slow start** sets the limit to what the queue was seen to hold: one less than the refused
  request's place in line when it was granted (the place is 1 for the first request in flight). Requests of
  that same slow-start window refused later can only lower it further to their own place less one, so a
  first burst that overfilled a small queue settles at once (half the limit when the place is not known);
- **multiplicative decrease** on later congestion: `limit * decrease`, rounded (a probe refused at 11 on a
  queue of 10 goes back to 10), at least 1 less, never below 1. One decrease per generation: requests
  admitted before the last decrease were sent under the old limit, and their refusals say nothing new;
- **additive increase** afterwards: +1 per window (`limit` successes that found the limit in use). A probe
  above a limit that failed before waits 1, 2, then 4 windows, so a settled limit costs about one 429 per
  4 windows. A limit shared by every process of the account (Redis) sees the others leave by itself and
  only probes for a bigger plan or the account's other work: it waits up to 16 windows;
- **slow start again** when the queue is seen to have more room than it had: a probe above the failed limit
  holds for a whole window (a bigger plan, or the account's other work ended), or a request that the queue
  refused while this limit held, and that kept its slot, is answered with no decrease since and with as many
  of the process's requests in flight as when it was refused (the work that filled the queue is gone; room
  made by the process's own requests ending, as its batch drains, says nothing). How much room there is now
  is found in a few windows, not at +1 a window, and the overshoot ends slow start at the queue's size as
  above. Without this, processes sharing one account with no coordinator leave the queue half empty each
  time one of them finishes its share.

The Redis limiter runs the same rules in Lua (`_redis_scripts.py`); a test checks the two agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = ["Controller", "Outcome", "held_back"]

Outcome = Literal["ok", "congested", "failed"]
"""How a request that held a slot ended: answered, refused for load (429 / 529), or anything else."""

MAX_PROBE_WINDOWS = 4
SHARED_MAX_PROBE_WINDOWS = 16


def held_back(saturated: bool, generation: int, waits_at_grant: int, waits_now: int) -> bool:
    """Whether the limit was in use while a request held its slot, so its answer may grow the limit: full
    when it was granted (`saturated`), or, once the limit has been lowered (`generation` > 0), a request had
    to wait since (the limiter's count of waits went from `waits_at_grant` to `waits_now`). A window granted
    at once to a waiting batch is full only at its last grant, yet each of its slots kept work back: after a
    restart of slow start it doubles. A new limiter's first window counts only that last grant, so it tries
    one above the smallest plan's queue (the likeliest) before doubling. Lua: `RELEASE`."""
    return saturated or (generation > 0 and waits_now > waits_at_grant)


@dataclass
class Controller:
    """The adaptive limit and what it has learnt; `ceiling` caps it (the connection pool)."""

    limit: int = 5
    ceiling: int = 100
    decrease: float = 0.9
    slow_start: bool = True
    generation: int = 0
    credit: int = 0
    failed_at: int = 0
    probe_windows: int = 1
    max_probe_windows: int = MAX_PROBE_WINDOWS
    increases: int = 0
    decreases: int = 0
    overshoot: int = -1
    """The generation of the slow-start window that ended: its later refusals may still lower the limit."""

    def saturated(self, in_flight: int) -> bool:
        """Whether a request granted now, making `in_flight`, finds the limit in use (growth counts then)."""
        return in_flight >= self.limit

    def finish(
        self,
        outcome: Outcome,
        generation: int,
        saturated: bool,
        place: int = 0,
        refused: bool = False,
        holding: int = 0,
    ) -> bool:
        """Learn from one request's end; True when the limit went down. `place`: the requests in flight
        when it was granted, itself included (0: not known); `refused`: the queue refused it before and it
        kept its slot, sent again (its `generation` and `place` are then those of its last refusal);
        `holding`: the requests in flight as it ends, itself included (0: not known)."""
        if outcome == "ok":
            # the queue took it back with no decrease since, and not because this process's own requests
            # ended (its batch draining): the work that filled the queue left
            room = not holding or holding >= place
            if refused and generation == self.generation and not self.slow_start and room:
                self._restart()
            if saturated:
                self._grow()
            return False
        if outcome != "congested":
            return False
        if generation == self.overshoot and 0 < place <= self.limit:  # the same overshoot, seen lower down
            self.limit = max(1, place - 1)
            return True
        if generation != self.generation:
            return False
        before = self.limit
        if self.slow_start:
            self.slow_start, self.overshoot = False, generation
            self.limit = max(1, min(before - 1, place - 1)) if place else max(1, before // 2)
        else:
            self.limit = max(1, min(before - 1, int(before * self.decrease + 0.5)))
        if self.failed_at and before >= self.failed_at:  # the same probe failed again: wait longer next time
            self.probe_windows = min(self.probe_windows * 2, self.max_probe_windows)
        self.failed_at = before
        self.generation += 1
        self.credit = 0
        self.decreases += 1
        return True

    def _grow(self) -> None:
        if self.limit >= self.ceiling:
            return
        if self.slow_start:
            self.limit += 1
            self.increases += 1
            return
        self.credit += 1
        probing = bool(self.failed_at) and self.limit + 1 >= self.failed_at
        if self.credit < self.limit * (self.probe_windows if probing else 1):
            return
        self.credit = 0
        if self.failed_at and self.limit >= self.failed_at:  # a whole window held at a limit that failed:
            self._restart()  # the queue has room again (a plan change, others left)
        self.limit += 1
        self.increases += 1

    def _restart(self) -> None:
        """Back to slow start, forgetting the failed limit: the queue has more room than it had."""
        self.slow_start, self.overshoot = True, -1
        self.failed_at, self.probe_windows, self.credit = 0, 1, 0
