"""Issue 15's queue benchmarks: many prompts against a server that serves N at once per key, like ModelsLab.

`python -m benchmarks.queue` (also run by `python -m benchmarks`) starts the local server with
`--queue-limit N --latency-ms MS` for each N and sends the same prompts through each path, each with a fresh
API key so that no row inherits what another row's limiter learnt:

1. LangChain `ChatModelsLab(...).abatch(prompts)`, default config;
2. LlamaIndex `asyncio.gather` of `ModelsLab.achat`;
3. 4 worker processes with no coordinator (each its own per-process limiter);
4. 8 worker processes with `MODELSLAB_LIMITER_URL` pointing at a Redis server the benchmark starts;
5. `ChatAnthropic(base_url=..., api_key=...).abatch(prompts)` beside them (no limiter of ours).

Each row: prompts answered, failures (by exception type), 429s sent (the server's `queue_refused`), wall time
and efficiency = ideal / wall with ideal = ceil(prompts / N) x latency.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import math
import os
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypedDict

import httpx

from modelslab_core.testing import redis_process, server_process

from .cases import MODEL

ROOT = Path(__file__).resolve().parents[1]
ROWS = ("langchain", "llama_index", "processes", "redis", "anthropic")
EXTRA_ROWS = ("split",)
"""Rows run only when named: `split` is 4 processes with the queue split between them by hand (`limiter=None`,
`max_concurrent_requests` N / 4, the remainder to the first ones), what the best fixed share would give."""
LABELS = {
    "langchain": "LangChain ChatModelsLab.abatch",
    "llama_index": "LlamaIndex gather(ModelsLab.achat)",
    "processes": "{procs} processes, no coordinator",
    "redis": "{procs} processes, MODELSLAB_LIMITER_URL (Redis)",
    "anthropic": "ChatAnthropic.abatch (reference)",
    "split": "{procs} processes, the queue split by hand (reference)",
}


class Outcome(TypedDict):
    """What one batch (or one worker's share of it) came to."""

    answered: int
    failures: dict[str, int]
    start: float
    end: float
    note: str


class Row(TypedDict):
    row: str
    label: str
    queue_limit: int
    prompts: int
    answered: int
    failures: dict[str, int]
    sent_429: int
    requests: int
    peak_in_service: int
    wall: float
    ideal: float
    efficiency: float
    note: str


def _prompts(n: int, offset: int = 0) -> list[str]:
    return [f"prompt {offset + i}" for i in range(n)]


def _tally(results: Sequence[object], start: float, end: float) -> Outcome:
    """Answers are replies with text; anything else (an exception returned in place) is a failure."""
    failures: Counter[str] = Counter()
    answered = 0
    for result in results:
        if isinstance(result, BaseException):
            failures[type(result).__name__] += 1
        elif _text(result):
            answered += 1
        else:
            failures["empty reply"] += 1
    return {"answered": answered, "failures": dict(failures), "start": start, "end": end, "note": ""}


def _text(result: object) -> str:
    message = getattr(result, "message", None)  # a LlamaIndex ChatResponse
    if message is not None:
        return str(message.content or "")
    return str(getattr(result, "text", "") or "")


async def _timed(batch: Callable[[], Awaitable[Sequence[object]]]) -> Outcome:
    start = time.time()
    results = await batch()
    return _tally(results, start, time.time())


def langchain_batch(base_url: str, key: str, prompts: list[str]) -> Outcome:
    from langchain_modelslab import ChatModelsLab

    model = ChatModelsLab(model=MODEL, api_key=key, base_url=base_url)
    return asyncio.run(_timed(lambda: model.abatch(list[Any](prompts), return_exceptions=True)))


def llama_index_batch(base_url: str, key: str, prompts: list[str]) -> Outcome:
    from llama_index.core.llms import ChatMessage

    from llama_index_modelslab import ModelsLab

    llm = ModelsLab(model=MODEL, api_key=key, base_url=base_url)

    async def gather() -> Sequence[object]:
        calls = (llm.achat([ChatMessage(role="user", content=p)]) for p in prompts)
        return list(await asyncio.gather(*calls, return_exceptions=True))

    return asyncio.run(_timed(gather))


def anthropic_batch(base_url: str, key: str, prompts: list[str]) -> Outcome:
    from langchain_anthropic import ChatAnthropic

    # the anthropic SDK appends /v1/messages to base_url: the local server's base URL serves exactly that
    model = ChatAnthropic(model=MODEL, api_key=key, base_url=base_url, max_tokens=1024)
    return asyncio.run(_timed(lambda: model.abatch(list[Any](prompts), return_exceptions=True)))


def worker_main(base_url: str, key: str, count: int, offset: int, cap: int = 0) -> None:
    """One worker process: import, say ready, wait for `go` on stdin, batch its prompts, print its Outcome.

    It does the one-time work its first call would do, as a worker that has served before has: the imports
    (httpx's transport, anyio's asyncio backend that httpcore loads on its first async request, the redis
    package for MODELSLAB_LIMITER_URL), the process's TLS context, and the first full garbage collection after
    the imports (~70 ms with LangChain loaded). The first batch of a fresh process took ~100 ms more than its
    second, alone on the machine. The wall time measures sharing the queue, not 4 or 8 interpreters warming up
    at once on the benchmark machine's cores. `cap` > 0: no limiter, at most `cap` requests in flight.
    """
    import anyio._backends._asyncio  # noqa: F401
    import h11  # noqa: F401
    import httpcore  # noqa: F401

    from langchain_modelslab import ChatModelsLab
    from modelslab_core._shared import tls_context

    if os.environ.get("MODELSLAB_LIMITER_URL"):
        import redis  # noqa: F401

    fixed: dict[str, Any] = {"limiter": None, "max_concurrent_requests": cap} if cap else {}
    model = ChatModelsLab(model=MODEL, api_key=key, base_url=base_url, **fixed)
    prompts = _prompts(count, offset)
    tls_context()
    gc.collect()
    print("ready", flush=True)
    sys.stdin.readline()
    outcome = asyncio.run(_timed(lambda: model.abatch(list[Any](prompts), return_exceptions=True)))
    print(json.dumps(outcome), flush=True)


def _split(total: int, parts: int) -> list[int]:
    """`total` in `parts` shares as even as can be, the remainder to the first ones."""
    return [total // parts + (i < total % parts) for i in range(parts)]


def processes_batch(
    base_url: str, key: str, total: int, procs: int, redis_url: str | None, caps: Sequence[int] = ()
) -> Outcome:
    """`procs` workers of `total / procs` prompts each, released together once all have imported; `caps`:
    each worker's `max_concurrent_requests`, with no limiter (none: the default limiter)."""
    env = {k: v for k, v in os.environ.items() if k != "MODELSLAB_LIMITER_URL"}
    if redis_url:
        env["MODELSLAB_LIMITER_URL"] = redis_url
    shares = _split(total, procs)
    workers = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "benchmarks.queue",
                "--worker",
                base_url,
                key,
                str(n),
                str(sum(shares[:i])),
                str(caps[i] if caps else 0),
            ],
            cwd=ROOT,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for i, n in enumerate(shares)
    ]
    outcomes: list[Outcome] = []
    failures: Counter[str] = Counter()
    try:
        for w in workers:
            assert w.stdout is not None
            if w.stdout.readline().strip() != "ready":
                raise RuntimeError("a benchmark worker did not start")
        for w in workers:
            assert w.stdin is not None
            w.stdin.write("go\n")
            w.stdin.flush()
        for w, n in zip(workers, shares, strict=True):
            out, _ = w.communicate(timeout=600)
            lines = out.strip().splitlines()
            if w.returncode != 0 or not lines:
                failures["worker crashed"] += n
                continue
            outcomes.append(json.loads(lines[-1]))
    finally:
        for w in workers:
            if w.poll() is None:
                w.kill()
                w.wait()
    for o in outcomes:
        failures.update(o["failures"])
    starts, walls = [o["start"] for o in outcomes], [o["end"] - o["start"] for o in outcomes]
    note = (
        f"workers' own wall {min(walls):.2f}-{max(walls):.2f} s, "
        f"last started {max(starts) - min(starts):.3f} s after the first"
        if outcomes
        else ""
    )
    return {
        "answered": sum(o["answered"] for o in outcomes),
        "failures": dict(failures),
        "start": min((o["start"] for o in outcomes), default=0.0),
        "end": max((o["end"] for o in outcomes), default=0.0),
        "note": note,
    }


def _stats(root: str) -> dict[str, Any]:
    return dict(httpx.get(root + "/_local/stats").json())


def run_row(row: str, base_url: str, limit: int, prompts: int, latency: float, redis_url: str | None) -> Row:
    root = base_url.removesuffix("/api/v7/llm")
    key = f"bench-queue-{row}-{limit}"  # a fresh account: nothing learnt by an earlier row
    procs = {"processes": 4, "redis": 8, "split": 4}.get(row, 1)
    httpx.post(root + "/_local/reset")
    before = _stats(root)
    if row == "langchain":
        outcome = langchain_batch(base_url, key, _prompts(prompts))
    elif row == "llama_index":
        outcome = llama_index_batch(base_url, key, _prompts(prompts))
    elif row == "anthropic":
        outcome = anthropic_batch(base_url, key, _prompts(prompts))
    elif row == "split":
        if limit < procs:
            raise ValueError(f"the split row needs a queue of at least {procs}, got {limit}")
        caps = _split(limit, procs)
        outcome = processes_batch(base_url, key, prompts, procs, None, caps)
    else:
        outcome = processes_batch(base_url, key, prompts, procs, redis_url if row == "redis" else None)
    after = _stats(root)
    wall = outcome["end"] - outcome["start"]
    ideal = math.ceil(prompts / limit) * latency
    return {
        "row": row,
        "label": LABELS[row].format(procs=procs),
        "queue_limit": limit,
        "prompts": prompts,
        "answered": outcome["answered"],
        "failures": outcome["failures"],
        "sent_429": int(after["queue_refused"]),
        "requests": int(after["requests"]) - int(before["requests"]),
        "peak_in_service": int(after["peak_in_service"]),
        "wall": wall,
        "ideal": ideal,
        "efficiency": ideal / wall if wall > 0 else 0.0,
        "note": outcome["note"],
    }


def run(
    limits: Sequence[int] = (5, 10),
    prompts: int = 200,
    latency_ms: int = 200,
    rows: Sequence[str] = ROWS,
) -> list[Row]:
    """Every row at every queue limit; a row whose framework is not installed is skipped (said on stderr)."""
    out: list[Row] = []
    with redis_process() if "redis" in rows else _no_redis() as redis_url:
        for limit in limits:
            args = ["--queue-limit", str(limit), "--latency-ms", str(latency_ms)]
            with server_process(args) as base_url:
                for row in rows:
                    try:
                        out.append(run_row(row, base_url, limit, prompts, latency_ms / 1000, redis_url))
                    except ImportError as exc:
                        print(f"queue row {row} skipped: {exc}", file=sys.stderr)
    return out


@contextmanager
def _no_redis() -> Iterator[str | None]:
    yield None


def _429_budget(row: Row) -> float:
    """429s allowed: 50 per 200 prompts in one process, 100 for uncoordinated processes, 10 with Redis, none
    for a split by hand (its caps add up to the queue)."""
    per_200 = {"processes": 100, "redis": 10, "split": 0}.get(row["row"], 50)
    return per_200 * row["prompts"] / 200


def checks(rows: Sequence[Row]) -> list[dict[str, Any]]:
    """Per row, in `report.evaluate`'s shape: every prompt answered, efficiency >= 0.8, 429s within budget."""
    out: list[dict[str, Any]] = []
    for r in rows:
        name = f"queue {r['queue_limit']}: {r['label']}"
        failed = r["prompts"] - r["answered"]
        budget = _429_budget(r)
        out += [
            _check(f"{name}: prompts not answered", failed, 0.0, "", failed == 0),
            _check(f"{name}: efficiency", r["efficiency"], ">= 0.8", "x", r["efficiency"] >= 0.8),
            _check(f"{name}: 429s sent", r["sent_429"], budget, "", r["sent_429"] <= budget),
        ]
    return out


def _check(target: str, value: float, limit: float | str, unit: str, ok: bool) -> dict[str, Any]:
    return {"target": target, "value": float(value), "limit": limit, "unit": unit, "ok": ok}


def render(rows: Sequence[Row]) -> str:
    lines = [
        "| queue N | path | answered | failures | 429s sent | requests | peak in service | wall (s) "
        "| ideal (s) | efficiency | targets |",
        "|---:|---|---:|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r, group in zip(rows, _grouped(checks(rows)), strict=True):
        failures = ", ".join(f"{k} {v}" for k, v in sorted(r["failures"].items())) or "0"
        verdict = (
            "PASS"
            if all(c["ok"] for c in group)
            else "MISS: " + "; ".join(c["target"].rsplit(": ", 1)[-1] for c in group if not c["ok"])
        )
        lines.append(
            f"| {r['queue_limit']} | {r['label']} | {r['answered']} / {r['prompts']} | {failures} "
            f"| {r['sent_429']} | {r['requests']} | {r['peak_in_service']} | {r['wall']:.2f} "
            f"| {r['ideal']:.2f} | {r['efficiency']:.2f} | {verdict} |"
        )
    notes = [f"- queue {r['queue_limit']}, {r['label']}: {r['note']}" for r in rows if r["note"]]
    return "\n".join(lines + (["", *notes] if notes else []))


def _grouped(flat: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    return [flat[i : i + 3] for i in range(0, len(flat), 3)]


def write_chart(rows: Sequence[Row], path: Path) -> None:
    """Efficiency and 429s sent per row and queue limit (skipped when matplotlib is missing)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return
    labels = list(dict.fromkeys(r["label"] for r in rows))
    limits = sorted({r["queue_limit"] for r in rows})
    by = {(r["label"], r["queue_limit"]): r for r in rows}
    fig, (eff, refused) = plt.subplots(1, 2, figsize=(11, 0.45 * len(labels) * len(limits) + 1.5))
    height = 0.8 / len(limits)
    for i, limit in enumerate(limits):
        ys = [j + i * height for j in range(len(labels))]
        got = [by.get((label, limit)) for label in labels]
        # a batch that lost prompts has no efficiency to show (it ends early, giving up): say what it answered
        whole = [g is not None and g["answered"] == g["prompts"] for g in got]
        values = [g["efficiency"] if g and ok else 0 for g, ok in zip(got, whole, strict=True)]
        eff.barh(ys, values, height, label=f"queue {limit}")
        for y, g, ok in zip(ys, got, whole, strict=True):
            if g and not ok:
                eff.text(0.02, y, f"{g['answered']} / {g['prompts']} answered", va="center", fontsize=8)
        refused.barh(ys, [g["sent_429"] if g else 0 for g in got], height, label=f"queue {limit}")
    for ax in (eff, refused):
        ax.set_yticks([j + height * (len(limits) - 1) / 2 for j in range(len(labels))])
        ax.invert_yaxis()
    eff.legend(loc="lower right", fontsize=8)
    eff.set_yticklabels(labels)
    refused.set_yticklabels([])
    eff.axvline(0.8, color="#999999", linestyle="--")
    eff.set_xlim(0, 1.05)
    eff.set_xlabel("efficiency = ideal / wall (target >= 0.8)")
    refused.set_xscale("symlog", linthresh=10)
    refused.set_xlabel("429s sent (log scale above 10)")
    prompts = rows[0]["prompts"] if rows else 0
    fig.suptitle(f"{prompts} prompts against a queue of N at once per key (efficiency: all answered only)")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["--worker"]:
        base_url, key, count, offset, cap = argv[1:6]
        worker_main(base_url, key, int(count), int(offset), int(cap))
        return 0
    parser = argparse.ArgumentParser(prog="python -m benchmarks.queue", description=__doc__)
    parser.add_argument("--limits", type=int, nargs="+", default=[5, 10], help="queue limits N")
    parser.add_argument("--prompts", type=int, default=200)
    parser.add_argument("--latency-ms", type=int, default=200)
    parser.add_argument("--rows", nargs="+", choices=ROWS + EXTRA_ROWS, default=list(ROWS))
    parser.add_argument("--out", default="", help="write the rows as JSON here")
    parser.add_argument("--chart", default="", help="draw the rows into this PNG")
    args = parser.parse_args(argv)
    rows = run(args.limits, args.prompts, args.latency_ms, args.rows)
    print(render(rows))
    if args.out:
        Path(args.out).write_text(json.dumps(rows, indent=2))
    if args.chart:
        write_chart(rows, Path(args.chart))
    return 0


if __name__ == "__main__":
    sys.exit(main())
