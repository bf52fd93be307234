#!/usr/bin/env python3
# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Load section of the benchmark: ``POST /ecrm/api/v1/cases`` under concurrent clients.

Starts Odoo with ``--workers`` worker processes (default 2, ``--proxy-mode``)
on a scratch database, listening on loopback only, and nginx in front of it as
Odoo's deployment guide sets it up (installed from Debian when missing, its own
configuration in a temporary directory, run as a child of this script); sends
the cases of ``--clients`` (default 50) concurrent API clients through nginx
for ``--seconds`` (default 60; every request also has its own timeout, so the
run is bounded), stops both and reports requests/s, latency percentiles
(p50/p95/p99), errors by kind, whether the cases created in the database are
exactly those acknowledged (201) to the clients, and the queries and time per
created case from Odoo's request log.

Standalone:

    bench/load.py --db NAME [--clients 50] [--seconds 60] [--workers 2] [--port 8181]
                  [--proxy-port PORT] [--no-proxy]
                  [--output bench/results/load.json] [-- extra Odoo options, e.g. --db_host ...]

The database must have ecrm_addon installed (see bench/README.md); PostgreSQL
is reached as Odoo reaches it (``PG*`` variables or the extra options). The
run adds an API user ``ecrm_load_api`` (e-CRM / User), 500 customers, a sender
address for the company when it has none, and the cases it sends (subjects
``[load <run>] ...``, deleted after counting). As a section of bench/run.py:
``run(env, options)`` returns a dict, ``table_rows(result)`` the printed lines.

Only the Python standard library is used for the clients (``http.client`` in
threads, one connection per request as independent clients would).
"""

import argparse
import contextlib
import datetime
import http.client
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
API_PATH = "/ecrm/api/v1/cases"
API_LOGIN = "ecrm_load_api"
CUSTOMERS = 500
# The clients share one API key: the API's rate limit per user and minute
# (system parameter, 120 by default) is raised out of the way for the run, and
# still counted, so its cost is measured.
RATE_LIMIT_PARAM = "ecrm_addon.api_rate_limit"
RATE_LIMIT_DURING_RUN = 1_000_000
DEFAULTS = {
    "clients": 50,
    "seconds": 60,
    "workers": 2,
    "port": 8181,
    "request_timeout": 30.0,
    "startup_timeout": 180.0,
    "proxy": True,
    "proxy_port": None,  # port + 2
}
# The reverse proxy: nginx from Debian (package nginx-light, installed when missing
# as scripts/ install their Debian packages), configured as Odoo's deployment guide
# says, run as a child of this script with a configuration of its own.
NGINX_PACKAGE = "nginx-light"
NGINX_CONF = """\
# Written by bench/load.py for one run; Odoo's deployment guide's settings.
daemon off;
master_process on;
worker_processes 1;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{
    worker_connections 4096;
}}
http {{
    access_log {dir}/access.log;
    client_body_temp_path {dir}/client_body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    default_type application/octet-stream;

    # No keep-alive to Odoo (the guide has none): a prefork worker would wait on the idle
    # connection for its next request (2 s) instead of serving others.
    upstream odoo {{
        server 127.0.0.1:{odoo_port};
    }}
    upstream odoochat {{
        server 127.0.0.1:{gevent_port};
    }}
    map $http_upgrade $connection_upgrade {{
        default upgrade;
        ''      close;
    }}

    server {{
        # a deep accept queue: the clients wait here, not in Odoo's (8 per worker)
        listen 127.0.0.1:{proxy_port} backlog={backlog};
        server_name localhost;

        proxy_read_timeout 720s;
        proxy_connect_timeout 720s;
        proxy_send_timeout 720s;
        proxy_buffering on;
        proxy_buffers 16 64k;
        proxy_buffer_size 128k;
        client_max_body_size 64m;

        location /websocket {{
            proxy_pass http://odoochat;
            proxy_http_version 1.1;
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection $connection_upgrade;
            proxy_set_header X-Forwarded-Host $http_host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_set_header X-Real-IP $remote_addr;
        }}

        location / {{
            proxy_pass http://odoo;
            proxy_set_header X-Forwarded-Host $http_host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_set_header X-Real-IP $remote_addr;
            proxy_redirect off;
        }}

        gzip on;
        gzip_types text/css text/plain text/xml application/xml application/javascript application/json;
    }}
}}
"""


def _option(options, name):
    value = getattr(options, name, None)
    return DEFAULTS[name] if value is None else value


# --- preparation (in the benchmark's own cursor) ------------------------------------


def prepare(env):
    """The API user, its API key and the customers the clients write about.
    Returns (api key, [customer emails]). Committed, so the server sees them."""
    from odoo import fields

    Users = env["res.users"].with_context(no_reset_password=True)
    user = Users.search([("login", "=", API_LOGIN)], limit=1)
    if not user:
        user = Users.create(
            {
                "name": "e-CRM load test API",
                "login": API_LOGIN,
                "email": "ecrm.load.api@example.com",
                "groups_id": [(6, 0, [env.ref("ecrm_addon.group_ecrm_user").id])],
            }
        )
    emails = [f"load.customer.{n}@example.com" for n in range(CUSTOMERS)]
    Partner = env["res.partner"]
    existing = set(Partner.search([("email", "in", emails)]).mapped("email"))
    Partner.create(
        [{"name": f"Load customer {email.split('.')[2]}", "email": email} for email in emails if email not in existing]
    )
    # a shop has a sender address: without one the acknowledgement is skipped (and not measured)
    company = env.user.company_id
    if not company.email:
        company.email = "shop@example.com"
    expiration = fields.Datetime.now() + datetime.timedelta(days=1)
    key = env["res.users.apikeys"].with_user(user)._generate("rpc", "ecrm load test", expiration)
    env.cr.commit()
    return key, emails


def set_rate_limit(env, value):
    """Set the API's rate limit (``None``: its default); returns the value it had. Committed."""
    params = env["ir.config_parameter"].sudo()
    previous = params.get_param(RATE_LIMIT_PARAM)
    params.set_param(RATE_LIMIT_PARAM, value)
    env.cr.commit()
    return previous


def count_cases(env, tag):
    """{case id} of the cases whose subject carries this run's tag, read in a fresh transaction."""
    with env.registry.cursor() as cr:  # a transaction of its own: what the server committed
        cr.execute("SELECT id FROM ecrm_case WHERE subject LIKE %s", [f"{tag}%"])
        return {row[0] for row in cr.fetchall()}


def delete_cases(env, tag):
    """The run's cases out of the database again (after counting them), so that
    the sections and runs that follow see the generated data only."""
    with env.registry.cursor() as cr:
        cases = env(cr=cr, su=True)["ecrm.case"].with_context(active_test=False)
        cases.search([("subject", "=like", f"{tag}%")]).unlink()


# --- the server --------------------------------------------------------------------


def _addons_path():
    import odoo

    root = Path(odoo.__file__).resolve().parent.parent
    return ",".join(str(p) for p in (root / "addons", root / "odoo" / "addons", REPO) if p.is_dir())


def _db_options():
    """The database connection options of the running Odoo config, for the server process."""
    from odoo.tools import config

    args = []
    for key, flag in (("db_host", "--db_host"), ("db_port", "--db_port"), ("db_user", "--db_user")):
        if config.get(key):
            args += [flag, str(config[key])]
    return args


def _launcher():
    """A script that runs Odoo's command line: ``odoo-bin`` of the source tree when
    there is one, else a small file of our own (prefork spawns its gevent
    process with ``sys.argv[0]``, so it must be a real file)."""
    import odoo

    odoo_bin = Path(odoo.__file__).resolve().parent.parent / "odoo-bin"
    if odoo_bin.is_file():
        return str(odoo_bin)
    launcher = Path(tempfile.gettempdir()) / "ecrm-load-odoo.py"
    launcher.write_text("import odoo.cli\nodoo.cli.main()\n", encoding="utf-8")
    return str(launcher)


def _port_free(port):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0


def _nginx():
    """The nginx binary; installs the Debian package when missing (scripts/lib.sh's ``ensure_debs``)."""
    binary = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/sbin")
    if not binary:
        subprocess.run(["bash", "-c", f'source "{REPO}/scripts/lib.sh" && ensure_debs {NGINX_PACKAGE}'], check=True)
        binary = shutil.which("nginx", path="/usr/sbin:/sbin:" + os.environ.get("PATH", ""))
    if not binary:
        raise RuntimeError(f"nginx not found after installing {NGINX_PACKAGE}")
    return binary


def _nginx_version():
    result = subprocess.run([_nginx(), "-v"], capture_output=True, text=True, check=False)
    return result.stderr.strip().rpartition("/")[2]


def nginx_dir(proxy_port):
    """The proxy's directory: its configuration, pid, logs and temporary files."""
    return Path(tempfile.gettempdir()) / f"ecrm-load-nginx-{proxy_port}"


def nginx_config(proxy_port, odoo_port, gevent_port, directory):
    """nginx.conf of the run: Odoo's guide's proxy (timeouts, buffers, forwarded
    headers, /websocket to the gevent port) and a deep backlog."""
    backlog = 4096
    with contextlib.suppress(OSError, ValueError):
        backlog = int(Path("/proc/sys/net/core/somaxconn").read_text())
    return NGINX_CONF.format(
        dir=directory, proxy_port=proxy_port, odoo_port=odoo_port, gevent_port=gevent_port, backlog=backlog
    )


def start_proxy(proxy_port, odoo_port, gevent_port, startup_timeout=30):
    """nginx in the foreground (a child of this script) on 127.0.0.1:proxy_port, with its
    configuration, pid, logs and temporary files in ``nginx_dir``; returns the
    Popen once it answers Odoo's /web/health through the proxy."""
    if not _port_free(proxy_port):
        raise RuntimeError(f"port {proxy_port} is in use on 127.0.0.1")
    binary = _nginx()
    directory = nginx_dir(proxy_port)
    shutil.rmtree(directory, ignore_errors=True)
    # readable by nginx's workers, which drop root for "nobody" when started as root
    directory.mkdir(mode=0o755)
    conf = directory / "nginx.conf"
    conf.write_text(nginx_config(proxy_port, odoo_port, gevent_port, directory), encoding="utf-8")
    command = [binary, "-p", str(directory), "-e", str(directory / "error.log"), "-c", str(conf)]
    check = subprocess.run([*command, "-t", "-q"], capture_output=True, text=True, check=False)
    if check.returncode:
        raise RuntimeError(f"nginx refused its configuration {conf}: {check.stderr.strip()}")
    process = subprocess.Popen(command, stdin=subprocess.DEVNULL, start_new_session=True)
    if _answers_health(process, "nginx", directory / "error.log", proxy_port, startup_timeout, 0.2):
        return process
    stop_server(process)
    raise RuntimeError(f"nginx did not answer on 127.0.0.1:{proxy_port} (log: {directory / 'error.log'})")


def _answers_health(process, name, log, port, timeout, interval):
    """Whether /web/health answers 200 on 127.0.0.1:port within ``timeout``
    seconds (polled every ``interval``); RuntimeError if ``process`` (``name``,
    logging to ``log``) exits first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{name} exited with {process.returncode} while starting (log: {log})")
        with contextlib.suppress(OSError, http.client.HTTPException):
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            try:
                conn.request("GET", "/web/health")
                if conn.getresponse().status == 200:
                    return True
            finally:
                conn.close()
        time.sleep(interval)
    return False


def start_server(dbname, port, workers, logfile, startup_timeout, proxy_mode=False):
    """Odoo in prefork mode on 127.0.0.1:port; returns the Popen once /web/health answers."""
    if not _port_free(port):
        raise RuntimeError(f"port {port} is in use on 127.0.0.1")
    env = dict(os.environ)
    if "PGPASSWORD" not in env:
        from odoo.tools import config

        if config.get("db_password"):
            env["PGPASSWORD"] = config["db_password"]
    command = [
        sys.executable,
        _launcher(),
        "server",
        # the one database exposed by --database alone, no --db-filter: with a filter
        # Odoo lists the databases for every request without a session (each API
        # call), on a new PostgreSQL connection each time (about 5 ms of its CPU)
        "-d",
        dbname,
        "--no-database-list",
        "--addons-path",
        _addons_path(),
        "--http-interface",
        "127.0.0.1",
        "--http-port",
        str(port),
        "--gevent-port",
        str(port + 1),
        "--workers",
        str(workers),
        "--max-cron-threads",
        "0",
        "--limit-time-real",
        "120",
        "--log-level",
        "warn",
        "--log-handler",
        "werkzeug:INFO",  # one line per request, with its query count and times
        "--logfile",
        str(logfile),
        *(["--proxy-mode"] if proxy_mode else []),
        *_db_options(),
    ]
    process = subprocess.Popen(command, env=env, stdin=subprocess.DEVNULL, start_new_session=True)
    if _answers_health(process, "Odoo", logfile, port, startup_timeout, 0.5):
        return process
    stop_server(process)
    raise RuntimeError(f"Odoo did not answer on 127.0.0.1:{port} within {startup_timeout:.0f} s (log: {logfile})")


def warm_up(port, workers):
    """Have every worker load the registry before the clock starts (a prefork
    worker loads it on its first request to the database): a few concurrent
    page requests, not counted."""

    def fetch():
        with contextlib.suppress(OSError, http.client.HTTPException):
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
            conn.request("GET", "/web/login")
            conn.getresponse().read()
            conn.close()

    threads = [threading.Thread(target=fetch, daemon=True) for _n in range(2 * workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(130)


def stop_server(process):
    """Stop the server we started (its own process group: the workers go with it)."""
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


# --- the clients -------------------------------------------------------------------


# Tries again after a connection error or timeout, or the proxy's answer that it
# lost its connection to Odoo (502/503/504: the same errors, seen through nginx),
# with the same Idempotency-Key
# Issue 20: with 2 workers and 50 clients for 60 s, >= 50 cases/s, p99 <= 2 s,
# 0 errors, and the cases created exactly those acknowledged.
TARGETS = {"created_per_s_min": 50, "p99_ms_max": 2000, "errors_max": 0}
RETRIES = 2
GATEWAY_ERRORS = (502, 503, 504)


class Client(threading.Thread):
    """One API client: posts cases back to back until the deadline."""

    def __init__(self, number, port, key, emails, tag, deadline, request_timeout, start_barrier):
        super().__init__(name=f"load-client-{number}", daemon=True)
        self.number = number
        self.port = port
        self.headers = {"Content-Type": "application/json", "Authorization": f"Bearer {key}"}
        self.emails = emails
        self.tag = tag
        self.deadline = deadline
        self.request_timeout = request_timeout
        self.start_barrier = start_barrier
        self.latencies = []  # seconds, every request answered (any status)
        self.acknowledged = []  # case ids answered with 201
        self.errors = {}  # kind -> count, requests that failed on every try
        self.retries = 0

    def _error(self, kind):
        self.errors[kind] = self.errors.get(kind, 0) + 1

    def run(self):
        self.start_barrier.wait()
        sequence = 0
        while time.monotonic() < self.deadline:
            sequence += 1
            body = json.dumps(
                {
                    "subject": f"{self.tag} client {self.number} request {sequence}",
                    "email": self.emails[(self.number * 7919 + sequence) % len(self.emails)],
                    "description": "Parcel arrived damaged",
                    "channel": "phone",
                }
            )
            # the same Idempotency-Key on a retry: a request that created its case
            # before its answer was lost gets that case back, not a second one
            headers = dict(self.headers, **{"Idempotency-Key": f"{self.tag} {self.number}-{sequence}"})
            for attempt in range(1 + RETRIES):
                if attempt:
                    self.retries += 1
                if self._attempt(body, headers, last=attempt == RETRIES):
                    break

    def _attempt(self, body, headers, last):
        """One POST; True when answered (any status), False on a connection
        error, timeout or gateway error (502/503/504 of the proxy), which is
        counted only when it is the ``last`` try."""
        started = time.perf_counter()
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.request_timeout)
        try:
            conn.request("POST", API_PATH, body=body, headers=headers)
            response = conn.getresponse()
            payload = response.read()
            self.latencies.append(time.perf_counter() - started)
            if response.status in (200, 201):  # 200: the case of an earlier try
                self.acknowledged.append(json.loads(payload)["id"])
            elif response.status in GATEWAY_ERRORS and not last:
                return False  # the proxy lost its connection to Odoo: tried again with the same key
            else:
                self._error(f"HTTP {response.status}")
            return True
        except TimeoutError:
            if last:
                self._error("timeout")
        except (OSError, http.client.HTTPException, ValueError, KeyError) as error:
            if last:
                self._error(type(error).__name__)
        finally:
            conn.close()
        return False


def percentile(sorted_values, fraction):
    """Nearest-rank percentile of an already sorted list."""
    if not sorted_values:
        return None
    rank = max(1, round(fraction * len(sorted_values) + 0.5 - 1e-9))
    return sorted_values[min(rank, len(sorted_values)) - 1]


# Odoo's request log line (werkzeug at INFO): ... "POST <path> HTTP/1.0" 201 - <queries> <SQL s> <other s>
REQUEST_LINE = re.compile(r'"POST ' + re.escape(API_PATH) + r' HTTP/1\.[01]" 201 - (\d+) ([\d.]+) ([\d.]+)')


def request_costs(logfile):
    """Per created case, from Odoo's request log: SQL queries, SQL time and the
    rest of the request's time (mean), as Odoo's server measured them."""
    rows = []
    with contextlib.suppress(OSError), open(logfile, encoding="utf-8", errors="replace") as log:
        rows = [tuple(map(float, match.groups())) for line in log if (match := REQUEST_LINE.search(line))]
    if not rows:
        return None
    return {
        "requests": len(rows),
        "queries_per_case": round(statistics.fmean(row[0] for row in rows), 1),
        "queries_max": int(max(row[0] for row in rows)),
        "sql_ms_per_case": round(1000 * statistics.fmean(row[1] for row in rows), 1),
        "other_ms_per_case": round(1000 * statistics.fmean(row[2] for row in rows), 1),
    }


# --- CPU accounting (Linux /proc) ---------------------------------------------


def _stat(text):
    """(parent pid, command name, CPU seconds in clock ticks) of one
    ``/proc/<pid>/stat`` line: its own user and system time and those of the
    children it reaped (fields 14-17 of proc(5)); the name may hold spaces
    and parentheses, so the fields are read after its last ')'."""
    name = text[text.index("(") + 1 : text.rindex(")")]
    fields = text[text.rindex(")") + 2 :].split()
    # after the name: state (3), ppid (4), ... utime (14), stime, cutime, cstime (17)
    return int(fields[1]), name, sum(map(int, fields[11:15]))


def _processes():
    """{pid: (parent pid, command name, CPU seconds)} of this machine's
    processes, CPU seconds counting the process's own time and that of its
    children it already reaped (a recycled Odoo worker, an ended PostgreSQL
    backend): summed over a process tree, each second is counted once."""
    tick = os.sysconf("SC_CLK_TCK")
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            parent, name, ticks = _stat((entry / "stat").read_text())
            found[int(entry.name)] = (parent, name, ticks / tick)
    return found


def _tree(processes, root):
    """The pids of ``root`` and its descendants."""
    children = {}
    for pid, (parent, _name, _cpu) in processes.items():
        children.setdefault(parent, []).append(pid)
    pids, todo = set(), [root]
    while todo:
        pid = todo.pop()
        if pid in processes and pid not in pids:
            pids.add(pid)
            todo += children.get(pid, [])
    return pids


def _machine_cpu():
    """(busy, total) CPU seconds of the whole machine since boot (/proc/stat)."""
    tick = os.sysconf("SC_CLK_TCK")
    values = list(map(int, Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]))
    idle = values[3] + values[4]  # idle, iowait
    return (sum(values) - idle) / tick, sum(values) / tick


def _listen_overflows():
    """Connections the machine's TCP stack dropped so far because the
    accepting socket's queue was full (/proc/net/netstat ``ListenOverflows``)."""
    names, values = [line.split() for line in Path("/proc/net/netstat").read_text().splitlines()[:2]]
    return int(dict(zip(names, values, strict=True)).get("ListenOverflows", 0))


def cpu_snapshot(server_pid, proxy_pid=None):
    """CPU seconds used so far by each part of the run: the Odoo server (its
    workers included), nginx, PostgreSQL on this machine (every ``postgres``
    process tree), the load clients (this process) and the whole machine."""
    processes = _processes()
    roots = {pid for pid, (parent, name, _cpu) in processes.items() if name == "postgres"}
    postmasters = {pid for pid in roots if processes[pid][0] not in roots}
    parts = {
        "odoo": _tree(processes, server_pid),
        "nginx": _tree(processes, proxy_pid) if proxy_pid else set(),
        "postgresql": set().union(*(_tree(processes, pid) for pid in postmasters)),
    }
    snapshot = {name: sum(processes[pid][2] for pid in pids) for name, pids in parts.items()}
    snapshot["load_clients"] = time.process_time()
    snapshot["machine_busy"], snapshot["machine_total"] = _machine_cpu()
    snapshot["listen_overflows"] = _listen_overflows()
    return snapshot


def cpu_report(before, after, cases, cpus):
    """CPU used during the run, per created case, and the throughput the
    machine's cores allow at that cost: with the load clients on the machine
    (as here), and without them (as in production, where the clients are
    elsewhere)."""
    used = {name: after[name] - before[name] for name in before}
    total = used.pop("machine_total")
    busy = used.pop("machine_busy")
    overflows = used.pop("listen_overflows")
    server = used["odoo"] + used["nginx"] + used["postgresql"]

    def per_case_ms(seconds):
        return round(1000 * seconds / cases, 1) if cases else None

    return {
        "seconds": {name: round(value, 2) for name, value in used.items()},
        "machine_busy_fraction": round(busy / total, 3) if total else None,
        # Odoo's prefork server listens with a queue of 8 connections per worker:
        # beyond it the kernel drops the proxy's connection attempts, which wait
        # for TCP's retransmission (1 s, then 3 s, 7 s...) while the workers may idle
        "listen_overflows": overflows,
        "per_case_ms": {name: per_case_ms(value) for name, value in used.items()}
        | {"server_side": per_case_ms(server), "all": per_case_ms(server + used["load_clients"])},
        "ceiling_cases_per_s": {
            "with_clients": round(cpus * cases / (server + used["load_clients"]), 1)
            if cases and server + used["load_clients"] > 0
            else None,
            "server_side_only": round(cpus * cases / server, 1) if cases and server > 0 else None,
        },
    }


def drive_clients(port, key, emails, tag, clients, seconds, request_timeout, snapshot=None):
    """Release ``clients`` clients together on 127.0.0.1:port for ``seconds``;
    returns (the client threads, seconds elapsed, (``snapshot()`` at the start,
    at the end)) (no snapshots without ``snapshot``)."""
    barrier = threading.Barrier(clients + 1)
    deadline = time.monotonic() + seconds
    threads = [Client(n, port, key, emails, tag, deadline, request_timeout, barrier) for n in range(clients)]
    for thread in threads:
        thread.start()
    cpu_before = snapshot() if snapshot else None
    barrier.wait()
    started = time.perf_counter()
    for thread in threads:
        # bounded: the last request may start just before the deadline and take request_timeout
        thread.join(timeout=max(0.0, deadline - time.monotonic()) + request_timeout + 5)
    elapsed = time.perf_counter() - started
    return threads, elapsed, (cpu_before, snapshot() if snapshot else None)


def run(env, options):
    """Runs the load test against a server started on ``env``'s database; returns the result dict."""
    clients = int(_option(options, "clients"))
    seconds = float(_option(options, "seconds"))
    workers = int(_option(options, "workers"))
    port = int(_option(options, "port"))
    proxy = bool(_option(options, "proxy"))
    proxy_port = int(_option(options, "proxy_port") or port + 2)
    request_timeout = float(_option(options, "request_timeout"))
    startup_timeout = float(_option(options, "startup_timeout"))
    dbname = env.cr.dbname
    if "ecrm.case" not in env:
        raise RuntimeError(f"ecrm_addon is not installed in {dbname}")

    key, emails = prepare(env)
    rate_limit = set_rate_limit(env, RATE_LIMIT_DURING_RUN)
    tag = f"[load {uuid.uuid4().hex[:8]}]"
    logfile = Path(tempfile.gettempdir()) / f"ecrm-load-{dbname}-{port}.log"
    process = nginx = None
    with contextlib.suppress(FileNotFoundError):
        logfile.unlink()  # Odoo appends: this run's requests only
    load_before = [round(x, 2) for x in os.getloadavg()]
    try:
        process = start_server(dbname, port, workers, logfile, startup_timeout, proxy_mode=proxy)
        if proxy:
            nginx = start_proxy(proxy_port, port, port + 1)
        target = proxy_port if proxy else port
        warm_up(target, workers)
        threads, elapsed, (cpu_before, cpu_after) = drive_clients(
            target,
            key,
            emails,
            tag,
            clients,
            seconds,
            request_timeout,
            snapshot=lambda: cpu_snapshot(process.pid, nginx.pid if nginx else None),
        )
        stuck = sum(thread.is_alive() for thread in threads)
        load_after = [round(x, 2) for x in os.getloadavg()]
    finally:
        if nginx:
            stop_server(nginx)
        if process:
            stop_server(process)
        set_rate_limit(env, rate_limit)

    latencies = sorted(value for thread in threads for value in thread.latencies)
    acknowledged = [case_id for thread in threads for case_id in thread.acknowledged]
    errors = {}
    for thread in threads:
        for kind, count in thread.errors.items():
            errors[kind] = errors.get(kind, 0) + count
    created = count_cases(env, tag)
    delete_cases(env, tag)
    requests_done = len(latencies) + sum(count for kind, count in errors.items() if not kind.startswith("HTTP"))

    def ms(value):
        return None if value is None else round(value * 1000, 1)

    result = {
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "database": dbname,
        "run_tag": tag,
        "clients": clients,
        "workers": workers,
        "seconds": seconds,
        "proxy": (
            {
                "server": "nginx " + _nginx_version(),
                "port": proxy_port,
                "config": str(nginx_dir(proxy_port) / "nginx.conf"),
                "config_text": nginx_config(proxy_port, port, port + 1, nginx_dir(proxy_port)).splitlines(),
                "odoo_proxy_mode": True,
            }
            if proxy
            else None
        ),
        "load_average": {"before": load_before, "after": load_after},
        "elapsed_s": round(elapsed, 2),
        "requests": requests_done,
        "requests_per_s": round(requests_done / elapsed, 2) if elapsed else None,
        "created_per_s": round(len(acknowledged) / elapsed, 2) if elapsed else None,
        "latency_ms": {
            "p50": ms(percentile(latencies, 0.50)),
            "p95": ms(percentile(latencies, 0.95)),
            "p99": ms(percentile(latencies, 0.99)),
            "max": ms(latencies[-1] if latencies else None),
            "mean": ms(statistics.fmean(latencies) if latencies else None),
        },
        "errors": errors,
        "error_count": sum(errors.values()),
        "retries": sum(thread.retries for thread in threads),
        "clients_stuck_after_deadline": stuck,
        "acknowledged": len(acknowledged),
        "acknowledged_distinct": len(set(acknowledged)),
        "created_in_database": len(created),
        "created_equals_acknowledged": created == set(acknowledged) and len(acknowledged) == len(set(acknowledged)),
        "created_not_acknowledged": len(created - set(acknowledged)),
        "acknowledged_not_created": len(set(acknowledged) - created),
        "server_side": request_costs(logfile),
        "cpu": cpu_report(cpu_before, cpu_after, len(acknowledged), os.cpu_count()),
        "server_log": str(logfile),
        "machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0]},
    }
    return dict(result, **targets(result))


def targets(result):
    """Issue 20's targets and their verdicts for a run's ``result``."""
    p99 = result["latency_ms"]["p99"]
    return {
        "latency_p99_ms": p99,
        "targets": TARGETS,
        "meets_targets": {
            "created_per_s": (result["created_per_s"] or 0) >= TARGETS["created_per_s_min"],
            "p99": p99 is not None and p99 <= TARGETS["p99_ms_max"],
            "errors": result["error_count"] <= TARGETS["errors_max"],
            "created_equals_acknowledged": result["created_equals_acknowledged"],
        },
    }


def cpu_rows(cpu):
    """The printed lines of ``cpu_report``'s figures."""
    if not cpu:
        return []
    per_case, ceiling = cpu["per_case_ms"], cpu["ceiling_cases_per_s"]
    busy = cpu["machine_busy_fraction"]
    return [
        (
            "API load: CPU per created case",
            f"Odoo {per_case['odoo']} ms, PostgreSQL {per_case['postgresql']} ms, nginx {per_case['nginx']} ms, "
            f"load clients {per_case['load_clients']} ms (machine busy {'n/a' if busy is None else f'{busy:.0%}'})",
        ),
        (
            "API load: connections dropped at a full accept queue",
            f"{cpu['listen_overflows']} attempts, machine-wide (Odoo's prefork queue: 8 per worker)",
        ),
        (
            "API load: cases/s the cores allow at that cost",
            f"{ceiling['with_clients']} with the clients on the machine, "
            f"{ceiling['server_side_only']} for Odoo, nginx and PostgreSQL alone",
        ),
    ]


def table_rows(result):
    """(label, value) lines for the printed table."""
    latency = result["latency_ms"]
    errors = ", ".join(f"{kind}: {count}" for kind, count in sorted(result["errors"].items())) or "none"
    return [
        (
            "API load: clients / workers / duration",
            f"{result['clients']} clients, {result['workers']} workers, {result['elapsed_s']:.0f} s",
        ),
        (
            "API load: through",
            f"{result['proxy']['server']} on port {result['proxy']['port']} (Odoo --proxy-mode)"
            if result.get("proxy")
            else "Odoo directly (no proxy)",
        ),
        ("API load: requests/s (created/s)", f"{result['requests_per_s']} ({result['created_per_s']})"),
        (
            "API load: latency p50 / p95 / p99 (max)",
            f"{latency['p50']} / {latency['p95']} / {latency['p99']} ms ({latency['max']} ms)",
        ),
        (
            "API load: errors (after retries)",
            f"{result['error_count']} ({errors}); {result.get('retries', 0)} retries with the same Idempotency-Key",
        ),
        (
            "API load: created == acknowledged",
            f"{'yes' if result['created_equals_acknowledged'] else 'NO'} "
            f"({result['created_in_database']} in the database, {result['acknowledged']} acknowledged)",
        ),
        (
            "API load: per created case (Odoo's log)",
            "queries {queries_per_case} (max {queries_max}), SQL {sql_ms_per_case} ms, "
            "rest {other_ms_per_case} ms".format(**result["server_side"])
            if result.get("server_side")
            else "not in the log",
        ),
        *cpu_rows(result.get("cpu")),
        (
            "API load: load average before / after",
            f"{result['load_average']['before']} / {result['load_average']['after']}",
        ),
    ]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", required=True, help="scratch database with ecrm_addon installed")
    parser.add_argument("--clients", type=int, default=DEFAULTS["clients"])
    parser.add_argument("--seconds", type=float, default=DEFAULTS["seconds"])
    parser.add_argument("--workers", type=int, default=DEFAULTS["workers"])
    parser.add_argument(
        "--port", type=int, default=DEFAULTS["port"], help="Odoo's HTTP port on 127.0.0.1 (and port+1 for gevent)"
    )
    parser.add_argument("--proxy-port", type=int, help="nginx's port on 127.0.0.1 (default: port+2)")
    parser.add_argument(
        "--no-proxy", dest="proxy", action="store_false", help="send the requests to Odoo directly, without nginx"
    )
    parser.add_argument("--request-timeout", type=float, default=DEFAULTS["request_timeout"])
    parser.add_argument("--startup-timeout", type=float, default=DEFAULTS["startup_timeout"])
    parser.add_argument("--output", default=str(HERE / "results" / "load.json"))
    parser.add_argument("odoo_args", nargs="*", help="extra Odoo options (--db_host ...), after --")
    args = parser.parse_args(argv)
    import odoo

    odoo.tools.config.parse_config(["--addons-path", _addons_path(), "--log-level", "warn", *args.odoo_args])
    odoo.netsvc.init_logger()
    registry = odoo.modules.registry.Registry(args.db)
    with registry.cursor() as cr:
        env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
        result = run(env, args)
    rows = table_rows(result)
    width = max(len(label) for label, _value in rows)
    for label, value in rows:
        print(f"{label:<{width}}  {value}")
    output = Path(args.output)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"written {output}")
    return 0 if result["created_equals_acknowledged"] and not result["clients_stuck_after_deadline"] else 1


if __name__ == "__main__":
    sys.exit(main())
