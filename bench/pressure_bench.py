"""Benchmark of the contact-pressure filter.

Times, on the same data and in the same run, the mailing's own recipient
computation (``mailing.mailing._get_remaining_recipients``) and the pressure
filter for every recipient at once (``ecrm.pressure.rule._ecrm_check``, one
statement), then the filter with the batch allocation the composers use
(``mailing.mailing._ecrm_pressure_filter``).

Data: RECIPIENTS customers with an email (``ref = 'bench-pressure'``) and
INTERACTIONS outbound touches spread over the last 120 days on them (email,
email, sms, phone; marketing, marketing, transactional), two active rules
(email 4 per 30 days with 48 h between two; all channels 10 per 60 days).
The data is generated once into the scratch database, committed and vacuumed
(as a production log is), and reused while its size matches; the rules and
the mailing are rolled back.

    .venv/bin/python bench/pressure_bench.py --db ecrm_pressure_bench [--recipients 100000]
        [--interactions 2000000] [--repeat 3] [--explain] [--drop-data]

The database must have ecrm_addon installed (see bench/README.md); PGHOST,
PGPORT and PGUSER select the PostgreSQL server (the shared cluster of
scripts/test). Also runs inside ``odoo shell`` (sizes from BENCH_RECIPIENTS and
BENCH_INTERACTIONS):

    odoo shell -d <db with ecrm_addon> --no-http < bench/pressure_bench.py

As a section of bench/run.py: ``run(env, options)`` returns a dict (options may
carry ``pressure_recipients``, ``pressure_interactions``, ``repeat``,
``explain``), ``table_rows(result)`` the lines of the table.
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

REF = "bench-pressure"
TOUCH_NAME = "Bench pressure touch"
DEFAULT_RECIPIENTS = 100000
DEFAULT_INTERACTIONS = 2000000


def existing_scale(env):
    cr = env.cr
    cr.execute("SELECT count(*) FROM res_partner WHERE ref = %s", [REF])
    partners = cr.fetchone()[0]
    cr.execute("SELECT count(*) FROM ecrm_interaction WHERE name = %s", [TOUCH_NAME])
    return partners, cr.fetchone()[0]


def delete_data(env):
    cr = env.cr
    cr.execute("DELETE FROM ecrm_interaction WHERE name = %s", [TOUCH_NAME])
    cr.execute("DELETE FROM res_partner WHERE ref = %s", [REF])


def generate(env, n_partners, n_rows):
    """Customers and touches, set-based (committed by the caller)."""
    cr = env.cr
    company = env.company
    cr.execute(
        """
        INSERT INTO res_partner (name, ref, email, email_normalized, ecrm_email_key, active, type, is_company,
                                 autopost_bills, company_id)
        SELECT 'Bench ' || g, %s, 'bench' || g || '@example.com', 'bench' || g || '@example.com',
               'bench' || g || '@example.com', TRUE, 'contact', FALSE, 'ask', NULL
          FROM generate_series(1, %s) g
        RETURNING id
        """,
        [REF, n_partners],
    )
    ids = [row[0] for row in cr.fetchall()]
    cr.execute("UPDATE res_partner SET commercial_partner_id = id WHERE id = ANY(%s)", [ids])
    cr.execute(
        """
        INSERT INTO ecrm_interaction (name, partner_id, commercial_partner_id, date, channel, direction, category,
                                      weight, company_id)
        SELECT %s, p, p, now() AT TIME ZONE 'UTC' - (random() * 120) * interval '1 day',
               (ARRAY['email', 'email', 'sms', 'phone'])[1 + (g %% 4)], 'outbound',
               (ARRAY['marketing', 'marketing', 'transactional'])[1 + (g %% 3)], 1.0, %s
          FROM (SELECT g, (%s::int[])[1 + (g %% %s)] AS p FROM generate_series(1, %s) g) s
        """,
        [TOUCH_NAME, company.id, ids, len(ids), n_rows],
    )


def vacuum(env):
    """VACUUM ANALYZE the tables the filter reads (outside any transaction)."""
    import odoo.sql_db

    with odoo.sql_db.db_connect(env.cr.dbname).cursor() as cr:
        cr._cnx.autocommit = True
        for table in ("res_partner", "ecrm_interaction"):
            cr.execute(f"VACUUM ANALYZE {table}")


def ensure_data(env, n_partners, n_rows):
    have = existing_scale(env)
    if have == (n_partners, n_rows):
        return {"generated": False, "seconds": 0.0}
    t0 = time.perf_counter()
    if any(have):
        delete_data(env)
    generate(env, n_partners, n_rows)
    env.cr.commit()
    vacuum(env)
    return {"generated": True, "seconds": round(time.perf_counter() - t0, 1)}


def _timed(repeat, function):
    times, value = [], None
    for _i in range(repeat):
        t0 = time.perf_counter()
        value = function()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), times, value


def _explain(env, company, emails):
    """EXPLAIN (ANALYZE, BUFFERS) of the filter's statement, captured on its way to the database."""
    cr = env.cr
    captured = []
    execute = type(cr).execute

    def capture(self, query, params=None, log_exceptions=True):
        if "WITH targets AS" in str(getattr(query, "code", query)):
            captured.append(query)
        return execute(self, query, params, log_exceptions)

    type(cr).execute = capture
    try:
        env["ecrm.pressure.rule"]._ecrm_check(company, "email", "marketing", keys=emails)
    finally:
        type(cr).execute = execute
    from odoo.tools import SQL

    cr.execute(SQL("EXPLAIN (ANALYZE, BUFFERS) %s", captured[-1]))
    return [row[0] for row in cr.fetchall()]


def run(env, options):
    n_partners = int(getattr(options, "pressure_recipients", None) or DEFAULT_RECIPIENTS)
    n_rows = int(getattr(options, "pressure_interactions", None) or DEFAULT_INTERACTIONS)
    repeat = max(1, int(getattr(options, "repeat", 3) or 3))
    company = env.company
    data = ensure_data(env, n_partners, n_rows)
    cr = env.cr
    result = {"recipients": n_partners, "interactions": n_rows, "data": data, "repeat": repeat}
    cr.execute("SAVEPOINT pressure_bench")
    try:
        env["ecrm.pressure.rule"].search([]).active = False
        env["ecrm.pressure.rule"].create(
            [
                {
                    "name": "Bench email",
                    "channel": "email",
                    "max_count": 4,
                    "period_days": 30,
                    "min_interval_hours": 48,
                },
                {"name": "Bench all", "channel": "all", "max_count": 10, "period_days": 60},
            ]
        )
        mailing = env["mailing.mailing"].create(
            {
                "subject": "Bench",
                "body_html": "<p>Bench</p>",
                "mailing_model_id": env["ir.model"]._get_id("res.partner"),
                "mailing_domain": repr([("ref", "=", REF)]),
            }
        )
        env.flush_all()

        def recipients():
            env.invalidate_all()
            return mailing._get_remaining_recipients()

        t_recipients, runs_recipients, res_ids = _timed(repeat, recipients)
        t0 = time.perf_counter()
        emails = env["res.partner"].browse(res_ids).mapped("email_normalized")
        t_emails = time.perf_counter() - t0

        def check():
            return env["ecrm.pressure.rule"]._ecrm_check(company, "email", "marketing", keys=emails)

        t_filter, runs_filter, verdicts = _timed(repeat, check)
        keys_by_res_id = {
            res_id: [email]
            for res_id, email in zip(
                res_ids, env["res.partner"].browse(res_ids).mapped("email_normalized"), strict=True
            )
        }

        def allocate():
            return mailing._ecrm_pressure_filter(keys_by_res_id)

        t_allocate, runs_allocate, (blocked, _partners) = _timed(repeat, allocate)
        result.update(
            {
                "mailing_recipients": len(res_ids),
                "recipients_s": t_recipients,
                "recipients_runs_s": runs_recipients,
                "read_emails_s": t_emails,
                "customers": len(verdicts),
                "blocked_now": sum(1 for verdict in verdicts.values() if verdict.rule_id),
                "filter_s": t_filter,
                "filter_runs_s": runs_filter,
                "filter_with_allocation_s": t_allocate,
                "filter_with_allocation_runs_s": runs_allocate,
                "blocked_with_allocation": len(blocked),
                "ratio_filter_to_recipients": t_filter / t_recipients if t_recipients else None,
                "ratio_allocation_to_recipients": t_allocate / t_recipients if t_recipients else None,
                "target_ratio": 3.0,
            }
        )
        result["target_met"] = result["ratio_filter_to_recipients"] is not None and (
            result["ratio_filter_to_recipients"] <= result["target_ratio"]
        )
        if getattr(options, "explain", False):
            result["explain"] = _explain(env, company, emails)
    finally:
        cr.execute("ROLLBACK TO SAVEPOINT pressure_bench")
        env.invalidate_all()
    return result


def table_rows(result):
    rows = [
        (
            "pressure: scale",
            f"{result['recipients']:,} recipients, {result['interactions']:,} touches"
            + (f" (generated in {result['data']['seconds']} s)" if result["data"]["generated"] else ""),
        ),
        (
            "pressure: mailing recipients (_get_remaining_recipients)",
            f"{result['recipients_s']:.2f} s for {result['mailing_recipients']:,}",
        ),
        ("pressure: reading their emails", f"{result['read_emails_s']:.2f} s"),
        (
            "pressure: filter, one statement (_ecrm_check)",
            f"{result['filter_s']:.2f} s, {result['customers']:,} customers, {result['blocked_now']:,} blocked "
            f"= {result['ratio_filter_to_recipients']:.1f}x the recipients (target <= {result['target_ratio']:.0f}x: "
            f"{'met' if result['target_met'] else 'NOT met'})",
        ),
        (
            "pressure: filter + batch allocation (_ecrm_pressure_filter)",
            f"{result['filter_with_allocation_s']:.2f} s, {result['blocked_with_allocation']:,} blocked "
            f"= {result['ratio_allocation_to_recipients']:.1f}x the recipients",
        ),
    ]
    return rows


def _print(result):
    width = max(len(label) for label, _value in table_rows(result))
    for label, value in table_rows(result):
        print(f"{label:<{width}}  {value}")
    for line in result.get("explain") or ():
        print(line)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", required=True, help="scratch database with ecrm_addon installed")
    parser.add_argument("--recipients", type=int, default=DEFAULT_RECIPIENTS)
    parser.add_argument("--interactions", type=int, default=DEFAULT_INTERACTIONS)
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per measure (median reported)")
    parser.add_argument("--explain", action="store_true", help="print EXPLAIN (ANALYZE, BUFFERS) of the filter")
    parser.add_argument("--drop-data", action="store_true", help="delete the generated data and stop")
    parser.add_argument("--addons-path", help="default: Odoo's addons and this repository")
    args = parser.parse_args(argv)
    args.pressure_recipients, args.pressure_interactions = args.recipients, args.interactions

    import odoo
    from odoo.tools import config

    addons = args.addons_path
    if not addons:
        root = Path(odoo.__file__).resolve().parent.parent
        repo = Path(__file__).resolve().parent.parent
        addons = ",".join(str(p) for p in (root / "addons", root / "odoo" / "addons", repo) if p.is_dir())
    config_args = ["-d", args.db, "--addons-path", addons, "--log-level", "warn"]
    for variable, option in (("PGHOST", "--db_host"), ("PGPORT", "--db_port"), ("PGUSER", "--db_user")):
        if os.environ.get(variable):
            config_args += [option, os.environ[variable]]
    config.parse_config(config_args)
    odoo.netsvc.init_logger()
    registry = odoo.modules.registry.Registry(args.db)
    with registry.cursor() as cr:
        env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
        if "ecrm.pressure.rule" not in env:
            sys.exit(f"ecrm_addon is not installed in {args.db} (see bench/README.md)")
        if args.drop_data:
            delete_data(env)
            cr.commit()
            return
        _print(run(env, args))


if __name__ == "__main__":
    if "env" in globals():  # odoo shell -d DB < bench/pressure_bench.py
        shell_options = argparse.Namespace(
            pressure_recipients=int(os.environ.get("BENCH_RECIPIENTS", DEFAULT_RECIPIENTS)),
            pressure_interactions=int(os.environ.get("BENCH_INTERACTIONS", DEFAULT_INTERACTIONS)),
            repeat=int(os.environ.get("BENCH_REPEAT", "3")),
            explain=bool(os.environ.get("BENCH_EXPLAIN")),
        )
        _print(run(env, shell_options))  # noqa: F821
    else:
        main()
