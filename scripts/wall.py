#!/usr/bin/env python3
"""Whole-process wall time of a command: median, min and max of N runs
(docs/benchmarks.md). usage: python3 scripts/wall.py N COMMAND [ARGS...]"""
import statistics
import subprocess
import sys
import time

n, cmd = int(sys.argv[1]), sys.argv[2:]
times = []
for _ in range(n):
    start = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    times.append((time.perf_counter() - start) * 1e3)
times.sort()
print(f"median {statistics.median(times):.1f} ms  min {times[0]:.1f}  max {times[-1]:.1f}  (n={n})")
