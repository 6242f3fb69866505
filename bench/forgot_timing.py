#!/usr/bin/env python3
"""Forgot-password for an unknown email vs an account's: median and mean of N interleaved
sequential requests. The answer is sent before the lookup, so the two should not differ.

Start a server with a generous per-IP limit first, e.g.
  APP__RATE_LIMIT__PER_IP_PER_MINUTE=60000 APP__RATE_LIMIT__PER_IP_BURST=100000 make run
then: python3 bench/forgot_timing.py [BASE_URL] [N]
"""
import json
import statistics
import sys
import time
import urllib.error
import urllib.request

BASE = sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8080"
N = int(sys.argv[2]) if len(sys.argv) > 2 else 300


def post(path, body):
    request = urllib.request.Request(
        BASE + path, data=json.dumps(body).encode(), headers={"content-type": "application/json"}
    )
    started = time.perf_counter()
    try:
        status = urllib.request.urlopen(request).status
    except urllib.error.HTTPError as error:
        error.read()
        status = error.code
    return time.perf_counter() - started, status


post("/api/auth/signup", {"name": "Timing", "email": "forgot-timing@example.com",
                          "password": "correct horse battery"})
unknown, known = [], []
for i in range(N):
    elapsed, status = post("/api/auth/password/forgot", {"email": f"nobody{i}@example.com"})
    assert status == 202, status
    unknown.append(elapsed)
    elapsed, status = post("/api/auth/password/forgot", {"email": "forgot-timing@example.com"})
    assert status == 202, status
    known.append(elapsed)
for name, samples in (("unknown email", unknown), ("existing account", known)):
    kept = sorted(samples)[10:-10]
    print(f"{name}: median {statistics.median(kept) * 1000:.3f} ms, "
          f"mean {statistics.mean(kept) * 1000:.3f} ms")
