# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""RFM section of the benchmark: the engine's refreshes next to the bare
aggregate query (the floor) and the Odoo idiom (one ``_read_group`` plus one
ORM write per customer), all measured in the same run on the same data.

Each measured day first gets a day of new invoices (copies of the invoices of
the same day a year before, dated that day), as a shop's daily cron sees it.
On that same state the engine runs twice: a full run (the whole window
aggregated again; rolled back) and the daily run (only the customers whose
documents changed, or whose purchases entered or left the window, aggregated
again; committed). The generated extra invoices are deleted at the end.

The RFM run also refreshes the customer value (``ecrm.clv.score``, its own
section ``clv`` and target): the time spent in it is measured apart during
each timed run and taken out of the RFM figures the targets read; the whole
run is reported next to them."""

import statistics
import time
from contextlib import contextmanager
from datetime import timedelta

from benchlib import peak_memory, vacuum

from odoo import fields
from odoo.addons.ecrm_addon.tools.scoring import tie_aware_scores
from odoo.tools import SQL

TARGETS = {"refresh_over_floor_max": 4.0, "idiom_over_refresh_min": 100.0}
DAY_REF = "bench-day"  # ``ref`` of the invoices this section adds


@contextmanager
def _time_spent_in(model_class, method, spent):
    """Adds to ``spent`` (a one-item list) the seconds spent in ``method`` of
    the registry class ``model_class`` while the block runs."""
    original = getattr(model_class, method)

    def timed(self, *args, **kwargs):
        t0 = time.perf_counter()
        try:
            return original(self, *args, **kwargs)
        finally:
            spent[0] += time.perf_counter() - t0

    setattr(model_class, method, timed)
    try:
        yield
    finally:
        setattr(model_class, method, original)


def _add_a_day_of_invoices(cr, company, day):
    """Posted invoices and refunds dated ``day``: copies of those of the same
    day a year before (set-based; the engine's triggers log their customers)."""
    cr.execute(
        """SELECT column_name FROM information_schema.columns
            WHERE table_name = 'account_move'
              AND column_name NOT IN ('id', 'name', 'ref', 'date', 'invoice_date', 'invoice_date_due')"""
    )
    columns = SQL(", ").join(SQL.identifier(name) for (name,) in cr.fetchall())
    cr.execute(
        SQL(
            """
            INSERT INTO account_move (name, ref, date, invoice_date, invoice_date_due, %(columns)s)
            SELECT name || '/' || %(suffix)s, %(ref)s, %(day)s, %(day)s, %(day)s, %(columns)s
              FROM account_move
             WHERE company_id = %(company)s AND ref = 'bench' AND state = 'posted'
               AND move_type IN ('out_invoice', 'out_refund') AND invoice_date = %(year_before)s
            """,
            columns=columns,
            suffix=day.isoformat(),
            ref=DAY_REF,
            day=day,
            company=company.id,
            year_before=day - timedelta(days=365),
        )
    )
    return cr.rowcount


def _daily_floor(cr, company, day, repeat=3):
    """The part of a daily run no implementation avoids, in bare SQL (each time
    rolled back; best of ``repeat``): writing the day's changes (the score rows
    and history rows the daily run of ``day`` wrote, copied onto the next day)
    and the quintile limits (sorting every buyer's three figures). The copies
    go to a date no run uses."""
    times = {"writes": [], "limits": []}
    for _i in range(repeat):
        cr.execute("SAVEPOINT bench_daily_floor")
        t0 = time.perf_counter()
        cr.execute(
            """
            WITH day AS (
                SELECT * FROM ecrm_rfm_snapshot WHERE company_id = %(company)s AND date = %(day)s
            ),
            scores AS (
                UPDATE ecrm_rfm_score s SET date = %(copy)s
                  FROM day WHERE s.company_id = %(company)s AND s.partner_id = day.partner_id
            )
            INSERT INTO ecrm_rfm_snapshot (
                company_id, date, partner_id, recency_days, frequency, monetary, r_score, f_score, m_score,
                segment_id, previous_segment_id, previous_monetary)
            SELECT company_id, %(copy)s, partner_id, recency_days, frequency, monetary, r_score, f_score, m_score,
                   segment_id, previous_segment_id, previous_monetary
              FROM day
            """,
            {"company": company.id, "day": day, "copy": day + timedelta(days=3650)},
        )
        times["writes"].append(time.perf_counter() - t0)
        cr.execute("ROLLBACK TO SAVEPOINT bench_daily_floor")
        t0 = time.perf_counter()
        cr.execute(
            """SELECT percentile_disc(ARRAY[0.2, 0.4, 0.6, 0.8]) WITHIN GROUP (ORDER BY last_purchase_date),
                      percentile_disc(ARRAY[0.2, 0.4, 0.6, 0.8]) WITHIN GROUP (ORDER BY frequency),
                      percentile_disc(ARRAY[0.2, 0.4, 0.6, 0.8]) WITHIN GROUP (ORDER BY monetary)
                 FROM ecrm_rfm_score WHERE company_id = %s""",
            [company.id],
        )
        cr.fetchall()
        times["limits"].append(time.perf_counter() - t0)
    cr.execute("SELECT count(*) FROM ecrm_rfm_snapshot WHERE company_id = %s AND date = %s", [company.id, day])
    return {
        "changed_rows": cr.fetchone()[0],
        "writes_s": min(times["writes"]),
        "limits_s": min(times["limits"]),
        "total_s": min(times["writes"]) + min(times["limits"]),
    }


def _trigger_overhead(cr, company, day, repeat=3):
    """What the engine's log costs the shop: a day of invoices inserted with
    and without the insert trigger (each time rolled back; best of ``repeat``)."""
    times = {"with": [], "without": []}
    count = 0
    for _i in range(repeat):
        for label in ("with", "without"):
            cr.execute("SAVEPOINT bench_trigger")
            if label == "without":
                cr.execute("ALTER TABLE account_move DISABLE TRIGGER ecrm_rfm_touch_insert")
            t0 = time.perf_counter()
            count = _add_a_day_of_invoices(cr, company, day)
            times[label].append(time.perf_counter() - t0)
            cr.execute("ROLLBACK TO SAVEPOINT bench_trigger")
    return {
        "invoices": count,
        "with_trigger_s": min(times["with"]),
        "without_trigger_s": min(times["without"]),
        "per_invoice_us": (min(times["with"]) - min(times["without"])) / max(1, count) * 1e6,
    }


def run(env, options):  # noqa: PLR0915
    """Returns the section's measurements (seconds, ratios, memory) as a dict."""
    cr = env.cr
    company = env.company
    Score = env["ecrm.rfm.score"]
    Partner = env["res.partner"]
    repeat = options.repeat
    base_date = fields.Date.context_today(Partner)
    cr.execute("DELETE FROM account_move WHERE ref = %s", [DAY_REF])
    company.write({"ecrm_rfm_source": "invoice", "ecrm_rfm_window_days": 365, "ecrm_rfm_date": base_date})
    cr.commit()

    def reference(i):
        # the days measured: base_date + 1 .. base_date + repeat
        return base_date + timedelta(days=i + 1)

    # 1. The floor: the engine's own aggregate pass alone, its rows counted and dropped.
    floor_times = []
    for _i in range(repeat):
        t0 = time.perf_counter()
        cr.execute(
            SQL(
                "SELECT count(*) FROM (%s) agg",
                Score._rfm_aggregate_sql(company, base_date - timedelta(days=365), base_date),
            )
        )
        buyers = cr.fetchone()[0]
        floor_times.append(time.perf_counter() - t0)

    # 2. The first refresh ever (every row inserted), from nothing, on base_date.
    for table in ("ecrm_rfm_score", "ecrm_rfm_snapshot", "ecrm_rfm_migration"):
        cr.execute(SQL("DELETE FROM %s WHERE company_id = %s", SQL.identifier(table), company.id))
    cr.commit()
    vacuum(cr.dbname, ["ecrm_rfm_score", "ecrm_rfm_snapshot"])
    t0 = time.perf_counter()
    Score._rfm_refresh_company(company, full=True)
    cr.commit()
    first_refresh_s = time.perf_counter() - t0

    # 3. Each day: a day of invoices, then the full run (rolled back) and the
    #    daily run (committed) on the same state, after a VACUUM of the score
    #    table as autovacuum gives it between two days. Commits are not timed.
    full_times, daily_times, days = [], [], []
    full_with_clv_times, daily_with_clv_times = [], []
    clv_class = type(env["ecrm.clv.score"])
    for i in range(repeat):
        day = reference(i)
        added = _add_a_day_of_invoices(cr, company, day)
        company.ecrm_rfm_date = day
        cr.commit()
        vacuum(cr.dbname, ["ecrm_rfm_score", "ecrm_rfm_touched", "account_move"])
        cr.execute("SELECT count(DISTINCT partner_id) FROM ecrm_rfm_touched WHERE company_id = %s", [company.id])
        touched = cr.fetchone()[0]
        cr.execute("SAVEPOINT bench_full")
        clv_spent = [0.0]
        with _time_spent_in(clv_class, "_clv_refresh_company", clv_spent):
            t0 = time.perf_counter()
            Score._rfm_refresh_company(company, full=True)
            elapsed = time.perf_counter() - t0
        full_times.append(elapsed - clv_spent[0])
        full_with_clv_times.append(elapsed)
        cr.execute("ROLLBACK TO SAVEPOINT bench_full")
        env.invalidate_all()
        daily = Score._rfm_incremental_window(company, day) is not None
        clv_spent = [0.0]
        with _time_spent_in(clv_class, "_clv_refresh_company", clv_spent):
            t0 = time.perf_counter()
            Score._rfm_refresh_company(company)
            elapsed = time.perf_counter() - t0
        daily_times.append(elapsed - clv_spent[0])
        daily_with_clv_times.append(elapsed)
        cr.commit()
        cr.execute("SELECT count(*) FROM ecrm_rfm_snapshot WHERE company_id = %s AND date = %s", [company.id, day])
        days.append(
            {
                "date": day.isoformat(),
                "invoices_added": added,
                "customers_logged": touched,
                "rows_changed": cr.fetchone()[0],
                "daily_run": daily,
            }
        )
    # peak Python memory of one more daily run, on the next day
    day = reference(repeat)
    _add_a_day_of_invoices(cr, company, day)
    company.ecrm_rfm_date = day
    cr.commit()
    refresh_peak = peak_memory(lambda: Score._rfm_refresh_company(company))
    cr.commit()
    cr.execute("SELECT count(*) FROM ecrm_rfm_score WHERE company_id = %s", [company.id])
    scored = cr.fetchone()[0]

    # 4. The idiom: one _read_group over the whole window, scores in Python, then
    #    one ORM write per customer, flushed by the ORM (in batches, as a loop of
    #    writes is in Odoo 18). Timed in full on every customer, rolled back.
    ref = day
    idiom = {}

    def idiom_read_and_score():
        t0 = time.perf_counter()
        groups = env["account.move"]._read_group(
            [
                ("company_id", "=", company.id),
                ("state", "=", "posted"),
                ("move_type", "in", ("out_invoice", "out_refund")),
                ("invoice_date", ">=", ref - timedelta(days=365)),
                ("invoice_date", "<=", ref),
            ],
            groupby=["partner_id", "move_type"],
            aggregates=["__count", "amount_untaxed_signed:sum", "invoice_date:max"],
        )
        idiom["read_group_s"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        figures = {}
        for partner, move_type, count, amount, last in groups:
            entry = figures.setdefault(partner.commercial_partner_id.id, [0, 0.0, None])
            entry[1] += amount
            if move_type == "out_invoice":
                entry[0] += count
                entry[2] = max(last, entry[2]) if entry[2] else last
        figures = {pid: f for pid, f in figures.items() if f[0]}
        pids = list(figures)
        r = tie_aware_scores([figures[p][2].toordinal() for p in pids])
        f = tie_aware_scores([figures[p][0] for p in pids])
        m = tie_aware_scores([round(figures[p][1], 2) for p in pids])
        idiom["scores"] = {p: (r[i], f[i], m[i], figures[p][0], round(figures[p][1], 2)) for i, p in enumerate(pids)}
        idiom["python_scoring_s"] = time.perf_counter() - t0

    idiom_peak = peak_memory(idiom_read_and_score)
    scores = idiom["scores"]
    existing = {s.partner_id.id: s for s in Score.search([("company_id", "=", company.id)])}
    segments = env["ecrm.rfm.segment"].search([])
    cr.execute("SAVEPOINT bench_idiom")
    t0 = time.perf_counter()
    missing = [pid for pid in scores if pid not in existing]  # buyers the engine did not store
    for pid, (r_score, f_score, m_score, frequency, monetary) in scores.items():
        if pid in missing:
            continue
        segment = segments.filtered(
            lambda s, r=r_score, f=f_score, m=m_score: s.r_min <= r <= s.r_max
            and s.f_min <= f <= s.f_max
            and s.m_min <= m <= s.m_max
        )[:1]
        existing[pid].write(
            {
                "r_score": r_score,
                "f_score": f_score,
                "m_score": m_score,
                "frequency": frequency,
                "monetary": monetary,
                "segment_id": segment.id,
            }
        )
    env.flush_all()
    writes_s = time.perf_counter() - t0
    cr.execute("ROLLBACK TO SAVEPOINT bench_idiom")
    env.invalidate_all()
    idiom_total = idiom["read_group_s"] + idiom["python_scoring_s"] + writes_s

    trigger_overhead = _trigger_overhead(cr, company, reference(repeat + 1))
    daily_floor = _daily_floor(cr, company, reference(repeat - 1))

    # 5. Correctness: the engine and the idiom agree on every customer.
    rows = {
        s.partner_id.id: (s.r_score, s.f_score, s.m_score, s.frequency, round(s.monetary, 2))
        for s in Score.search([("company_id", "=", company.id)])
    }
    mismatches = [pid for pid in scores if rows.get(pid) != scores[pid]] + [pid for pid in rows if pid not in scores]

    cr.execute("DELETE FROM account_move WHERE ref = %s", [DAY_REF])
    company.ecrm_rfm_date = base_date
    Score._rfm_refresh_company(company, full=True)
    cr.commit()

    floor_s = statistics.median(floor_times)
    refresh_s = statistics.median(daily_times)
    full_s = statistics.median(full_times)
    return {
        "buying_customers": buyers,
        "scored_rows": scored,
        "floor_s": floor_s,
        "floor_runs_s": floor_times,
        "refresh_s": refresh_s,
        "refresh_runs_s": daily_times,
        "full_refresh_s": full_s,
        "full_refresh_runs_s": full_times,
        "refresh_with_clv_s": statistics.median(daily_with_clv_times),
        "refresh_with_clv_runs_s": daily_with_clv_times,
        "full_refresh_with_clv_s": statistics.median(full_with_clv_times),
        "full_refresh_with_clv_runs_s": full_with_clv_times,
        "days": days,
        "first_refresh_s": first_refresh_s,
        "idiom_s": idiom_total,
        "idiom_extrapolated": False,
        "idiom_detail": {
            "read_group_s": idiom["read_group_s"],
            "python_scoring_s": idiom["python_scoring_s"],
            "writes_s": writes_s,
            "write_per_customer_ms": writes_s / max(1, len(scores)) * 1000,
            "note": "every customer written, one write() each, flushed by the ORM; rolled back",
        },
        "refresh_over_floor": refresh_s / floor_s,
        "full_refresh_over_floor": full_s / floor_s,
        "idiom_over_refresh": idiom_total / refresh_s,
        "idiom_over_full_refresh": idiom_total / full_s,
        "targets": TARGETS,
        "meets_targets": {
            "refresh_over_floor": refresh_s / floor_s <= TARGETS["refresh_over_floor_max"],
            "full_refresh_over_floor": full_s / floor_s <= TARGETS["refresh_over_floor_max"],
            "idiom_over_refresh": idiom_total / refresh_s >= TARGETS["idiom_over_refresh_min"],
        },
        "peak_python_memory_bytes": {"refresh": refresh_peak, "idiom_read_and_score": idiom_peak},
        "engine_vs_idiom_mismatches": len(mismatches),
        "idiom_customers": len(scores),
        "trigger_overhead": trigger_overhead,
        "daily_floor": daily_floor,
        "daily_floor_over_idiom_budget": daily_floor["total_s"] / (idiom_total / TARGETS["idiom_over_refresh_min"]),
        "notes": "refresh = the daily run; times exclude the commit (both runs) and the customer value refresh "
        "the run includes (section clv; with it: *_with_clv_s)",
    }


def table_rows(result):
    """(label, value) lines for the printed table."""
    detail = result["idiom_detail"]
    written = result.get("idiom_customers", result["buying_customers"])
    changed = statistics.median(day["rows_changed"] for day in result["days"]) if result.get("days") else 0
    rows = [
        ("RFM buying customers", f"{result['buying_customers']:,}"),
        ("RFM floor: bare aggregate query", f"{result['floor_s']:.3f} s"),
        (
            "RFM engine: daily run (after a day of invoices)",
            f"{result['refresh_s']:.3f} s  ({changed:,.0f} customers' rows changed)",
        ),
        ("RFM engine: full run (whole window aggregated again)", f"{result['full_refresh_s']:.3f} s"),
        (
            "RFM run with the customer value it refreshes (section clv)",
            f"daily {result['refresh_with_clv_s']:.3f} s, full {result['full_refresh_with_clv_s']:.3f} s"
            if "refresh_with_clv_s" in result
            else "n/a",
        ),
        ("RFM engine: first run ever (every row inserted)", f"{result['first_refresh_s']:.3f} s"),
        (
            "RFM Odoo idiom (every customer written)",
            f"{result['idiom_s']:.1f} s  (read_group {detail['read_group_s']:.2f} s, "
            f"{detail['write_per_customer_ms']:.2f} ms/write x {written:,})",
        ),
        (
            "RFM daily run / floor",
            f"{result['refresh_over_floor']:.2f}x  (target <= {TARGETS['refresh_over_floor_max']:.0f}x: "
            f"{'met' if result['meets_targets']['refresh_over_floor'] else 'MISSED'})",
        ),
        (
            "RFM full run / floor",
            f"{result['full_refresh_over_floor']:.2f}x  (target <= {TARGETS['refresh_over_floor_max']:.0f}x: "
            f"{'met' if result['meets_targets']['full_refresh_over_floor'] else 'MISSED'})",
        ),
        (
            "RFM idiom / daily run",
            f"{result['idiom_over_refresh']:.0f}x  (target >= {TARGETS['idiom_over_refresh_min']:.0f}x: "
            f"{'met' if result['meets_targets']['idiom_over_refresh'] else 'MISSED'}); "
            f"idiom / full run {result['idiom_over_full_refresh']:.0f}x",
        ),
        (
            "RFM peak Python memory",
            f"refresh {result['peak_python_memory_bytes']['refresh'] / 1024:.0f} KiB, "
            f"idiom read+score {result['peak_python_memory_bytes']['idiom_read_and_score'] / 1048576:.1f} MiB",
        ),
        ("RFM engine = idiom on every customer", "yes" if not result["engine_vs_idiom_mismatches"] else "NO"),
    ]
    floor = result.get("daily_floor")
    if floor:
        rows.append(
            (
                "RFM daily floor: the day's writes + quintile limits, bare SQL",
                f"{floor['total_s'] * 1000:.0f} ms  (writing {floor['changed_rows']:,} score and history rows "
                f"{floor['writes_s'] * 1000:.0f} ms, limits {floor['limits_s'] * 1000:.0f} ms) = "
                f"{result['daily_floor_over_idiom_budget']:.2f}x the idiom / 100",
            )
        )
    overhead = result.get("trigger_overhead")
    if overhead:
        rows.append(
            (
                "RFM log triggers: a day of posted invoices inserted",
                f"{overhead['invoices']:,} in {overhead['with_trigger_s'] * 1000:.1f} ms "
                f"({overhead['without_trigger_s'] * 1000:.1f} ms without the trigger: "
                f"{overhead['per_invoice_us']:.0f} us per invoice)",
            )
        )
    return rows
