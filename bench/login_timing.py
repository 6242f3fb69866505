#!/usr/bin/env python3
"""Unknown email vs wrong password: median and mean of N interleaved sequential logins.

Start a server with a generous per-IP limit and lockout threshold first, e.g.
  APP__RATE_LIMIT__PER_IP_PER_MINUTE=60000 APP__RATE_LIMIT__PER_IP_BURST=100000 \
  APP__RATE_LIMIT__LOCKOUT_THRESHOLD=1000000 make run
then: python3 bench/login_timing.py [BASE_URL] [N]
"""
import json
import statistics
import sys
import time
import urllib.error
import urllib.request

BASE = sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8080"
N = int(sys.argv[2]) if len(sys.argv) > 2 else 150


def post(path, body):
    request = urllib.request.Request(
        BASE + path, data=json.dumps(body).encode(), headers={"content-type": "application/json"}
    )
    started = time.perf_counter()
    try:
        urllib.request.urlopen(request).read()
    except urllib.error.HTTPError as error:
        error.read()
    return time.perf_counter() - started


post("/api/auth/signup", {"name": "Timing", "email": "timing@example.com",
                          "password": "correct horse battery"})
unknown, wrong = [], []
for i in range(N):
    unknown.append(post("/api/auth/login", {"email": f"nobody{i}@example.com",
                                            "password": "wrong guess here"}))
    wrong.append(post("/api/auth/login", {"email": "timing@example.com",
                                          "password": "wrong guess here"}))
for name, samples in (("unknown email", unknown), ("wrong password", wrong)):
    kept = sorted(samples)[10:-10]
    print(f"{name}: median {statistics.median(kept) * 1000:.2f} ms, "
          f"mean {statistics.mean(kept) * 1000:.2f} ms")
