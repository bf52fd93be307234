#!/usr/bin/env python3
# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Where the addon's reads run with a streaming replica, from pg_stat_statements.

Needs Odoo started by ``scripts/run --replica`` (the embedded cluster, its
replica and Odoo with ``--db_replica_host``). Resets pg_stat_statements on
both servers, makes the web client's calls (Overview figures, customer 360
figures, the analyses' grouped reads, the read-only links) and one write, then
counts the statements each server ran: reads of the addon's tables on each,
and writes (INSERT/UPDATE/DELETE) on each, the replica's being 0 as it is a hot
standby. Writes bench/results/replica.json.

    bench/replica.py [--url http://localhost:8069] [--rounds 20]
"""

import argparse
import json
import os
import sys
import time
import urllib.request
from http.cookiejar import CookieJar

import psycopg2

FIGURES_360 = (
    "ecrm_lifetime_sales",
    "ecrm_sale_count",
    "ecrm_open_order_count",
    "ecrm_pending_delivery_count",
    "ecrm_unpaid_amount",
    "ecrm_unpaid_invoice_count",
    "ecrm_interaction_count",
    "ecrm_last_interaction_date",
)
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WRITE = r"^\s*(INSERT|UPDATE|DELETE)\M"
ADDON_READ = r"^\s*SELECT\M.*\m(ecrm_\w+|sale_order|account_move|stock_picking|mailing_trace)\M"


def server(run_dir):
    with open(os.path.join(os.path.dirname(run_dir), "data", "postmaster.pid")) as pid:
        port = pid.read().splitlines()[3]
    return {"host": run_dir, "port": int(port), "user": "odoo"}


class Client:
    def __init__(self, url, db):
        self.url, self.db = url, db
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))

    def post(self, path, params):
        body = json.dumps({"jsonrpc": "2.0", "method": "call", "params": params}).encode()
        request = urllib.request.Request(self.url + path, body, {"Content-Type": "application/json"})
        with self.opener.open(request, timeout=120) as response:
            answer = json.loads(response.read())
        if "error" in answer:
            raise RuntimeError(json.dumps(answer["error"])[:500])
        return answer["result"]

    def call(self, model, method, args, kwargs=None, route="call_kw"):
        return self.post(
            f"/web/dataset/{route}", {"model": model, "method": method, "args": args, "kwargs": kwargs or {}}
        )


def statements(conn, db):
    with conn.cursor() as cr:
        cr.execute(
            """
            SELECT coalesce(sum(calls) FILTER (WHERE query ~* %(write)s), 0),
                   coalesce(sum(calls) FILTER (WHERE query ~* %(read)s), 0),
                   coalesce(sum(calls), 0)
              FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid
             WHERE d.datname = %(db)s
            """,
            {"write": WRITE, "read": ADDON_READ, "db": db},
        )
        writes, addon_reads, total = cr.fetchone()
    return {"writes": int(writes), "addon_reads": int(addon_reads), "statements": int(total)}


def read_calls(client, partners, tiles, rounds):
    """The web client's reads, ``rounds`` times: (calls, seconds)."""
    fields_360 = {name: {} for name in FIGURES_360}
    calls = 0
    started = time.monotonic()
    for _round in range(rounds):
        client.call("ecrm.dashboard", "web_search_read", [[]], {"specification": {"kanban_dashboard": {}, "name": {}}})
        client.call("res.partner", "web_read", [partners], {"specification": fields_360})
        client.call("ecrm.case.report", "web_read_group", [[], ["case_count:sum"], ["stage_id"]])
        client.call("ecrm.rfm.score", "web_read_group", [[], ["__count"], ["segment_id"]])
        client.call("ecrm.dashboard", "action_open_cases", [tiles[:1]], route="call_button")
        client.call("res.partner", "action_ecrm_orders", [partners[:1]], route="call_button")
        calls += 6
    elapsed = time.monotonic() - started
    return calls, elapsed


def wait_replay(primary, replica):
    """Wait until the replica has replayed the primary's WAL: (replayed, seconds)."""
    with primary.cursor() as cr:
        cr.execute("SELECT pg_current_wal_lsn()::text")
        lsn = cr.fetchone()[0]
    waited = time.monotonic()
    with replica.cursor() as cr:
        for _ in range(300):
            cr.execute("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", [lsn])
            replayed = cr.fetchone()[0]
            if replayed:
                break
            time.sleep(0.1)
    replay_seconds = round(time.monotonic() - waited, 2)
    return replayed, replay_seconds


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default=f"http://localhost:{os.environ.get('ECRM_HTTP_PORT', '8069')}")
    parser.add_argument("--db", default=os.environ.get("ECRM_DB", "ecrm_demo"))
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--login", default="admin")
    parser.add_argument("--password", default="admin")
    parser.add_argument("--output", default=os.path.join(REPO, "bench", "results", "replica.json"))
    args = parser.parse_args()

    local = os.path.join(REPO, ".local")
    primary = psycopg2.connect(dbname=args.db, **server(os.path.join(local, "pg", "run")))
    replica = psycopg2.connect(dbname=args.db, **server(os.path.join(local, "pg-replica", "run")))
    primary.autocommit = replica.autocommit = True
    with replica.cursor() as cr:
        cr.execute("SELECT pg_is_in_recovery()")
        if not cr.fetchone()[0]:
            sys.exit("the second server is not a standby: start Odoo with scripts/run --replica")

    client = Client(args.url, args.db)
    client.post("/web/session/authenticate", {"db": args.db, "login": args.login, "password": args.password})
    partners = client.call("res.partner", "search", [[("customer_rank", ">", 0)]], {"limit": 20})
    tiles = client.call("ecrm.dashboard", "search", [[]])
    for conn in (primary, replica):
        with conn.cursor() as cr:
            cr.execute("SELECT pg_stat_statements_reset()")

    calls, elapsed = read_calls(client, partners, tiles, args.rounds)
    # one write, through the same route: Odoo keeps it on the primary
    created = client.call("res.partner", "create", [{"name": "Replica bench write"}])
    client.call("res.partner", "unlink", [[created]])
    calls += 2
    replayed, replay_seconds = wait_replay(primary, replica)

    result = {
        "rpc_calls": calls,
        "read_rounds": args.rounds,
        "read_calls_per_second": round(args.rounds * 6 / elapsed, 1),
        "primary": statements(primary, args.db),
        "replica": statements(replica, args.db),
        "write_replayed_on_replica": bool(replayed),
        "replay_wait_seconds": replay_seconds,
        "read_calls": [
            "ecrm.dashboard.web_search_read (Overview figures)",
            "res.partner.web_read (customer 360 figures)",
            "ecrm.case.report.web_read_group (case analysis)",
            "ecrm.rfm.score.web_read_group (RFM analysis)",
            "ecrm.dashboard.action_open_cases (call_button, @api.readonly)",
            "res.partner.action_ecrm_orders (call_button, @api.readonly)",
        ],
        "write_calls": ["res.partner.create", "res.partner.unlink"],
    }
    os.makedirs(os.path.dirname(args.output), exist_ok=True)
    with open(args.output, "w") as output:
        json.dump(result, output, indent=2)
        output.write("\n")
    print(json.dumps(result, indent=2))
    if result["replica"]["writes"] or not result["replica"]["addon_reads"]:
        sys.exit(1)


if __name__ == "__main__":
    main()
