"""One worker process of the multi-process tests: `python -m tests.redis.worker BASE_URL PROMPTS`.

It reads MODELSLAB_LIMITER_URL (and its prefix from MODELSLAB_TEST_PREFIX) like any worker would, sends
PROMPTS requests eight at a time through one `Client`, and prints how many were answered.
"""

from __future__ import annotations

import os
import sys
from concurrent.futures import ThreadPoolExecutor

from modelslab_core import Client, RedisLimiter

CALL = {"model": "m", "max_tokens": 8, "messages": [{"role": "user", "content": "hi"}]}


def main() -> None:
    base_url, prompts = sys.argv[1], int(sys.argv[2])
    limiter = RedisLimiter(
        os.environ["MODELSLAB_LIMITER_URL"],
        prefix=os.environ["MODELSLAB_TEST_PREFIX"],
        lease_ttl=float(os.environ.get("MODELSLAB_TEST_TTL", "30")),
    )
    client = Client(api_key="test-key", base_url=base_url, max_retries=0, limiter=limiter)
    print("started", flush=True)
    with ThreadPoolExecutor(8) as pool:
        answered = sum(
            1 for message in pool.map(lambda _: client.create(**CALL), range(prompts)) if message.text
        )
    print(f"answered {answered}", flush=True)


if __name__ == "__main__":
    main()
