#!/usr/bin/env python3
# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Escalation section of the benchmark: the escalation cron over the
generator's open cases (200k at the default scale) with D of them due (1k by
default), then the same cron with none due. Its cost must follow the due cases
(partial index on ``next_escalation_at``), not the open ones. In the same run:

- the floor: the bare indexed query listing the due cases (what any cron must
  read before acting);
- the idiom: a cron that searches every open case and keeps those whose
  deadline passed, in Python (what a first implementation does); its cost
  follows the open cases whatever the number due.

As a section of bench/run.py: ``run(env, options)`` / ``table_rows(result)``.
Standalone, on a database holding the generator's customers (generates the
cases when their number differs from --open):
    bench/cases.py --db NAME [--open 200000] [--due 1000] [--repeat 3] [-- odoo options]
"""

import argparse
import statistics
import sys
import time
import tracemalloc
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

# Issue #6: "time must follow the due cases, not the open ones". Read as: the
# run with none due uses the partial index and costs under 1 % of the run with
# the due ones (which does the work), and under 1 % of the idiom's open-case scan.
# Issue 20: 1,000 due cases fired in at most 0.16x the idiom's scan of the open cases.
TARGETS = {"none_due_over_due_max": 0.01, "due_over_idiom_max": 0.16}


def _reset_due(env, due):
    """Make the first ``due`` generated cases due now, as if their response
    deadline just passed, and forget their earlier escalations."""
    import generate

    from odoo import fields

    now = fields.Datetime.now()
    cr = env.cr
    cr.execute(
        """
        DELETE FROM ecrm_case_escalation e USING ecrm_case c
         WHERE c.id = e.case_id AND c.name LIKE %s
        """,
        [generate.CASE_PREFIX + "%"],
    )
    # the cases fired before start again (their escalations are gone); those
    # past their deadlines and not among the first ``due`` are moved ahead below
    cr.execute(
        """
        UPDATE ecrm_case SET next_escalation_at = response_deadline, escalation_level = 0
         WHERE name LIKE %s AND (next_escalation_at IS NULL OR escalation_level > 0)
        """,
        [generate.CASE_PREFIX + "%"],
    )
    cr.execute(
        """
        WITH d AS (SELECT id FROM ecrm_case WHERE name LIKE %s ORDER BY id LIMIT %s)
        UPDATE ecrm_case c SET next_escalation_at = %s, response_deadline = %s,
                               resolution_deadline = %s, escalation_level = 0
          FROM d WHERE c.id = d.id
        """,
        [
            generate.CASE_PREFIX + "%",
            due,
            now - timedelta(minutes=1),
            now - timedelta(minutes=1),
            now + timedelta(hours=36),
        ],
    )
    cr.execute(
        """
        WITH d AS (SELECT id FROM ecrm_case WHERE name LIKE %s ORDER BY id OFFSET %s)
        UPDATE ecrm_case c SET next_escalation_at = %s + interval '1 day', response_deadline = %s + interval '1 day',
                               resolution_deadline = GREATEST(c.resolution_deadline, %s + interval '2 days')
          FROM d WHERE c.id = d.id AND (c.next_escalation_at <= %s OR c.resolution_deadline <= %s)
        """,
        # an hour of margin: no other case falls due while the section runs
        [generate.CASE_PREFIX + "%", due, now, now, now, now + timedelta(hours=1), now + timedelta(hours=1)],
    )
    cr.commit()
    env.invalidate_all()


def _time_cron(env, repeat, due):
    times, fired = [], 0
    for _i in range(repeat):
        if due:
            _reset_due(env, due)
        env.invalidate_all()
        t0 = time.perf_counter()
        fired = env["ecrm.case"]._cron_ecrm_escalate()
        env.cr.commit()
        times.append(time.perf_counter() - t0)
    return times, fired


def _due_scan_sql(now):
    from odoo.tools import SQL

    return SQL(
        "SELECT id FROM ecrm_case WHERE next_escalation_at <= %s ORDER BY next_escalation_at, id",
        now,
    )


def _plan(env):
    from odoo import fields

    env.cr.execute(
        "EXPLAIN SELECT id FROM ecrm_case WHERE next_escalation_at <= %s ORDER BY next_escalation_at, id LIMIT 100",
        [fields.Datetime.now()],
    )
    return [row[0] for row in env.cr.fetchall()]


def _floor(env, repeat):
    """The bare indexed query listing the due cases."""
    from odoo import fields

    times, found = [], 0
    for _i in range(repeat):
        t0 = time.perf_counter()
        env.cr.execute(_due_scan_sql(fields.Datetime.now()))
        found = len(env.cr.fetchall())
        times.append(time.perf_counter() - t0)
    return times, found


def _idiom(env):
    """A first cron: every open case, its deadlines read and compared in Python."""
    from odoo import fields

    now = fields.Datetime.now()
    env.invalidate_all()
    cases = env["ecrm.case"].search([("is_closed", "=", False), ("policy_id", "!=", False)])
    due = cases.filtered(
        lambda case: not case.ecrm_paused_since
        and (
            (not case.first_response_date and case.response_deadline and case.response_deadline <= now)
            or (case.resolution_deadline and case.resolution_deadline <= now)
        )
        and not case.escalation_ids
    )
    return len(cases), len(due)


def _ensure_cases(env, open_cases, due):
    import generate

    volumes = generate.existing_volumes(env)
    if volumes["cases"] and abs(volumes["cases"] - open_cases) <= open_cases * 0.01:
        return volumes["cases"], 0.0
    t0 = time.perf_counter()
    generate.delete_cases(env)
    count = generate.generate_cases(env, open_cases, due)
    generate.analyze(env, ["ecrm_case"])
    env.cr.commit()
    return count, time.perf_counter() - t0


def run(env, options):
    volumes = getattr(options, "volumes", None) or {}
    # in the runner: the generated cases as they are; standalone: --open
    open_cases = volumes.get("cases") or getattr(options, "open_cases", 200000)
    due = getattr(options, "due", 1000)
    repeat = getattr(options, "repeat", 3)
    open_cases, generate_s = _ensure_cases(env, open_cases, due)
    due_times, fired = _time_cron(env, repeat, due)
    none_times, none_fired = _time_cron(env, repeat, 0)
    none_floor_times, none_found = _floor(env, repeat)
    _reset_due(env, due)
    floor_times, floor_found = _floor(env, repeat)
    plan = _plan(env)
    # the idiom reads every open case: its cost is the same with or without due ones
    idiom_times = []
    for _i in range(max(1, repeat - 1)):
        t0 = time.perf_counter()
        open_seen, idiom_due = _idiom(env)
        idiom_times.append(time.perf_counter() - t0)
    tracemalloc.start()
    try:
        env.invalidate_all()
        env["ecrm.case"]._cron_ecrm_escalate()
        cron_peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    env.cr.commit()
    # leave the data as generated: the first ``due`` cases due
    _reset_due(env, due)
    due_s = statistics.median(due_times)
    none_s = statistics.median(none_times)
    idiom_s = statistics.median(idiom_times)
    return {
        "open_cases": open_cases,
        "due_cases": due,
        "generate_s": generate_s,
        "cron_due_s": due_s,
        "cron_due_runs_s": due_times,
        "cron_due_fired": fired,
        "cron_due_per_case_ms": due_s / max(fired, 1) * 1000,
        "cron_none_due_s": none_s,
        "cron_none_due_runs_s": none_times,
        "cron_none_due_fired": none_fired,
        "floor_due_s": statistics.median(floor_times),
        "floor_due_found": floor_found,
        "floor_none_due_s": statistics.median(none_floor_times),
        "floor_none_due_found": none_found,
        "idiom_scan_s": idiom_s,
        "idiom_scan_runs_s": idiom_times,
        "idiom_open_cases_read": open_seen,
        "idiom_due_found": idiom_due,
        "none_due_over_due": none_s / due_s if due_s else None,
        "idiom_scan_over_none_due": idiom_s / none_s if none_s else None,
        "due_over_idiom": due_s / idiom_s if idiom_s else None,
        "due_scan_plan": plan,
        "uses_partial_index": any("ecrm_case_next_escalation_idx" in line for line in plan),
        "targets": {
            **TARGETS,
            "rule": "time follows the due cases, not the open ones (issue #6): the run with none due "
            "uses the partial index and costs < 1% of the run with the due ones",
        },
        "meets_targets": {
            "follows_due_not_open": bool(
                due_s
                and none_s / due_s <= TARGETS["none_due_over_due_max"]
                and any("next_escalation" in x for x in plan)
            ),
            "fires_every_due_case": fired == due and idiom_due == due,
            "due_over_idiom": bool(idiom_s) and due_s / idiom_s <= TARGETS["due_over_idiom_max"],
        },
        "peak_python_memory_bytes": {"cron_due": cron_peak},
    }


def table_rows(result):
    from benchlib import fmt_bytes, fmt_ratio, fmt_seconds, verdict

    return [
        ("Cases open / due", f"{result['open_cases']:,} / {result['due_cases']:,}"),
        (
            "Escalation cron, due cases",
            f"{fmt_seconds(result['cron_due_s'])} for {result['cron_due_fired']:,} fired "
            f"({result['cron_due_per_case_ms']:.1f} ms/case)",
        ),
        ("Escalation cron, none due", fmt_seconds(result["cron_none_due_s"])),
        (
            "Escalation floor: indexed due scan",
            f"{fmt_seconds(result['floor_due_s'])} ({result['floor_due_found']:,} due), "
            f"{fmt_seconds(result['floor_none_due_s'])} (none due)",
        ),
        (
            "Escalation Odoo idiom: scan of every open case",
            f"{fmt_seconds(result['idiom_scan_s'])} ({result['idiom_open_cases_read']:,} read, "
            f"{result['idiom_due_found']:,} due), with or without due cases",
        ),
        (
            "Escalation none due / due",
            f"{fmt_ratio(result['none_due_over_due'])}  (target < 1 %, partial index used: "
            f"{'yes' if result['uses_partial_index'] else 'NO'}: "
            f"{verdict(result['meets_targets']['follows_due_not_open'])})",
        ),
        ("Escalation idiom scan / cron none due", fmt_ratio(result["idiom_scan_over_none_due"])),
        *(
            [
                (
                    "Escalation cron due / idiom scan",
                    f"{fmt_ratio(result['due_over_idiom'])}  (issue 20: target <= {TARGETS['due_over_idiom_max']}x: "
                    f"{verdict(result['meets_targets']['due_over_idiom'])})",
                )
            ]
            if "due_over_idiom" in result
            else []
        ),
        ("Escalation peak Python memory (cron, due)", fmt_bytes(result["peak_python_memory_bytes"]["cron_due"])),
        (
            "Escalation fires every due case once",
            "yes" if result["meets_targets"]["fires_every_due_case"] else "NO",
        ),
    ]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", required=True)
    parser.add_argument("--open", dest="open_cases", type=int, default=200000)
    parser.add_argument("--due", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--addons-path", default=f"/opt/odoo18/addons,/opt/odoo18/odoo/addons,{Path(__file__).parents[1]}"
    )
    parser.add_argument("odoo_args", nargs="*", help="extra Odoo options (--db_host ...), after --")
    args = parser.parse_args(argv)
    from benchlib import format_table

    import odoo

    odoo.tools.config.parse_config(["--addons-path", args.addons_path, *args.odoo_args])
    registry = odoo.modules.registry.Registry(args.db)
    with registry.cursor() as cr:
        env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
        result = run(env, args)
    print(format_table(table_rows(result)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
