"""`python -m benchmarks`: run every benchmark against a local server process and check the targets."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import platform
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from modelslab_core.testing import server_process

from . import cases as c
from . import queue
from .measure import import_times, peak_memories, per_delta, server_start_stop, time_cases
from .report import evaluate, render, write_chart

HERE = Path(__file__).resolve().parent


def _reply_pieces(base_url: str, deltas: int) -> list[str]:
    """The text deltas the server sends for the benchmark prompt, so the floors return the same reply."""
    from modelslab_core import Client, ContentBlockDeltaEvent, TextDelta

    with Client(c.KEY, base_url=base_url) as client, client.stream(**c.request(deltas)) as stream:
        return [
            e.delta.text
            for e in stream
            if isinstance(e, ContentBlockDeltaEvent) and isinstance(e.delta, TextDelta)
        ]


def _streamers(base_url: str, deltas: int) -> dict[str, Any]:
    """Per path, a function that streams one reply of `deltas` deltas and returns the text's length in bytes.

    Lengths are counted as the text goes by, so that measuring does not itself hold the text twice.
    """
    from modelslab_core import Client, ContentBlockDeltaEvent, TextDelta

    from .floors import langchain_floor, llama_index_floor

    client = Client(c.KEY, base_url=base_url)
    call = c.request(deltas)
    pieces = _reply_pieces(base_url, deltas)  # the floors return the same reply

    def core() -> int:
        n = 0
        with client.stream(**call) as s:
            for event in s:
                if isinstance(event, ContentBlockDeltaEvent) and isinstance(event.delta, TextDelta):
                    n += len(event.delta.text.encode())
        return n

    def langchain_stream(model: Any) -> int:
        return sum(len(chunk.text.encode()) for chunk in model.stream(c.prompt(deltas)))

    def llama_index_stream(llm: Any, messages: Any) -> int:
        last = None
        for response in llm.stream_chat(messages):
            last = response
        return len(str(last.message.content).encode()) if last is not None else 0

    import httpx

    raw_client = httpx.Client()
    headers = c.HEADERS

    def raw() -> int:
        """The wire's floor: httpx line splitting and json.loads of each data line."""
        n = 0
        with raw_client.stream(
            "POST", base_url + "/v1/messages", json={**call, "stream": True}, headers=headers
        ) as r:
            for line in r.iter_lines():
                if line.startswith("data:"):
                    event = json.loads(line[5:])
                    if event.get("type") == "content_block_delta":
                        n += len(event["delta"].get("text", "").encode())
        return n

    out: dict[str, Any] = {"raw httpx stream": raw, "core Client.stream": core}
    with contextlib.suppress(ImportError):
        from langchain_modelslab import ChatModelsLab

        model = ChatModelsLab(model=c.MODEL, api_key=c.KEY, base_url=base_url, max_tokens=deltas * 2)
        floor = langchain_floor(pieces)
        out["LangChain floor stream"] = lambda: langchain_stream(floor)
        out["ChatModelsLab.stream"] = lambda: langchain_stream(model)
    with contextlib.suppress(ImportError):
        from llama_index.core.base.llms.types import ChatMessage

        from llama_index_modelslab import ModelsLab

        # a 20,000-delta reply needs max_tokens beyond the model's 32k window: state a window that fits it
        window = max(32768, deltas * 4)
        llm = ModelsLab(
            model=c.MODEL, api_key=c.KEY, base_url=base_url, max_tokens=deltas * 2, context_window=window
        )
        messages = [ChatMessage(role="user", content=c.prompt(deltas))]
        li_floor = llama_index_floor(pieces)
        out["LlamaIndex floor stream_chat"] = lambda: llama_index_stream(li_floor, messages)
        out["ModelsLab.stream_chat"] = lambda: llama_index_stream(llm, messages)
    return out


def run(args: argparse.Namespace) -> dict[str, Any]:
    results: dict[str, Any] = {
        "machine": {"python": sys.version.split()[0], "platform": platform.platform(), "cpus": _cpus()},
        "settings": vars(args),
    }
    with server_process() as base_url:
        pieces = _reply_pieces(base_url, args.deltas)
        cases = c.raw_cases(base_url, args.deltas) + c.core_cases(base_url, args.deltas)
        for factory in (c.langchain_cases, c.llama_index_cases):
            try:
                cases += factory(base_url, args.deltas, pieces)
            except ImportError as exc:
                print(f"skipped {factory.__name__}: {exc}", file=sys.stderr)
        cases += c.anthropic_cases(base_url, args.deltas)
        results["per_call"] = time_cases(cases, args.rounds, args.calls)
        small = _streamers(base_url, args.small)
        big = _streamers(base_url, args.big)
        per_small = per_delta(small, args.small, args.delta_rounds)
        per_big = per_delta(big, args.big, args.delta_rounds)
        results["per_delta"] = {name: {"small": per_small[name], "big": per_big[name]} for name in small}
        results["memory"] = peak_memories(big, args.memory_rounds)
        results["concurrency"] = {
            "raw httpx": asyncio.run(c.concurrent_throughput(base_url, args.concurrency, args.pool, False)),
        }
        with contextlib.suppress(ImportError):
            results["concurrency"]["ChatModelsLab.ainvoke"] = asyncio.run(
                c.concurrent_throughput(base_url, args.concurrency, args.pool, True)
            )
    results["imports"] = import_times(args.import_rounds)
    results["server"] = server_start_stop(args.import_rounds * 2)
    results["checks"] = evaluate(results)
    if args.queue_rows:
        results["queue"] = queue.run(
            args.queue_limits, args.queue_prompts, args.queue_latency_ms, args.queue_rows
        )
        results["checks"] += queue.checks(results["queue"])
    return results


def _cpus() -> int:
    import os

    return os.cpu_count() or 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--calls", type=int, default=30, help="calls per case per round")
    parser.add_argument("--deltas", type=int, default=200, help="deltas per streamed reply")
    parser.add_argument("--small", type=int, default=1000)
    parser.add_argument("--big", type=int, default=20000)
    parser.add_argument("--concurrency", type=int, default=256)
    parser.add_argument("--pool", type=int, default=64, help="connection pool size for the concurrency test")
    parser.add_argument("--import-rounds", type=int, default=5)
    parser.add_argument("--memory-rounds", type=int, default=5, help="streams per path for peak memory")
    parser.add_argument("--delta-rounds", type=int, default=5, help="streams per path for the cost per delta")
    parser.add_argument("--queue-limits", type=int, nargs="+", default=[5, 10], help="queue limits N")
    parser.add_argument("--queue-prompts", type=int, default=200)
    parser.add_argument("--queue-latency-ms", type=int, default=200)
    parser.add_argument(
        "--queue-rows", nargs="*", choices=queue.ROWS, default=list(queue.ROWS), help="none: skip them"
    )
    parser.add_argument("--out", default=str(HERE / "results" / "latest.json"))
    parser.add_argument("--chart", default=str(HERE / "chart.png"), help="PNG to draw ('' for none)")
    parser.add_argument(
        "--quick", action="store_true", help="tiny sizes: checks the harness runs, measures nothing"
    )
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args(argv)
    if args.quick:
        args.rounds, args.calls, args.deltas, args.small, args.big = 1, 2, 5, 10, 20
        args.concurrency, args.pool, args.import_rounds, args.memory_rounds = 8, 4, 1, 1
        args.delta_rounds = 1
        args.queue_limits, args.queue_prompts, args.queue_latency_ms = [5], 20, 20
        args.queue_rows = ["langchain"]
    results = run(args)
    print(render(results))
    if results.get("queue"):
        print("\n" + queue.render(results["queue"]))
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2))
    if args.chart:
        write_chart(results, Path(args.chart))
        if results.get("queue"):
            queue.write_chart(results["queue"], Path(args.chart).with_name("queue.png"))
    missed = [check for check in results["checks"] if check["ok"] is False]
    return 1 if args.strict and missed else 0


if __name__ == "__main__":
    sys.exit(main())
