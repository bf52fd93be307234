# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Customer value section of the benchmark: the fit plus the scoring of every
buyer (``ecrm.clv.score._clv_refresh_company``, what the RFM run adds), as a
daily run (inputs kept between runs, a day's changes logged) and as "Recompute
now" (every document aggregated again), next to the RFM floor (the bare RFM
aggregate query), and the "frequently bought
together" rules (``ecrm.product.rule._rule_refresh_company``) next to a bare
SQL floor (the co-occurrence count of the order lines alone), measured in the
same run on the same data, with the peak Python memory of each engine.

The generated orders carry no lines: this section adds them once (marked
``[bench-clv]``), about one per generated order, to the latest orders (1 to
5 lines each, product popularity skewed over ``PRODUCTS`` products), so the
rules see as many order lines as the scale has orders."""

import random
import statistics
import time
from datetime import timedelta

from benchlib import peak_memory, vacuum
from generate import BulkLoad

from odoo import Command, fields
from odoo.tools import SQL

TARGETS = {"clv_over_rfm_floor_max": 3.0}
LINE_MARK = "[bench-clv]"
PRODUCTS = 200
PRODUCT_CODE = "BENCH-CLV-%03d"
LINE_CHUNK = 500_000  # order lines per INSERT


def _products(env):
    Product = env["product.product"]
    codes = [PRODUCT_CODE % n for n in range(PRODUCTS)]
    existing = Product.search([("default_code", "in", codes)])
    missing = sorted(set(codes) - set(existing.mapped("default_code")))
    if missing:
        existing |= Product.create(
            [
                {"name": f"Bench item {code[-3:]}", "default_code": code, "type": "consu", "list_price": 10}
                for code in missing
            ]
        )
    return existing.sorted("default_code")


def _ensure_order_lines(env, target_lines):
    """About ``target_lines`` order lines on the latest generated orders
    (added once; an existing set of the same size is kept). Set-based:
    INSERT ... SELECT from a template line made through the ORM, in chunks of
    ``LINE_CHUNK`` lines."""
    cr = env.cr
    cr.execute("SELECT count(*) FROM sale_order_line WHERE name = %s", [LINE_MARK])
    have = cr.fetchone()[0]
    if have and abs(have - target_lines) <= target_lines * 0.1:
        return have
    cr.execute("DELETE FROM sale_order_line WHERE name = %s", [LINE_MARK])
    products = _products(env)
    template = env["sale.order"].search([("client_order_ref", "=", "bench-template")], limit=1).order_line[:1]
    if not template:
        partner = env["res.partner"].create({"name": "Bench CLV template"})
        order = env["sale.order"].create(
            {
                "partner_id": partner.id,
                "client_order_ref": "bench-template",
                "order_line": [Command.create({"product_id": products[0].id, "product_uom_qty": 1, "tax_id": []})],
            }
        )
        template = order.order_line[:1]
    env.flush_all()
    cr.execute(
        """SELECT column_name FROM information_schema.columns
            WHERE table_name = 'sale_order_line'
              AND column_name NOT IN ('id', 'order_id', 'product_id', 'name')"""
    )
    columns = [name for (name,) in cr.fetchall()]
    # products drawn with a Zipf-like popularity, 1 to 5 distinct per order
    rng = random.Random(18)
    weights = [1 / (rank + 1) for rank in range(PRODUCTS)]
    cr.execute(
        "SELECT id FROM sale_order WHERE client_order_ref = 'bench' AND state = 'sale' "
        "ORDER BY date_order DESC LIMIT %s",
        [max(1, target_lines // 3)],
    )
    order_ids = [row[0] for row in cr.fetchall()]
    pairs_order, pairs_product = [], []
    for order_id in order_ids:
        chosen = set(rng.choices(range(PRODUCTS), weights, k=rng.randint(1, 5)))
        for index in chosen:
            pairs_order.append(order_id)
            pairs_product.append(products[index].id)
    # a bulk load, as the generator's (plain indexes built again after, no
    # trigger firing when allowed), in chunks: one array of 10M pairs is more
    # than PostgreSQL takes in one value
    bulk = BulkLoad(cr, ["sale_order_line"])
    for start in range(0, len(pairs_order), LINE_CHUNK):
        cr.execute(
            SQL(
                """
                INSERT INTO sale_order_line (order_id, product_id, name, %(columns)s)
                SELECT new.order_id, new.product_id, %(mark)s, %(template_columns)s
                  FROM unnest(%(orders)s::int4[], %(products)s::int4[]) AS new(order_id, product_id)
                 CROSS JOIN sale_order_line t
                 WHERE t.id = %(template)s
                """,
                columns=SQL(", ").join(SQL.identifier(name) for name in columns),
                template_columns=SQL(", ").join(SQL("t.%s", SQL.identifier(name)) for name in columns),
                mark=LINE_MARK,
                orders=pairs_order[start : start + LINE_CHUNK],
                products=pairs_product[start : start + LINE_CHUNK],
                template=template.id,
            )
        )
    bulk.finish()
    cr.execute("ANALYZE sale_order_line")  # fresh rows: plans from real counts
    env.cr.commit()
    return len(pairs_order)


def _measure_rules(env, company, repeat):
    """The rules engine next to its floor on about as many order lines as the
    scale has orders, and the offers of 1,000 buyers."""
    cr = env.cr
    Score = env["ecrm.rfm.score"]
    Rule = env["ecrm.product.rule"]
    cr.execute("SELECT count(*) FROM sale_order WHERE client_order_ref = 'bench'")
    lines = _ensure_order_lines(env, cr.fetchone()[0])
    reference_rules, date_from = Score._rfm_window(company)
    floor_rules_times = []
    for _i in range(repeat):
        t0 = time.perf_counter()
        cr.execute(
            SQL(
                """
                WITH baskets AS MATERIALIZED (
                    SELECT DISTINCT sol.order_id, sol.product_id
                      FROM sale_order_line sol JOIN sale_order so ON so.id = sol.order_id
                     WHERE so.company_id = %s AND so.state = 'sale' AND so.date_order >= %s AND so.date_order < %s
                       AND sol.product_id IS NOT NULL
                )
                SELECT count(*) FROM (
                    SELECT a.product_id, b.product_id, count(*)
                      FROM baskets a JOIN baskets b ON b.order_id = a.order_id AND b.product_id <> a.product_id
                     GROUP BY 1, 2
                ) pairs
                """,
                company.id,
                fields.Datetime.to_datetime(date_from),
                fields.Datetime.to_datetime(reference_rules + timedelta(days=1)),
            )
        )
        pairs = cr.fetchone()[0]
        floor_rules_times.append(time.perf_counter() - t0)
    rules_times = []
    for _i in range(repeat):
        t0 = time.perf_counter()
        Rule._rule_refresh_company(company)
        rules_times.append(time.perf_counter() - t0)
        cr.commit()
    rules_memory = peak_memory(lambda: Rule._rule_refresh_company(company))
    cr.commit()
    cr.execute("SELECT count(*) FROM ecrm_product_rule WHERE company_id = %s", [company.id])
    rule_count = cr.fetchone()[0]
    # the offers of 1,000 buyers, one statement
    Partner = env["res.partner"]
    cr.execute(
        "SELECT partner_id FROM ecrm_clv_score WHERE company_id = %s ORDER BY partner_id LIMIT 1000", [company.id]
    )
    sample = Partner.browse([row[0] for row in cr.fetchall()])
    t0 = time.perf_counter()
    offers = sample._ecrm_offers(company)
    offers_s = time.perf_counter() - t0
    rules_floor_s = statistics.median(floor_rules_times)
    rules_s = statistics.median(rules_times)
    return {
        "order_lines": lines,
        "rule_pairs": pairs,
        "rules": rule_count,
        "rules_floor_s": rules_floor_s,
        "rules_s": rules_s,
        "rules_runs_s": rules_times,
        "rules_over_floor": rules_s / rules_floor_s,
        "rules_peak_python_bytes": rules_memory,
        "offers_1000_buyers_s": offers_s,
        "offers_1000_buyers_with_offer": len(offers),
    }


def _measure_daily(env, company, reference, repeat):
    """The daily run: the next day, with the RFM triggers' log holding the
    customers of a day's documents (those of the reference date), on the
    inputs stored by the full run; each run rolled back to that state.
    Returns (customers logged, run times, peak Python memory)."""
    cr = env.cr
    Clv = env["ecrm.clv.score"]
    cr.execute(
        SQL(
            """SELECT count(DISTINCT p.commercial_partner_id)
                 FROM account_move am JOIN res_partner p ON p.id = am.partner_id
                WHERE am.company_id = %s AND am.state = 'posted'
                  AND am.move_type IN ('out_invoice', 'out_refund') AND am.invoice_date = %s""",
            company.id,
            reference,
        )
    )
    touched = cr.fetchone()[0]

    def daily_run():
        # The state of a next day: autovacuum has cleared the rows the last run
        # replaced (here the earlier runs' rows, rolled back), so the run
        # rewrites the figures in place as it does day after day. Not timed.
        vacuum(cr.dbname, ["ecrm_clv_score", "ecrm_clv_input"])
        cr.execute("SAVEPOINT bench_clv_daily")
        cr.execute(
            SQL(
                """INSERT INTO ecrm_rfm_touched (company_id, partner_id, source)
                   SELECT DISTINCT am.company_id, am.partner_id, 'invoice'
                     FROM account_move am
                    WHERE am.company_id = %(company)s AND am.state = 'posted'
                      AND am.move_type IN ('out_invoice', 'out_refund') AND am.invoice_date = %(day)s;
                   UPDATE res_company SET ecrm_rfm_date = %(next)s WHERE id = %(company)s""",
                company=company.id,
                day=reference,
                next=reference + timedelta(days=1),
            )
        )
        env.invalidate_all()
        t0 = time.perf_counter()
        Clv._clv_refresh_company(company)
        elapsed = time.perf_counter() - t0
        cr.execute("ROLLBACK TO SAVEPOINT bench_clv_daily")
        env.invalidate_all()
        return elapsed

    return touched, [daily_run() for _i in range(repeat)], peak_memory(daily_run)


def run(env, options):
    """Returns the section's measurements (seconds, ratios, memory) as a dict."""
    cr = env.cr
    company = env.company
    Score = env["ecrm.rfm.score"]
    Clv = env["ecrm.clv.score"]
    repeat = options.repeat
    base_date = fields.Date.context_today(Clv)
    company.write(
        {
            "ecrm_rfm_source": "invoice",
            "ecrm_rfm_window_days": 365,
            "ecrm_rfm_date": base_date,
            "ecrm_clv_calibration_days": 730,
            # 200 products over tens of thousands of orders: 1 % of the orders is more than most pairs get
            "ecrm_rule_min_support": 0.1,
        }
    )
    cr.commit()

    # 1. The RFM floor: the bare RFM aggregate, as in the rfm section.
    floor_times = []
    for _i in range(repeat):
        t0 = time.perf_counter()
        cr.execute(
            SQL(
                "SELECT count(*) FROM (%s) agg",
                Score._rfm_aggregate_sql(company, base_date - timedelta(days=365), base_date),
            )
        )
        cr.fetchone()
        floor_times.append(time.perf_counter() - t0)

    # 1b. The same bare aggregate over the calibration period (twice the RFM
    # window here): what reading the documents the fit needs costs at least.
    start, reference = Clv._clv_period(company)
    calibration_floor_times = []
    for _i in range(repeat):
        t0 = time.perf_counter()
        cr.execute(SQL("SELECT count(*) FROM (%s) agg", Score._rfm_aggregate_sql(company, start, reference)))
        cr.fetchone()
        calibration_floor_times.append(time.perf_counter() - t0)

    # 2. The customer value inputs alone (one aggregate statement), then the engine.
    inputs_times = []
    # with the planner settings the engine runs it with (undone by the rollback to the savepoint)
    cr.execute("SAVEPOINT bench_clv_inputs; SET LOCAL jit = off; SET LOCAL enable_hashagg = off")
    for _i in range(repeat):
        t0 = time.perf_counter()
        cr.execute(Clv._clv_inputs_sql(company, start, reference))
        buyers = len(cr.fetchall())
        inputs_times.append(time.perf_counter() - t0)
    cr.execute("ROLLBACK TO SAVEPOINT bench_clv_inputs")
    # "Recompute now": the inputs aggregated again over every document.
    full_times, fits = [], []
    for _i in range(repeat):
        t0 = time.perf_counter()
        fit = Clv._clv_refresh_company(company, full=True)
        full_times.append(time.perf_counter() - t0)
        fits.append(fit)
        cr.commit()
    touched, clv_times, clv_memory = _measure_daily(env, company, reference, repeat)
    cr.commit()
    fit = fits[-1]
    cr.execute(
        "SELECT count(*), count(*) FILTER (WHERE churn_risk = 'high') FROM ecrm_clv_score WHERE company_id = %s",
        [company.id],
    )
    scored, high_risk = cr.fetchone()

    rules = _measure_rules(env, company, repeat)

    floor_s = statistics.median(floor_times)
    clv_s = statistics.median(clv_times)
    full_s = statistics.median(full_times)
    return {
        "buyers": buyers,
        "scored": scored,
        "high_churn_risk": high_risk,
        "fit": {
            "state": fit.state,
            "health": fit.health,
            "repeat_buyers": fit.repeat_customer_count,
            "bgnbd": [fit.bgnbd_r, fit.bgnbd_alpha, fit.bgnbd_a, fit.bgnbd_b],
            "bgnbd_log_likelihood": fit.bgnbd_log_likelihood,
            "gamma_gamma": [fit.gg_p, fit.gg_q, fit.gg_v],
            "gamma_gamma_log_likelihood": fit.gg_log_likelihood,
        },
        "rfm_floor_s": floor_s,
        "rfm_floor_runs_s": floor_times,
        "calibration_floor_s": statistics.median(calibration_floor_times),
        "calibration_floor_runs_s": calibration_floor_times,
        "clv_over_calibration_floor": clv_s / statistics.median(calibration_floor_times),
        "clv_inputs_s": statistics.median(inputs_times),
        "clv_s": clv_s,
        "clv_runs_s": clv_times,
        "clv_daily_touched_customers": touched,
        "clv_over_rfm_floor": clv_s / floor_s,
        "clv_full_s": full_s,
        "clv_full_runs_s": full_times,
        "clv_full_over_rfm_floor": full_s / floor_s,
        "clv_peak_python_bytes": clv_memory,
        **rules,
        "targets": {"clv_over_rfm_floor": f"<= {TARGETS['clv_over_rfm_floor_max']:.0f}x"},
        "meets_targets": {"clv_over_rfm_floor": clv_s / floor_s <= TARGETS["clv_over_rfm_floor_max"]},
    }


def table_rows(result):
    met = "met" if result["meets_targets"]["clv_over_rfm_floor"] else "MISSED"
    yield ("CLV: buyers scored (fit health)", f"{result['scored']:,} ({result['fit']['state']})")
    yield ("CLV: RFM floor, bare aggregate", f"{result['rfm_floor_s']:.3f} s")
    if "calibration_floor_s" in result:
        yield (
            "CLV: same bare aggregate over the calibration",
            f"{result['calibration_floor_s']:.3f} s  (engine {result['clv_over_calibration_floor']:.2f}x)",
        )
    yield ("CLV: inputs aggregate alone", f"{result['clv_inputs_s']:.3f} s")
    if "clv_full_s" in result:
        yield (
            "CLV: recompute now (every document)",
            f"{result['clv_full_s']:.3f} s  ({result['clv_full_over_rfm_floor']:.2f}x the RFM floor)",
        )
        yield (
            "CLV: daily run, fit + scoring of every buyer",
            f"{result['clv_s']:.3f} s  ({result['clv_daily_touched_customers']:,} customers logged)",
        )
    else:
        yield ("CLV: fit + scoring of every buyer", f"{result['clv_s']:.3f} s")
    yield (
        "CLV / RFM floor",
        f"{result['clv_over_rfm_floor']:.2f}x  (target <= {TARGETS['clv_over_rfm_floor_max']:.0f}x: {met})",
    )
    yield ("CLV: peak Python memory", f"{result['clv_peak_python_bytes'] / 2**20:.1f} MiB")
    yield ("Rules: order lines / rules", f"{result['order_lines']:,} / {result['rules']:,}")
    yield ("Rules: bare SQL floor (pair counts)", f"{result['rules_floor_s']:.3f} s")
    yield ("Rules: engine", f"{result['rules_s']:.3f} s  ({result['rules_over_floor']:.2f}x the floor)")
    yield ("Rules: peak Python memory", f"{result['rules_peak_python_bytes'] / 2**20:.1f} MiB")
    yield ("Offers of 1,000 buyers (one statement)", f"{result['offers_1000_buyers_s'] * 1000:.0f} ms")
