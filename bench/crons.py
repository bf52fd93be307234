#!/usr/bin/env python3
# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Two cron processes on one database: every ecrm cron runs once.

Makes every cron of ecrm_addon due, then starts two real processes (as two
Odoo servers' cron threads) that call ``ir.cron._process_jobs`` at the same
moment, and counts from ``ir_cron_progress`` (one row per run, Odoo 18) how
often each cron ran: Odoo's ``_acquire_one_job`` locks the job row with
``FOR NO KEY UPDATE SKIP LOCKED``, so the second process skips the job the
first holds. Writes bench/results/crons.json.

    bench/crons.py --addons-path ... -d DB [--db_host ... --db_port ... --db_user ...]
"""

import json
import os
import subprocess
import sys
import time

import psycopg2

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WORKER = """
import sys, time, odoo
from odoo.addons.base.models.ir_cron import ir_cron
odoo.tools.config.parse_config(sys.argv[2:])
odoo.service.server.load_server_wide_modules()
start = float(sys.argv[1])
time.sleep(max(0.0, start - time.time()))
ir_cron._process_jobs(odoo.tools.config["db_name"])
"""


def option(argv, name, default=None):
    return argv[argv.index(name) + 1] if name in argv else default


def main():
    argv = sys.argv[1:]
    db = option(argv, "-d")
    conn = psycopg2.connect(
        dbname=db,
        host=option(argv, "--db_host"),
        port=option(argv, "--db_port"),
        user=option(argv, "--db_user"),
    )
    conn.autocommit = True
    cr = conn.cursor()
    cr.execute("""
        SELECT c.id, d.name
          FROM ir_cron c JOIN ir_model_data d ON d.model = 'ir.cron' AND d.res_id = c.id
         WHERE d.module = 'ecrm_addon'
    """)
    crons = dict(cr.fetchall())
    cr.execute(
        """UPDATE ir_cron SET active = true, nextcall = now() AT TIME ZONE 'UTC' - interval '1 minute'
            WHERE id = ANY(%s)""",
        [list(crons)],
    )
    # every other cron waits: only the addon's run in this check
    cr.execute(
        "UPDATE ir_cron SET nextcall = nextcall + interval '1 day' WHERE NOT (id = ANY(%s)) AND nextcall <= now()",
        [list(crons)],
    )
    cr.execute("SELECT coalesce(max(id), 0) FROM ir_cron_progress")
    last_progress = cr.fetchone()[0]
    start = time.time() + 10
    started = time.monotonic()
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, str(start), *argv, "--logfile", f"/tmp/ecrm-cron-worker-{n}.log"]
        )
        for n in (1, 2)
    ]
    codes = [worker.wait() for worker in workers]
    elapsed = time.monotonic() - started - 10
    cr.execute(
        "SELECT cron_id, count(*) FROM ir_cron_progress WHERE id > %s AND cron_id = ANY(%s) GROUP BY cron_id",
        [last_progress, list(crons)],
    )
    runs = dict(cr.fetchall())
    cr.execute("SELECT id, active, nextcall > now() AT TIME ZONE 'UTC' FROM ir_cron WHERE id = ANY(%s)", [list(crons)])
    rescheduled = {cron_id: later for cron_id, _active, later in cr.fetchall()}
    result = {
        "processes": 2,
        "exit_codes": codes,
        "seconds": round(elapsed, 1),
        "runs_per_cron": {crons[cron_id]: runs.get(cron_id, 0) for cron_id in sorted(crons)},
        "rescheduled": {crons[cron_id]: rescheduled[cron_id] for cron_id in sorted(crons)},
    }
    result["every_cron_ran_once"] = all(count == 1 for count in result["runs_per_cron"].values())
    output = os.path.join(REPO, "bench", "results", "crons.json")
    with open(output, "w") as out:
        json.dump(result, out, indent=2)
        out.write("\n")
    print(json.dumps(result, indent=2))
    sys.exit(0 if result["every_cron_ran_once"] and not any(codes) else 1)


if __name__ == "__main__":
    main()
