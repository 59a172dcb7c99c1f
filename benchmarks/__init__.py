"""Side-by-side benchmarks of this project against raw httpx, framework floors and ChatAnthropic.

Run with `make bench` or `python -m benchmarks`; see benchmarks/README.md.
"""
