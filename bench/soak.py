#!/usr/bin/env python3
"""Soak: 60 s of mixed traffic against a release build of altrion-server on mongo-embedded
(its own process, persisted to a temporary folder), with the mock OAuth provider.

Workers loop over: sign up, log in, /me with the JWT, an OAuth sign-in through the mock Google
provider, /me with the session cookie, and a logout for about half of those sessions (the
rest stay signed in). Checks at the end:

- zero 5xx (and no connection errors);
- no lost users or sessions: every account created logs in / answers /me, every session kept
  answers /me, every logged-out cookie answers 401;
- `altrion db check --json` on the same database counts exactly the users (by provider) and
  active sessions the traffic created.

Started by bench/soak.sh. SOAK_SECS (60) and SOAK_WORKERS (4) change the shape.
"""

import collections
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import (  # noqa: E402
    Stack, machine, oauth_session_cookie, request, start_altrion,
)

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TARGET = os.environ.get("CARGO_TARGET_DIR", os.path.join(REPO, "target"))
BIN = os.path.join(TARGET, "release")
SECS = int(os.environ.get("SOAK_SECS", "60"))
WORKERS = int(os.environ.get("SOAK_WORKERS", "4"))
DB_NAME = "altrion_soak"


class Ledger:
    """What the traffic created, and every status seen."""

    def __init__(self):
        self.lock = threading.Lock()
        self.statuses = collections.Counter()
        self.errors = []
        self.local_users = {}      # email -> password
        self.oauth_users = set()   # emails signed in through the mock provider
        self.live_cookies = []     # sessions kept
        self.dead_cookies = []     # sessions logged out

    def saw(self, what, status, body=b""):
        with self.lock:
            self.statuses[(what, status)] += 1
            if status >= 500:
                self.errors.append(f"{what}: {status} {body[:200]!r}")


def worker(n, port, mock, deadline, ledger):
    i = 0
    while time.monotonic() < deadline and i < 100_000:
        i += 1
        email = f"soak-{n}-{i}@example.com"
        password = f"passphrase {n} {i} soak"
        try:
            status, _, body = request(port, "POST", "/api/auth/signup",
                                      {"name": f"Soak {n} {i}", "email": email,
                                       "password": password})
            ledger.saw("signup", status, body)
            if status != 201:
                ledger.errors.append(f"signup {email}: {status} {body[:200]!r}")
                continue
            with ledger.lock:
                ledger.local_users[email] = password
            status, _, body = request(port, "POST", "/api/auth/login",
                                      {"email": email, "password": password})
            ledger.saw("login", status, body)
            token = json.loads(body)["token"] if status == 200 else None
            if token:
                status, _, body = request(port, "GET", "/api/auth/me",
                                          headers={"authorization": f"Bearer {token}"})
                ledger.saw("me (jwt)", status, body)
            # An OAuth browser: sign in through the mock provider, use the session.
            oauth_email = f"soak-oauth-{n}-{i}@example.com"
            cookie = oauth_session_cookie(port, mock, oauth_email)
            ledger.saw("oauth sign-in", 200)
            with ledger.lock:
                ledger.oauth_users.add(oauth_email)
            for _ in range(3):
                status, _, body = request(port, "GET", "/api/auth/me",
                                          headers={"cookie": cookie})
                ledger.saw("me (session)", status, body)
            if i % 2 == 0:
                status, _, body = request(port, "POST", "/api/auth/logout",
                                          headers={"cookie": cookie})
                ledger.saw("logout", status, body)
                with ledger.lock:
                    (ledger.dead_cookies if status == 204 else ledger.live_cookies).append(cookie)
            else:
                with ledger.lock:
                    ledger.live_cookies.append(cookie)
        except (OSError, AssertionError, ValueError, KeyError) as err:
            with ledger.lock:
                ledger.errors.append(f"worker {n} step {i}: {type(err).__name__}: {err}")


def main():
    server_bin = os.path.join(BIN, "altrion-server")
    mongo_bin = os.path.join(BIN, "mongo-embedded")
    mock_bin = os.path.join(BIN, "mock-oauth")
    cli_bin = os.path.join(BIN, "altrion")
    for b in (server_bin, mongo_bin, mock_bin, cli_bin):
        if not os.access(b, os.X_OK):
            raise SystemExit(f"soak: {b} missing; run bench/soak.sh (it builds them)")
    info = machine()
    tmp = tempfile.mkdtemp(prefix="altrion-soak-")
    stack = Stack(tmp)
    ledger = Ledger()
    failures = []
    try:
        started = start_altrion(stack, server_bin, mongo_bin, mock_bin, DB_NAME)
        port, uri, mock = started["port"], started["db_uri"], started["mock"]
        server = started["server"]

        started = time.monotonic()
        deadline = started + SECS
        threads = [threading.Thread(target=worker, args=(n, port, mock, deadline, ledger))
                   for n in range(WORKERS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=SECS + 120)
        elapsed = time.monotonic() - started
        with open(f"/proc/{server.pid}/status") as f:
            rss = next(int(line.split()[1]) for line in f if line.startswith("VmHWM:"))

        # Nothing lost: every account and every kept session still works.
        for email, password in list(ledger.local_users.items())[:: max(1, len(ledger.local_users) // 200)]:
            status, _, _ = request(port, "POST", "/api/auth/login",
                                   {"email": email, "password": password})
            if status != 200:
                failures.append(f"lost user {email}: login {status}")
        for cookie in ledger.live_cookies:
            status, _, _ = request(port, "GET", "/api/auth/me", headers={"cookie": cookie})
            if status != 200:
                failures.append(f"lost session: /me {status}")
        for cookie in ledger.dead_cookies:
            status, _, _ = request(port, "GET", "/api/auth/me", headers={"cookie": cookie})
            if status != 401:
                failures.append(f"logged-out session answered {status}")

        # The operator's view agrees with the ledger.
        cli_env = dict(os.environ)
        cli_env.update({"APP_ENV": "test", "MONGODB_URI": uri, "MONGODB_DB": DB_NAME})
        check = subprocess.run([cli_bin, "db", "check", "--json"], capture_output=True,
                               text=True, env=cli_env, timeout=60)
        if check.returncode != 0:
            failures.append(f"altrion db check failed: {check.stderr}")
            report = {}
        else:
            report = json.loads(check.stdout)
        by_provider = report.get("users_by_provider", {})
        expected = {"local": len(ledger.local_users), "google": len(ledger.oauth_users)}
        for provider, count in expected.items():
            if by_provider.get(provider, 0) != count:
                failures.append(f"db check: {by_provider.get(provider, 0)} {provider} users, "
                                f"traffic created {count}")
        active = report.get("sessions", {}).get("active")
        if active != len(ledger.live_cookies):
            failures.append(f"db check: {active} active sessions, traffic kept "
                            f"{len(ledger.live_cookies)}")
        if report.get("unexpected_collections"):
            failures.append(f"unexpected collections {report['unexpected_collections']}")
    finally:
        stack.stop()
        shutil.rmtree(tmp, ignore_errors=True)

    five_xx = sum(c for (_, s), c in ledger.statuses.items() if s >= 500)
    total = sum(ledger.statuses.values())
    summary = {
        "machine": info,
        "seconds": round(elapsed, 1),
        "workers": WORKERS,
        "requests": total,
        "requests_per_s": round(total / elapsed, 1),
        "statuses": {f"{w} {s}": c for (w, s), c in sorted(ledger.statuses.items())},
        "five_xx": five_xx,
        "users_local": len(ledger.local_users),
        "users_google": len(ledger.oauth_users),
        "sessions_kept": len(ledger.live_cookies),
        "sessions_logged_out": len(ledger.dead_cookies),
        "db_check_users_by_provider": by_provider,
        "db_check_sessions": report.get("sessions"),
        "server_peak_rss_mib": round(rss / 1024, 1),
        "errors": ledger.errors[:20],
        "failures": failures[:20],
    }
    print(json.dumps(summary, indent=2))
    out = os.environ.get("BENCH_OUT", os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                   "results"))
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "soak.json"), "w") as f:
        json.dump(summary, f, indent=2)
    if five_xx or ledger.errors or failures:
        print("soak: FAILED", file=sys.stderr)
        return 1
    print("soak: passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
