"""RFM section of the benchmark: the engine's full refresh next to the bare
aggregate query (the floor) and the Odoo idiom (one ``_read_group`` plus one
ORM write per customer), all measured in the same run on the same data."""

import statistics
import time
import tracemalloc
from datetime import timedelta

from odoo import fields
from odoo.addons.ecrm_addon.tools.scoring import tie_aware_scores
from odoo.tools import SQL

TARGETS = {"refresh_over_floor_max": 4.0, "idiom_over_refresh_min": 100.0}


def _timed(fn, repeat):
    times, result = [], None
    for i in range(repeat):
        t0 = time.perf_counter()
        result = fn(i)
        times.append(time.perf_counter() - t0)
    return times, result


def _peak_memory(fn):
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def _vacuum(dbname, tables):
    """VACUUM ANALYZE outside any transaction (own autocommit connection)."""
    import psycopg2

    from odoo.sql_db import connection_info_for

    _name, info = connection_info_for(dbname)
    conn = psycopg2.connect(**info)
    try:
        conn.autocommit = True
        with conn.cursor() as cursor:
            for table in tables:
                cursor.execute(SQL("VACUUM ANALYZE %s", SQL.identifier(table)).code)
    finally:
        conn.close()


def run(env, options):  # noqa: PLR0915
    """Returns the section's measurements (seconds, ratios, memory) as a dict."""
    cr = env.cr
    company = env.company
    Score = env["ecrm.rfm.score"]
    Partner = env["res.partner"]
    repeat = options.repeat
    base_date = fields.Date.context_today(Partner)
    company.write({"ecrm_rfm_source": "invoice", "ecrm_rfm_window_days": 365, "ecrm_rfm_date": base_date})
    cr.commit()

    def reference(i):
        # a new reference day per repetition, as the daily cron sees it: new
        # snapshot rows, score rows updated in place
        return base_date - timedelta(days=repeat - 1 - i)

    # 1. The floor: the engine's own aggregate pass alone, its rows counted and dropped.
    def floor(i):
        ref = reference(i)
        cr.execute(
            SQL(
                "SELECT count(*) FROM (%s) agg",
                Score._rfm_aggregate_sql(company, ref - timedelta(days=365), ref),
            )
        )
        return cr.fetchone()[0]

    floor_times, buyers = _timed(floor, repeat)

    # 2. The engine: score, segment, upsert, zero/drop leavers, history; committed.
    #    The first refresh of a date never computed before inserts every row
    #    (reported apart); then the daily runs, each on the next day, after a
    #    VACUUM of the score table as autovacuum gives it between two days.
    def refresh(i):
        company.ecrm_rfm_date = reference(i)
        Partner._ecrm_compute_rfm_company(company)
        cr.commit()

    # start from nothing, so that the first refresh is the cold one (scratch database)
    for table in ("ecrm_rfm_score", "ecrm_rfm_snapshot", "ecrm_rfm_migration"):
        cr.execute(SQL("DELETE FROM %s WHERE company_id = %s", SQL.identifier(table), company.id))
    cr.commit()
    _vacuum(cr.dbname, ["ecrm_rfm_score", "ecrm_rfm_snapshot"])
    t0 = time.perf_counter()
    company.ecrm_rfm_date = reference(0) - timedelta(days=1)
    Partner._ecrm_compute_rfm_company(company)
    cr.commit()
    first_refresh_s = time.perf_counter() - t0

    def daily(i):
        _vacuum(cr.dbname, ["ecrm_rfm_score"])
        t0 = time.perf_counter()
        refresh(i)
        return time.perf_counter() - t0

    refresh_times = [daily(i) for i in range(repeat)]
    _vacuum(cr.dbname, ["ecrm_rfm_score"])
    refresh_peak = _peak_memory(lambda: refresh(repeat - 1))
    cr.execute("SELECT count(*) FROM ecrm_rfm_score WHERE company_id = %s", [company.id])
    scored = cr.fetchone()[0]

    # 3. The idiom: one _read_group over the whole window, scores in Python,
    #    then one ORM write per customer. The read and the scoring run in full;
    #    the writes on a sample, extrapolated linearly to every customer.
    ref = reference(repeat - 1)
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
            groupby=["commercial_partner_id", "move_type"],
            aggregates=["__count", "amount_untaxed_signed:sum", "invoice_date:max"],
        )
        idiom["read_group_s"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        figures = {}
        for partner, move_type, count, amount, last in groups:
            entry = figures.setdefault(partner.id, [0, 0.0, None])
            entry[1] += amount
            if move_type == "out_invoice":
                entry[0] += count
                entry[2] = last
        figures = {pid: f for pid, f in figures.items() if f[0]}
        pids = list(figures)
        r = tie_aware_scores([figures[p][2].toordinal() for p in pids])
        f = tie_aware_scores([figures[p][0] for p in pids])
        m = tie_aware_scores([round(figures[p][1], 2) for p in pids])
        idiom["scores"] = {p: (r[i], f[i], m[i], figures[p][0], round(figures[p][1], 2)) for i, p in enumerate(pids)}
        idiom["python_scoring_s"] = time.perf_counter() - t0

    idiom_peak = _peak_memory(idiom_read_and_score)
    scores = idiom["scores"]
    sample_ids = sorted(scores)[:: max(1, len(scores) // options.idiom_sample)][: options.idiom_sample]
    existing = {s.partner_id.id: s for s in Score.search([("company_id", "=", company.id)])}
    segments = env["ecrm.rfm.segment"].search([])
    cr.execute("SAVEPOINT bench_idiom")
    t0 = time.perf_counter()
    for pid in sample_ids:
        r_score, f_score, m_score, frequency, monetary = scores[pid]
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
        env.flush_all()  # one UPDATE per customer, as a loop of writes does
    write_sample_s = time.perf_counter() - t0
    cr.execute("ROLLBACK TO SAVEPOINT bench_idiom")
    env.invalidate_all()
    write_per_customer = write_sample_s / max(1, len(sample_ids))
    idiom_total = idiom["read_group_s"] + idiom["python_scoring_s"] + write_per_customer * len(scores)

    # 4. Correctness: the engine and the idiom agree on the sample.
    rows = {
        s.partner_id.id: (s.r_score, s.f_score, s.m_score, s.frequency, round(s.monetary, 2))
        for s in Score.search([("company_id", "=", company.id), ("partner_id", "in", sample_ids)])
    }
    mismatches = [pid for pid in sample_ids if rows.get(pid) != scores[pid]]

    floor_s = statistics.median(floor_times)
    refresh_s = statistics.median(refresh_times)
    return {
        "buying_customers": buyers,
        "scored_rows": scored,
        "floor_s": floor_s,
        "floor_runs_s": floor_times,
        "refresh_s": refresh_s,
        "refresh_runs_s": refresh_times,
        "first_refresh_s": first_refresh_s,
        "idiom_s": idiom_total,
        "idiom_extrapolated": True,
        "idiom_detail": {
            "read_group_s": idiom["read_group_s"],
            "python_scoring_s": idiom["python_scoring_s"],
            "write_sample_customers": len(sample_ids),
            "write_sample_s": write_sample_s,
            "write_per_customer_ms": write_per_customer * 1000,
            "note": "read_group and scoring timed in full; the per-customer ORM writes timed on the sample "
            "(rolled back) and extrapolated linearly to every buying customer",
        },
        "refresh_over_floor": refresh_s / floor_s,
        "idiom_over_refresh": idiom_total / refresh_s,
        "targets": TARGETS,
        "meets_targets": {
            "refresh_over_floor": refresh_s / floor_s <= TARGETS["refresh_over_floor_max"],
            "idiom_over_refresh": idiom_total / refresh_s >= TARGETS["idiom_over_refresh_min"],
        },
        "peak_python_memory_bytes": {"refresh": refresh_peak, "idiom_read_and_score": idiom_peak},
        "engine_vs_idiom_mismatches": len(mismatches),
    }


def table_rows(result):
    """(label, value) lines for the printed table."""
    detail = result["idiom_detail"]
    return [
        ("RFM buying customers", f"{result['buying_customers']:,}"),
        ("RFM floor: bare aggregate query", f"{result['floor_s']:.3f} s"),
        ("RFM engine: full refresh (committed, daily run)", f"{result['refresh_s']:.3f} s"),
        ("RFM engine: first refresh ever (every row inserted)", f"{result['first_refresh_s']:.3f} s"),
        (
            "RFM Odoo idiom (extrapolated)",
            f"{result['idiom_s']:.1f} s  (read_group {detail['read_group_s']:.2f} s, "
            f"{detail['write_per_customer_ms']:.2f} ms/write x {result['buying_customers']:,}, "
            f"sample {detail['write_sample_customers']})",
        ),
        (
            "RFM refresh / floor",
            f"{result['refresh_over_floor']:.2f}x  (target <= {TARGETS['refresh_over_floor_max']:.0f}x: "
            f"{'met' if result['meets_targets']['refresh_over_floor'] else 'MISSED'})",
        ),
        (
            "RFM idiom / refresh",
            f"{result['idiom_over_refresh']:.0f}x  (target >= {TARGETS['idiom_over_refresh_min']:.0f}x: "
            f"{'met' if result['meets_targets']['idiom_over_refresh'] else 'MISSED'})",
        ),
        (
            "RFM peak Python memory",
            f"refresh {result['peak_python_memory_bytes']['refresh'] / 1024:.0f} KiB, "
            f"idiom read+score {result['peak_python_memory_bytes']['idiom_read_and_score'] / 1048576:.1f} MiB",
        ),
        ("RFM engine = idiom on the sample", "yes" if not result["engine_vs_idiom_mismatches"] else "NO"),
    ]
