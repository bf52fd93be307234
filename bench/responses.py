# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Responses section of the benchmark: trace events of mass mailings and SMS
(``--response-events``, 1M by default) folded into the profile by
``mailing.trace._ecrm_fold_responses`` (one INSERT ... SELECT of the inbound
touches, idempotent, then one statement refreshing the response figures of
every customer concerned), next to, in the same run:

- the floor: one bare ``INSERT ... SELECT`` writing the same touches into the
  interaction log (the traces' events resolved to customers through the same
  identity keys, the table's unique index skipping a customer's second
  address in one mailing; no labels, no figures), rolled back.

The section makes its own data, all rolled back at the end: mailings sent to
every generated customer (one a day, email, every fifth SMS to the customers
with a mobile), each send logged as the composers log it, and a trace per
send whose events are drawn as a shop sees them (70 % opened, 25 % clicked,
3 % replied, 2 % bounced) until about ``--response-events`` events.
"""

import math
import statistics
import time

from odoo import fields
from odoo.tools import SQL

TARGETS = {"fold_over_floor_max": 3.0}
DEFAULT_EVENTS = 1_000_000
# events per trace of the generated traces (0.70 + 0.25 + 0.03 + 0.02)
EVENTS_PER_TRACE = 1.0


def _generate(env, events, now):
    """Mailings, logged sends and traces with their events: set-based. Returns (mailings, traces)."""
    import generate

    cr = env.cr
    cr.execute(SQL("SELECT count(*) FROM res_partner WHERE ref = %s AND ecrm_email_key IS NOT NULL", generate.MARK))
    customers = cr.fetchone()[0]
    count = max(1, math.ceil(events / EVENTS_PER_TRACE / customers))
    model_id = env["ir.model"]._get_id("res.partner")
    mailings = env["mailing.mailing"].create(
        [
            {
                "subject": f"[bench] responses {index}",
                "body_html": "<p>Bench</p>",
                "body_plaintext": "Bench",
                "mailing_type": "sms" if index % 5 == 4 else "mail",
                "mailing_model_id": model_id,
                "user_id": env.uid,
            }
            for index in range(count)
        ]
    )
    env.flush_all()
    rows = [(m.id, m.mailing_type, index) for index, m in enumerate(mailings)]
    cr.execute(
        SQL(
            """
            CREATE TEMP TABLE bench_sends ON COMMIT DROP AS
            SELECT m.id AS mailing_id, m.kind, p.id AS partner_id, p.commercial_partner_id, p.ecrm_email_key,
                   p.ecrm_phone_key, %(now)s::timestamp - make_interval(days => %(count)s - m.idx) AS sent,
                   random() AS r
              FROM (VALUES %(rows)s) AS m(id, kind, idx)
              JOIN res_partner p ON p.ref = %(mark)s AND p.ecrm_email_key IS NOT NULL
             WHERE m.kind = 'mail' OR p.ecrm_phone_key IS NOT NULL
            """,
            now=now,
            count=count,
            rows=SQL(", ").join(SQL("(%s, %s, %s)", *row) for row in rows),
            mark=generate.MARK,
        )
    )
    cr.execute(
        SQL(
            """
            INSERT INTO ecrm_interaction
                   (name, partner_id, commercial_partner_id, date, channel, direction, category, weight,
                    res_model, res_id, company_id, create_uid, create_date, write_uid, write_date)
            SELECT '[bench] send', s.commercial_partner_id, s.commercial_partner_id, s.sent,
                   CASE WHEN s.kind = 'sms' THEN 'sms' ELSE 'email' END, 'outbound', 'marketing', 1.0,
                   'mailing.mailing', s.mailing_id, %(company)s, %(uid)s, %(now)s, %(uid)s, %(now)s
              FROM bench_sends s
            """,
            company=env.company.id,
            uid=env.uid,
            now=now,
        )
    )
    cr.execute(
        SQL(
            """
            INSERT INTO mailing_trace
                   (mass_mailing_id, model, res_id, trace_type, email, sms_number, trace_status, sent_datetime,
                    open_datetime, links_click_datetime, reply_datetime, create_uid, create_date, write_uid,
                    write_date)
            SELECT s.mailing_id, 'res.partner', s.partner_id, s.kind,
                   CASE WHEN s.kind = 'mail' THEN s.ecrm_email_key END,
                   CASE WHEN s.kind = 'sms' THEN s.ecrm_phone_key END,
                   CASE WHEN s.r < 0.02 THEN 'bounce' WHEN s.r < 0.05 AND s.kind = 'mail' THEN 'reply'
                        WHEN s.r < 0.72 AND s.kind = 'mail' THEN 'open' ELSE 'sent' END,
                   s.sent,
                   CASE WHEN s.r >= 0.02 AND s.r < 0.72 AND s.kind = 'mail' THEN s.sent + interval '3 hours' END,
                   CASE WHEN s.r >= 0.72 OR (s.kind = 'sms' AND s.r >= 0.02 AND s.r < 0.27)
                        THEN s.sent + interval '4 hours' END,
                   CASE WHEN s.r >= 0.02 AND s.r < 0.05 AND s.kind = 'mail' THEN s.sent + interval '5 hours' END,
                   %(uid)s, s.sent, %(uid)s, s.sent + interval '6 hours'
              FROM bench_sends s
            """,
            uid=env.uid,
        )
    )
    cr.execute("SELECT count(*) FROM bench_sends")
    traces = cr.fetchone()[0]
    cr.execute("DROP TABLE bench_sends")
    cr.execute("ANALYZE mailing_trace")
    cr.execute("ANALYZE ecrm_interaction")
    return mailings, traces


def _floor_sql(since):
    return SQL(
        """
        WITH events AS (
            SELECT t.mass_mailing_id, t.trace_type, t.email, t.sms_number, ev.kind, ev.date,
                   COALESCE(u.company_id, 1) AS company_id
              FROM mailing_trace t
              JOIN mailing_mailing m ON m.id = t.mass_mailing_id
              LEFT JOIN res_users u ON u.id = m.user_id
             CROSS JOIN LATERAL (VALUES ('open', t.open_datetime), ('click', t.links_click_datetime),
                                        ('reply', t.reply_datetime),
                                        ('bounce', CASE WHEN t.trace_status = 'bounce' THEN t.write_date END))
                   AS ev(kind, date)
             WHERE t.write_date > %(since)s AND ev.date IS NOT NULL
        )
        INSERT INTO ecrm_interaction
               (name, partner_id, commercial_partner_id, date, channel, direction, category, weight,
                res_model, res_id, company_id, ecrm_response)
        SELECT e.kind, p.commercial_partner_id, p.commercial_partner_id, e.date, 'email', 'inbound', 'marketing',
               0.0, 'mailing.mailing', e.mass_mailing_id, e.company_id, e.kind
          FROM events e JOIN res_partner p ON p.ecrm_email_key = e.email
         WHERE e.trace_type <> 'sms' AND p.active
        UNION ALL
        SELECT e.kind, p.commercial_partner_id, p.commercial_partner_id, e.date, 'sms', 'inbound', 'marketing',
               0.0, 'mailing.mailing', e.mass_mailing_id, e.company_id, e.kind
          FROM events e JOIN res_partner p ON p.ecrm_phone_key = e.sms_number
         WHERE e.trace_type = 'sms' AND p.active
            ON CONFLICT (partner_id, res_id, ecrm_response) WHERE ecrm_response IS NOT NULL DO NOTHING
        """,
        since=since,
    )


def _timed(env, fn, repeat):
    """Run ``fn`` ``repeat`` times, each in a savepoint rolled back after it."""
    times, result = [], None
    for _i in range(repeat):
        env.invalidate_all()
        env.cr.execute("SAVEPOINT bench_responses_run")
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
        env.cr.execute("ROLLBACK TO SAVEPOINT bench_responses_run")
        env.invalidate_all()
    return times, result


def run(env, options):
    cr = env.cr
    events_wanted = getattr(options, "response_events", None) or DEFAULT_EVENTS
    now = fields.Datetime.now()
    cr.execute("SAVEPOINT bench_responses")
    t0 = time.perf_counter()
    mailings, traces = _generate(env, events_wanted, now)
    generate_s = time.perf_counter() - t0
    cr.execute(
        SQL(
            "SELECT min(write_date) - interval '1 second' FROM mailing_trace WHERE mass_mailing_id = ANY(%s)",
            mailings.ids,
        )
    )
    since = cr.fetchone()[0]
    cr.execute(
        SQL(
            """SELECT count(*) FILTER (WHERE open_datetime IS NOT NULL)
                    + count(*) FILTER (WHERE links_click_datetime IS NOT NULL)
                    + count(*) FILTER (WHERE reply_datetime IS NOT NULL)
                    + count(*) FILTER (WHERE trace_status = 'bounce')
                 FROM mailing_trace WHERE mass_mailing_id = ANY(%s)""",
            mailings.ids,
        )
    )
    events = cr.fetchone()[0]
    Trace = env["mailing.trace"]

    def floor():
        cr.execute(_floor_sql(since))
        return cr.rowcount

    def fold():
        return Trace._ecrm_fold_responses(since=since)

    def fold_only():
        return Trace._ecrm_fold_responses(since=since, refresh=False)

    floor_times, floor_rows = _timed(env, floor, options.repeat)
    fold_times, fold_rows = _timed(env, fold, options.repeat)
    insert_times, _rows = _timed(env, fold_only, options.repeat)

    # once more, kept until the end: a second fold adds nothing (idempotent),
    # and the figures it wrote
    fold()
    t0 = time.perf_counter()
    again = fold()
    again_s = time.perf_counter() - t0
    cr.execute(SQL("SELECT count(*), count(*) FILTER (WHERE unresponsive) FROM ecrm_response_score"))
    scores, unresponsive = cr.fetchone()
    cr.execute("ROLLBACK TO SAVEPOINT bench_responses")
    env.invalidate_all()

    floor_s = statistics.median(floor_times)
    fold_s = statistics.median(fold_times)
    insert_s = statistics.median(insert_times)
    ratio = fold_s / floor_s if floor_s else None
    return {
        "events_wanted": events_wanted,
        "events": events,
        "traces": traces,
        "mailings": len(mailings),
        "generate_s": generate_s,
        "floor_s": floor_s,
        "floor_runs_s": floor_times,
        "floor_rows": floor_rows,
        "fold_s": fold_s,
        "fold_runs_s": fold_times,
        "fold_rows": fold_rows,
        "fold_insert_only_s": insert_s,
        "fold_insert_only_runs_s": insert_times,
        "refold_s": again_s,
        "refold_rows": again,
        "response_scores": scores,
        "unresponsive_scores": unresponsive,
        "fold_over_floor": ratio,
        "targets": {"fold_over_floor": f"<= {TARGETS['fold_over_floor_max']:.0f}x"},
        "meets_targets": {"fold_over_floor": ratio is not None and ratio <= TARGETS["fold_over_floor_max"]},
        "engine_rows_equal_floor": fold_rows == floor_rows,
    }


def table_rows(result):
    from benchlib import fmt_ratio, fmt_seconds

    met = "met" if result["meets_targets"]["fold_over_floor"] else "MISSED"
    return [
        (
            "Responses: trace events / traces / mailings",
            f"{result['events']:,} / {result['traces']:,} / {result['mailings']:,}",
        ),
        ("Responses floor: bare INSERT ... SELECT of the touches", fmt_seconds(result["floor_s"])),
        (
            "Responses fold (touches + figures of the customers concerned)",
            f"{fmt_seconds(result['fold_s'])}  (touches alone {fmt_seconds(result['fold_insert_only_s'])})",
        ),
        (
            "Responses fold / floor",
            f"{fmt_ratio(result['fold_over_floor'])}  (target <= {TARGETS['fold_over_floor_max']:.0f}x: {met})",
        ),
        (
            "Responses second fold (nothing new)",
            f"{fmt_seconds(result['refold_s'])}, {result['refold_rows']:,} touches",
        ),
        (
            "Responses engine rows = floor rows",
            "yes"
            if result["engine_rows_equal_floor"]
            else f"NO (engine {result['fold_rows']:,}, floor {result['floor_rows']:,})",
        ),
    ]
