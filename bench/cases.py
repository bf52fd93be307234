#!/usr/bin/env python3
"""Cases section of the benchmark: the escalation cron with N open cases of
which D are due, next to the same cron with none due. Its cost must follow the
due cases (partial index on ``next_escalation_at``), not the open ones.

Standalone:  bench/cases.py --db NAME [--open 200000] [--due 1000] [--repeat 3]
(a scratch database with ecrm_addon installed; the generated cases are tagged
``[bench]`` in their subject and replaced on each run). As a section of
bench/run.py: ``run(env, options)`` / ``table_rows(result)``.
"""

import argparse
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

SUBJECT = "[bench] case"


def _generate(env, open_cases, due):
    """Insert ``open_cases`` open cases (``due`` of them due now) with one SQL statement."""
    from odoo import fields
    from odoo.tools import SQL

    cr = env.cr
    _delete(env)
    calendar = env.company.resource_calendar_id
    policy = env["ecrm.escalation.policy"].create(
        {"name": "[bench] policy", "calendar_id": calendar.id, "response_hours": 4, "resolution_hours": 40}
    )
    env["ecrm.escalation.level"].create({"name": "[bench] late", "policy_id": policy.id, "delay_hours": 0})
    partner = env["res.partner"].create({"name": "[bench] customer", "email": "bench.customer@example.com"})
    stage = env.ref("ecrm_addon.ecrm_case_stage_in_progress")
    now = fields.Datetime.now()
    env.flush_all()
    cr.execute(
        SQL(
            """
            INSERT INTO ecrm_case (name, subject, partner_id, commercial_partner_id, channel, priority, stage_id,
                                   is_closed, company_id, policy_id, date_open, response_deadline,
                                   resolution_deadline, next_escalation_at, escalation_level, ecrm_paused_hours,
                                   create_uid, write_uid, create_date, write_date)
            SELECT 'BENCH/' || g, %(subject)s, %(partner)s, %(partner)s, 'email', '1', %(stage)s, false,
                   %(company)s, %(policy)s, %(now)s - interval '1 hour',
                   CASE WHEN g <= %(due)s THEN %(now)s - interval '1 minute' ELSE %(now)s + interval '30 days' END,
                   %(now)s + interval '60 days',
                   CASE WHEN g <= %(due)s THEN %(now)s - interval '1 minute' ELSE %(now)s + interval '30 days' END,
                   0, 0, 1, 1, %(now)s, %(now)s
              FROM generate_series(1, %(count)s) g
            """,
            subject=SUBJECT,
            partner=partner.id,
            stage=stage.id,
            company=env.company.id,
            policy=policy.id,
            now=now,
            due=due,
            count=open_cases,
        )
    )
    cr.execute("ANALYZE ecrm_case")
    env.invalidate_all()
    return policy


def _delete(env):
    cr = env.cr
    cr.execute("DELETE FROM ecrm_case WHERE subject = %s", [SUBJECT])
    env["ecrm.escalation.policy"].search([("name", "=", "[bench] policy")]).unlink()
    env["res.partner"].search([("name", "=", "[bench] customer")]).unlink()
    env.flush_all()


def _reset_due(env, due):
    from odoo import fields

    now = fields.Datetime.now()
    env.cr.execute(
        """
        WITH d AS (SELECT id FROM ecrm_case WHERE subject = %s AND name::text ~ '^BENCH/' ORDER BY id LIMIT %s)
        UPDATE ecrm_case c SET next_escalation_at = %s, response_deadline = %s, escalation_level = 0
          FROM d WHERE c.id = d.id
        """,
        [SUBJECT, due, now - timedelta(minutes=1), now - timedelta(minutes=1)],
    )
    env.cr.execute(
        "DELETE FROM ecrm_case_escalation e USING ecrm_case c WHERE c.id = e.case_id AND c.subject = %s", [SUBJECT]
    )
    env.cr.commit()
    env.invalidate_all()


def _time_cron(env, repeat, due):
    times, fired = [], 0
    for _i in range(repeat):
        if due:
            _reset_due(env, due)
        t0 = time.perf_counter()
        fired = env["ecrm.case"]._cron_ecrm_escalate()
        env.cr.commit()
        times.append(time.perf_counter() - t0)
    return times, fired


def _plan(env):
    from odoo import fields

    env.cr.execute(
        "EXPLAIN SELECT id FROM ecrm_case WHERE next_escalation_at <= %s ORDER BY next_escalation_at, id LIMIT 100",
        [fields.Datetime.now()],
    )
    return [row[0] for row in env.cr.fetchall()]


def run(env, options):
    open_cases = getattr(options, "open_cases", 200000)
    due = getattr(options, "due", 1000)
    repeat = getattr(options, "repeat", 3)
    t0 = time.perf_counter()
    _generate(env, open_cases, due)
    env.cr.commit()
    generate_s = time.perf_counter() - t0
    due_times, fired = _time_cron(env, repeat, due)
    none_times, none_fired = _time_cron(env, repeat, 0)
    plan = _plan(env)
    _delete(env)
    env.cr.commit()
    return {
        "open_cases": open_cases,
        "due_cases": due,
        "generate_s": generate_s,
        "cron_due_s": statistics.median(due_times),
        "cron_due_runs_s": due_times,
        "cron_due_fired": fired,
        "cron_due_per_case_ms": statistics.median(due_times) / max(fired, 1) * 1000,
        "cron_none_due_s": statistics.median(none_times),
        "cron_none_due_runs_s": none_times,
        "cron_none_due_fired": none_fired,
        "due_scan_plan": plan,
        "uses_partial_index": any("ecrm_case_next_escalation_idx" in line for line in plan),
    }


def table_rows(result):
    return [
        ("Cases open / due", f"{result['open_cases']:,} / {result['due_cases']:,}"),
        (
            "Escalation cron, due cases",
            f"{result['cron_due_s']:.3f} s for {result['cron_due_fired']:,} fired "
            f"({result['cron_due_per_case_ms']:.1f} ms/case)",
        ),
        ("Escalation cron, none due", f"{result['cron_none_due_s'] * 1000:.2f} ms"),
        ("Due scan uses the partial index", "yes" if result["uses_partial_index"] else "NO"),
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
    import odoo

    odoo.tools.config.parse_config(["--addons-path", args.addons_path, *args.odoo_args])
    registry = odoo.modules.registry.Registry(args.db)
    with registry.cursor() as cr:
        env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
        result = run(env, args)
    width = max(len(label) for label, _value in table_rows(result))
    for label, value in table_rows(result):
        print(f"{label:<{width}}  {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
