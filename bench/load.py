#!/usr/bin/env python3
"""HTTP load benchmark of a release build of altrion-server on mongo-embedded.

Started by bench/http.sh (which builds the binaries). Everything runs on loopback and is
stopped at the end: mongo-embedded (its own process, so its command counters are the server's
database traffic only), the mock OAuth provider (to create a real cookie session) and the
server. Load comes from `wrk` (Debian package). Each scenario runs for a few seconds.

Per scenario: requests/s, p50/p99 latency, the server's peak RSS during the scenario (VmHWM,
reset before each scenario through /proc/PID/clear_refs) and database commands per request
(serverStatus metrics.commands before and after). Writes results JSON, an SVG chart and a
Markdown table, then checks the targets and exits 1 if one is missed (so `make bench` fails
loudly), unless BENCH_NO_FAIL=1.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mongo_wire  # noqa: E402
from common import (  # noqa: E402
    Stack, machine, oauth_session_cookie, request, start_altrion,
)

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TARGET = os.environ.get("CARGO_TARGET_DIR", os.path.join(REPO, "target"))
BIN = os.path.join(TARGET, "release")
OUT = os.environ.get("BENCH_OUT", os.path.join(HERE, "results"))
DURATION = int(os.environ.get("BENCH_SECS", "5"))
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "16"))
THREADS = int(os.environ.get("BENCH_THREADS", "1"))
DB_NAME = "altrion_bench"
# Commands the driver sends for itself (handshake, monitoring, sessions), and our own probes.
HOUSEKEEPING = {
    "hello", "isMaster", "ismaster", "ping", "serverStatus", "endSessions", "buildInfo",
    "killSessions", "refreshSessions", "startSession", "getParameter",
}
WRITES = {"insert", "update", "delete", "findAndModify"}


def wrk_script(path, method="GET", body=None, headers=None):
    lines = [f'wrk.method = "{method}"']
    if body is not None:
        lines.append("wrk.body = " + json.dumps(body))
    for k, v in (headers or {}).items():
        lines.append(f'wrk.headers["{k}"] = {json.dumps(v)}')
    lines.append("""
done = function(summary, latency, requests)
  io.write(string.format(
    'WRKJSON {"requests":%d,"duration_us":%d,"non2xx":%d,"connect":%d,"read":%d,"write":%d,"timeout":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d,"mean_us":%.1f}\\n',
    summary.requests, summary.duration, summary.errors.status, summary.errors.connect,
    summary.errors.read, summary.errors.write, summary.errors.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
    latency.mean))
end
""")
    with open(path, "w") as f:
        f.write("\n".join(lines))


def parse_wrk(output):
    for line in output.splitlines():
        if line.startswith("WRKJSON "):
            return json.loads(line[len("WRKJSON "):])
    raise SystemExit("bench: wrk printed no summary:\n" + output)


def rss_reset(pid):
    # "5" resets the peak RSS (VmHWM) of the process to its current RSS (Linux >= 4.0).
    with open(f"/proc/{pid}/clear_refs", "w") as f:
        f.write("5")


def cpu_seconds(pid):
    """User + system CPU time of a process so far (clock ticks in /proc/PID/stat)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_peak_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def run_wrk(script, port, duration, connections, threads, path):
    argv = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}s", "--timeout", "10s",
            "-s", script, f"http://127.0.0.1:{port}{path}"]
    return subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def db_delta(before, after):
    delta = {}
    for name, total in after.items():
        d = total - before.get(name, 0)
        if d and name not in HOUSEKEEPING:
            delta[name] = d
    return delta


def svg_chart(results, path):
    """Horizontal bars of req/s and p99 per scenario on log scales (login is three orders of
    magnitude slower than the rest by design), written as SVG text."""
    import math
    rows = [r for r in results if "rps" in r]
    width, bar_h, gap, left = 1000, 24, 16, 360
    top = 64
    height = top + len(rows) * (2 * (bar_h + 4) + gap) + 30
    span = width - left - 150

    def scale(v, lo, hi):
        v = max(v, lo)
        return max(2, int(span * math.log10(v / lo) / math.log10(hi / lo)))

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'font-family="sans-serif" font-size="13">',
           '<rect width="100%" height="100%" fill="white"/>',
           '<text x="10" y="22" font-size="16" font-weight="bold">altrion-server (release) on '
           'mongo-embedded, one run of bench/http.sh</text>',
           '<rect x="10" y="36" width="12" height="12" fill="#3b7dd8"/>'
           '<text x="28" y="47">requests/s (log scale, 10 to 1,000,000)</text>',
           '<rect x="330" y="36" width="12" height="12" fill="#e07b39"/>'
           '<text x="348" y="47">p99 latency (log scale, 0.1 ms to 10 s)</text>']
    y = top
    for r in rows:
        out.append(f'<text x="10" y="{y + bar_h + 6}">{r["scenario"]}</text>')
        w = scale(r["rps"], 10, 1e6)
        out.append(f'<rect x="{left}" y="{y}" width="{w}" height="{bar_h}" fill="#3b7dd8"/>')
        out.append(f'<text x="{left + w + 6}" y="{y + 17}">{r["rps"]:,.0f} req/s</text>')
        y += bar_h + 4
        w = scale(r["p99_ms"], 0.1, 10_000)
        out.append(f'<rect x="{left}" y="{y}" width="{w}" height="{bar_h}" fill="#e07b39"/>')
        out.append(f'<text x="{left + w + 6}" y="{y + 17}">p99 {r["p99_ms"]:.2f} ms, '
                   f'peak RSS {r["rss_peak_mib"]:.0f} MiB</text>')
        y += bar_h + gap
    out.append("</svg>")
    with open(path, "w") as f:
        f.write("\n".join(out) + "\n")


def markdown(results, checks, info):
    lines = ["| scenario | req/s | p50 | p99 | non-2xx | peak RSS | CPU µs / request (server + DB) "
             "| DB commands / request |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |"]
    for r in results:
        per = ", ".join(f"{k} {v:.2f}" for k, v in sorted(r["db_per_request"].items())) or "0"
        cpu = (f'{r["server_cpu_us_per_request"]:.0f} + {r["db_cpu_us_per_request"]:.0f}'
               if "server_cpu_us_per_request" in r else "–")
        lines.append(
            f'| {r["scenario"]} | {r["rps"]:,.0f} | {r["p50_ms"]:.2f} ms | {r["p99_ms"]:.2f} ms '
            f'| {r["non2xx"]} | {r["rss_peak_mib"]:.1f} MiB | {cpu} | {per} |')
    lines.append("")
    lines.append("| target | measured | result |")
    lines.append("| --- | --- | --- |")
    for c in checks:
        lines.append(f'| {c["target"]} | {c["measured"]} | {"met" if c["ok"] else "MISSED"} |')
    lines.append("")
    lines.append(f'Machine: nproc {info["nproc"]}, {info["cpu"]}, {info["ram_gib"]} GiB RAM, '
                 f'kernel {info["kernel"]}, {info["rustc"]}, {info["wrk"]}; load average '
                 f'before the run {info["load_before"][0]:.2f}.')
    return "\n".join(lines) + "\n"


def main():
    for tool in ("wrk",):
        if not shutil.which(tool):
            raise SystemExit(f"bench: {tool} not found (apt-get install {tool})")
    server_bin = os.environ.get("BENCH_SERVER_BIN", os.path.join(BIN, "altrion-server"))
    mongo_bin = os.path.join(BIN, "mongo-embedded")
    mock_bin = os.path.join(BIN, "mock-oauth")
    for b in (server_bin, mongo_bin, mock_bin):
        if not os.access(b, os.X_OK):
            raise SystemExit(f"bench: {b} missing; run bench/http.sh (it builds them)")
    os.makedirs(OUT, exist_ok=True)
    info = machine()
    tmp = tempfile.mkdtemp(prefix="altrion-bench-")
    stack = Stack(tmp)
    try:
        started = start_altrion(stack, server_bin, mongo_bin, mock_bin, DB_NAME)
        port, db_port, mock = started["port"], started["db_port"], started["mock"]
        mongo, server = started["mongo"], started["server"]

        email, password = "bench@example.com", "correct horse battery staple"
        status, _, body = request(port, "POST", "/api/auth/signup",
                                  {"name": "Bench", "email": email, "password": password})
        assert status == 201, (status, body)
        token = json.loads(body)["token"]
        cookie = oauth_session_cookie(port, mock)

        db = mongo_wire.Client("127.0.0.1", db_port)
        scenarios = [
            ("GET /api/health", "/api/health", {}),
            ("GET /api/auth/me (JWT)", "/api/auth/me", {"headers": {
                "authorization": f"Bearer {token}"}}),
            ("GET /api/auth/me (session cookie)", "/api/auth/me", {"headers": {
                "cookie": cookie}}),
            # One connection: nothing to batch with, so each read is its own query — the
            # exact number of lookups and writes a request makes.
            ("GET /api/auth/me (JWT, 1 connection)", "/api/auth/me", {"connections": 1,
                "headers": {"authorization": f"Bearer {token}"}}),
            ("GET /api/auth/me (session cookie, 1 connection)", "/api/auth/me", {
                "connections": 1, "headers": {"cookie": cookie}}),
            ("POST /api/auth/login", "/api/auth/login", {
                "method": "POST", "body": json.dumps({"email": email, "password": password}),
                "headers": {"content-type": "application/json"}}),
        ]
        results = []
        for i, (name, path, opts) in enumerate(scenarios):
            script = os.path.join(tmp, f"s{i}.lua")
            wrk_script(script, opts.get("method", "GET"), opts.get("body"), opts.get("headers"))
            connections = opts.get("connections", CONNECTIONS)
            # Warm-up (connections, caches), not measured.
            run_wrk(script, port, 1, connections, THREADS, path).communicate()
            before = db.command_counts()
            rss_reset(server.pid)
            cpu0 = (cpu_seconds(server.pid), cpu_seconds(mongo.pid))
            out, _ = run_wrk(script, port, DURATION, connections, THREADS, path).communicate()
            cpu1 = (cpu_seconds(server.pid), cpu_seconds(mongo.pid))
            rss = rss_peak_kib(server.pid)
            after = db.command_counts()
            w = parse_wrk(out)
            delta = db_delta(before, after)
            n = max(w["requests"], 1)
            results.append({
                "scenario": name,
                "connections": connections,
                "rps": w["requests"] / (w["duration_us"] / 1e6),
                "requests": w["requests"],
                "p50_ms": w["p50_us"] / 1000, "p90_ms": w["p90_us"] / 1000,
                "p99_ms": w["p99_us"] / 1000, "max_ms": w["max_us"] / 1000,
                "non2xx": w["non2xx"],
                "socket_errors": w["connect"] + w["read"] + w["write"] + w["timeout"],
                "rss_peak_mib": rss / 1024,
                "server_cpu_us_per_request": (cpu1[0] - cpu0[0]) * 1e6 / n,
                "db_cpu_us_per_request": (cpu1[1] - cpu0[1]) * 1e6 / n,
                "db_commands": delta,
                "db_per_request": {k: v / n for k, v in delta.items()},
            })
            print(f"bench: {name}: {results[-1]['rps']:.0f} req/s, p50 "
                  f"{results[-1]['p50_ms']:.2f} ms, p99 {results[-1]['p99_ms']:.2f} ms, "
                  f"rss {rss / 1024:.1f} MiB, cpu/request server "
                  f"{results[-1]['server_cpu_us_per_request']:.0f} us db "
                  f"{results[-1]['db_cpu_us_per_request']:.0f} us, db {delta}", flush=True)

        # Health while a login flood keeps every argon2 slot busy.
        login_index = len(scenarios) - 1
        login = scenarios[login_index]
        flood_script = os.path.join(tmp, f"s{login_index}.lua")
        health_script = os.path.join(tmp, "s0.lua")
        before = db.command_counts()
        rss_reset(server.pid)
        flood = run_wrk(flood_script, port, DURATION + 2, CONNECTIONS, 1, login[1])
        time.sleep(1.0)  # let the flood saturate the hashing pool first
        out, _ = run_wrk(health_script, port, DURATION, 4, 1, "/api/health").communicate()
        flood_out, _ = flood.communicate()
        rss = rss_peak_kib(server.pid)
        after = db.command_counts()
        w, fw = parse_wrk(out), parse_wrk(flood_out)
        results.append({
            "scenario": "GET /api/health during a login flood",
            "rps": w["requests"] / (w["duration_us"] / 1e6),
            "requests": w["requests"],
            "p50_ms": w["p50_us"] / 1000, "p90_ms": w["p90_us"] / 1000,
            "p99_ms": w["p99_us"] / 1000, "max_ms": w["max_us"] / 1000,
            "non2xx": w["non2xx"] + fw["non2xx"],
            "socket_errors": w["connect"] + w["read"] + w["write"] + w["timeout"],
            "rss_peak_mib": rss / 1024,
            "flood_logins_per_s": fw["requests"] / (fw["duration_us"] / 1e6),
            "flood_p99_ms": fw["p99_us"] / 1000,
            "db_commands": db_delta(before, after),
            "db_per_request": {},
        })
        print(f"bench: health under a login flood: p99 {w['p99_us'] / 1000:.2f} ms "
              f"({fw['requests'] / (fw['duration_us'] / 1e6):.0f} logins/s alongside)",
              flush=True)
        rss_total = rss_peak_kib(server.pid)
        db.close()
    finally:
        stack.stop()
        shutil.rmtree(tmp, ignore_errors=True)

    by_name = {r["scenario"]: r for r in results}
    health = by_name["GET /api/health"]
    jwt = by_name["GET /api/auth/me (JWT)"]
    sess = by_name["GET /api/auth/me (session cookie)"]
    flood = by_name["GET /api/health during a login flood"]
    # Lookups per request, from the one-connection runs (no batching to share them).
    sess_db = by_name["GET /api/auth/me (session cookie, 1 connection)"]["db_per_request"]
    jwt_db = by_name["GET /api/auth/me (JWT, 1 connection)"]["db_per_request"]
    session_finds = sess_db.get("find", 0) - jwt_db.get("find", 0)
    session_writes = sum(v for k, v in sess_db.items() if k in WRITES)
    checks = [
        {"target": "/api/auth/me with JWT >= 50 % of /api/health req/s",
         "measured": f'{jwt["rps"] / health["rps"] * 100:.0f} %',
         "ok": jwt["rps"] >= 0.5 * health["rps"]},
        {"target": "/api/auth/me with a session cookie >= 40 % of /api/health req/s",
         "measured": f'{sess["rps"] / health["rps"] * 100:.0f} %',
         "ok": sess["rps"] >= 0.4 * health["rps"]},
        {"target": "session read inside the touch window: 1 session lookup, 0 writes",
         "measured": "one connection: {:.2f} session finds ({:.2f} finds minus the {:.2f} user "
                     "find the JWT path also makes), {:.2f} writes per request; under load "
                     "{:.2f} finds per request (reads share queries)".format(
             session_finds, sess_db.get("find", 0), jwt_db.get("find", 0), session_writes,
             sess["db_per_request"].get("find", 0)),
         "ok": abs(session_finds - 1) < 0.02 and session_writes < 0.01},
        {"target": "/api/health p99 < 10 ms during a login flood",
         "measured": f'{flood["p99_ms"]:.2f} ms', "ok": flood["p99_ms"] < 10},
        {"target": "server RSS < 64 MiB through the runs",
         "measured": f'{max(r["rss_peak_mib"] for r in results):.1f} MiB peak',
         "ok": max(r["rss_peak_mib"] for r in results) < 64},
        {"target": "no 5xx / errors",
         "measured": f'{sum(r["non2xx"] for r in results)} non-2xx, '
                     f'{sum(r["socket_errors"] for r in results)} socket errors',
         "ok": sum(r["non2xx"] for r in results) == 0},
    ]
    info["rss_vmhwm_total_mib"] = rss_total / 1024
    info["duration_s"] = DURATION
    info["connections"] = CONNECTIONS
    info["wrk_threads"] = THREADS
    with open(os.path.join(OUT, "http.json"), "w") as f:
        json.dump({"machine": info, "results": results, "checks": checks}, f, indent=2)
    svg_chart(results, os.path.join(OUT, "http.svg"))
    table = markdown(results, checks, info)
    with open(os.path.join(OUT, "http.md"), "w") as f:
        f.write(table)
    print(table)
    missed = [c for c in checks if not c["ok"]]
    if missed and os.environ.get("BENCH_NO_FAIL") != "1":
        print(f"bench: {len(missed)} target(s) missed", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
