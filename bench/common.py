"""Shared pieces of the benchmark and soak scripts: processes, HTTP on loopback, the OAuth
sign-in through the mock provider, the machine description. Standard library only."""

import http.client
import json
import os
import secrets
import platform
import signal
import socket
import subprocess
import sys
import time
import urllib.parse


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(predicate, what, timeout=60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if predicate():
                return
        except OSError:
            pass
        time.sleep(0.05)
    raise SystemExit(f"bench: {what} not ready after {timeout:.0f} s")


def request(port, method, path, body=None, headers=None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    hdrs = dict(headers or {})
    data = None
    if body is not None:
        data = json.dumps(body).encode() if not isinstance(body, (bytes, str)) else body
        hdrs.setdefault("content-type", "application/json")
    conn.request(method, path, body=data, headers=hdrs)
    resp = conn.getresponse()
    payload = resp.read()
    conn.close()
    return resp.status, resp.getheaders(), payload


def header(headers, name):
    return [v for k, v in headers if k.lower() == name]


def oauth_session_cookie(server_port, mock_base, email="oauth-bench@example.com"):
    """Signs in through the mock Google provider exactly as a browser does; returns the
    `Cookie` header value of the signed-in session."""
    status, hdrs, _ = request(server_port, "GET", "/api/auth/google")
    assert status == 302, status
    pre_cookie = header(hdrs, "set-cookie")[0].split(";")[0]
    authorize = urllib.parse.urlsplit(header(hdrs, "location")[0])
    assert authorize.geturl().startswith(mock_base), authorize.geturl()
    form = authorize.query + "&" + urllib.parse.urlencode(
        {"email": email, "name": "Bench", "email_verified": "on",
         "action": "allow"})
    conn = http.client.HTTPConnection(authorize.hostname, authorize.port, timeout=30)
    conn.request("POST", authorize.path, body=form,
                 headers={"content-type": "application/x-www-form-urlencoded"})
    resp = conn.getresponse()
    resp.read()
    assert resp.status in (302, 303), resp.status
    callback = urllib.parse.urlsplit(resp.getheader("location"))
    conn.close()
    status, hdrs, _ = request(server_port, "GET", callback.path + "?" + callback.query,
                              headers={"cookie": pre_cookie})
    assert status == 302, status
    cookies = [c.split(";")[0] for c in header(hdrs, "set-cookie") if "Max-Age=0" not in c]
    assert cookies, hdrs
    cookie = cookies[-1]
    status, _, body = request(server_port, "GET", "/api/auth/me", headers={"cookie": cookie})
    assert status == 200, (status, body)
    return cookie


class Stack:
    def __init__(self, tmp):
        self.tmp = tmp
        self.procs = []

    def spawn(self, name, argv, env=None):
        log = open(os.path.join(self.tmp, f"{name}.log"), "w")
        proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, env=env)
        self.procs.append((name, proc))
        return proc

    def stop(self):
        for _name, proc in reversed(self.procs):
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for name, proc in reversed(self.procs):
            try:
                proc.wait(timeout=40)
            except subprocess.TimeoutExpired:
                print(f"bench: {name} ignored SIGTERM; killing it", file=sys.stderr)
                proc.kill()
                proc.wait(timeout=10)


def start_altrion(stack, server_bin, mongo_bin, mock_bin, db_name):
    """Starts mongo-embedded (persisting under the stack's folder), the mock OAuth provider and
    altrion-server on free loopback ports, the server pointed at both (test profile, errors-only
    logs, the per-IP limiter raised so floods measure the work, not the 429s). Returns once the
    server is ready: a dict of `port`, `db_port`, `db_uri`, `mock` (base URL) and the
    `mongo` / `server` processes."""
    db_port, mock_port, port = free_port(), free_port(), free_port()
    os.makedirs(os.path.join(stack.tmp, "db"))
    mongo = stack.spawn("mongo-embedded", [mongo_bin, "--port", str(db_port), "--dbpath",
                                           os.path.join(stack.tmp, "db")])
    wait_for(lambda: socket.create_connection(("127.0.0.1", db_port), 1).close() is None,
             "mongo-embedded")
    stack.spawn("mock-oauth", [mock_bin, "--port", str(mock_port)])
    wait_for(lambda: socket.create_connection(("127.0.0.1", mock_port), 1).close() is None,
             "mock-oauth")
    mock = f"http://127.0.0.1:{mock_port}"
    db_uri = f"mongodb://127.0.0.1:{db_port}/?directConnection=true"
    env = dict(os.environ)
    env.update({
        "APP_ENV": "test",
        # Fresh per run: no secret lives in the repository.
        "JWT_SECRET": secrets.token_urlsafe(48),
        "SESSION_SECRET": secrets.token_urlsafe(48),
        "PORT": str(port),
        "PUBLIC_URL": f"http://127.0.0.1:{port}",
        "FRONTEND_URL": f"http://127.0.0.1:{port}",
        "MONGODB_URI": db_uri,
        "MONGODB_DB": db_name,
        "APP__LOG__LEVEL": "error",
        "APP__RATE_LIMIT__PER_IP_PER_MINUTE": "60000",
        "APP__RATE_LIMIT__PER_IP_BURST": "100000",
        "GOOGLE_CLIENT_ID": "mock-google-client-id",
        "GOOGLE_CLIENT_SECRET": "mock-google-client-secret",
        "GOOGLE_AUTH_URL": f"{mock}/google/o/oauth2/v2/auth",
        "GOOGLE_TOKEN_URL": f"{mock}/google/token",
        "GOOGLE_USERINFO_URL": f"{mock}/google/userinfo",
    })
    server = stack.spawn("altrion-server", [server_bin], env=env)
    wait_for(lambda: request(port, "GET", "/api/ready")[0] == 200, "altrion-server /api/ready")
    return {"port": port, "db_port": db_port, "db_uri": db_uri, "mock": mock,
            "mongo": mongo, "server": server}


def machine():
    model = "unknown"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as f:
        mem_kib = int(f.readline().split()[1])
    rustc = subprocess.run(["rustc", "--version"], capture_output=True, text=True).stdout.strip()
    try:
        wrk = subprocess.run(["wrk", "--version"], capture_output=True, text=True)
    except OSError:
        wrk = subprocess.CompletedProcess([], 0, "", "")
    return {
        "nproc": os.cpu_count(),
        "cpu": model,
        "ram_gib": round(mem_kib / 1024 / 1024, 1),
        "kernel": platform.release(),
        "rustc": rustc,
        "wrk": (wrk.stdout + wrk.stderr).splitlines()[0] if (wrk.stdout + wrk.stderr) else "",
        "load_before": os.getloadavg(),
    }


