"""Benchmark of the contact-pressure filter (run inside `odoo shell`).

    odoo shell -d <db with ecrm_addon> --no-http < bench/pressure_bench.py

BENCH_RECIPIENTS (default 100000) customers with an email, BENCH_INTERACTIONS
(default 2000000) outbound touches spread over the last 120 days, two active
rules; then times the mailing's own recipient computation
(``_get_remaining_recipients``) and the pressure filter for every recipient in
one query (``ecrm.pressure.rule._ecrm_check``). Everything is rolled back.
"""

import os
import time

n_partners = int(os.environ.get("BENCH_RECIPIENTS", "100000"))
n_rows = int(os.environ.get("BENCH_INTERACTIONS", "2000000"))
cr = env.cr  # noqa: F821  (odoo shell)
company = env.company  # noqa: F821
t0 = time.time()
cr.execute(
    """
    INSERT INTO res_partner (name, email, email_normalized, active, type, is_company, autopost_bills, company_id)
    SELECT 'Bench ' || g, 'bench' || g || '@example.com', 'bench' || g || '@example.com', TRUE, 'contact', FALSE,
           'ask', NULL
      FROM generate_series(1, %s) g
    RETURNING id
    """,
    [n_partners],
)
ids = [row[0] for row in cr.fetchall()]
cr.execute("UPDATE res_partner SET commercial_partner_id = id WHERE id = ANY(%s)", [ids])
cr.execute(
    """
    INSERT INTO ecrm_interaction (name, partner_id, commercial_partner_id, date, channel, direction, category,
                                  weight, company_id)
    SELECT 'Bench touch', p, p, now() AT TIME ZONE 'UTC' - (random() * 120) * interval '1 day',
           (ARRAY['email', 'email', 'sms', 'phone'])[1 + (g %% 4)], 'outbound',
           (ARRAY['marketing', 'marketing', 'transactional'])[1 + (g %% 3)], 1.0, %s
      FROM (SELECT g, (%s::int[])[1 + (g %% %s)] AS p FROM generate_series(1, %s) g) s
    """,
    [company.id, ids, len(ids), n_rows],
)
cr.execute("ANALYZE ecrm_interaction")
cr.execute("ANALYZE res_partner")
print(f"data: {n_partners} customers, {n_rows} touches in {time.time() - t0:.1f} s")

env["ecrm.pressure.rule"].create(  # noqa: F821
    [
        {"name": "Bench email", "channel": "email", "max_count": 4, "period_days": 30, "min_interval_hours": 48},
        {"name": "Bench all", "channel": "all", "max_count": 10, "period_days": 60},
    ]
)
mailing = env["mailing.mailing"].create(  # noqa: F821
    {
        "subject": "Bench",
        "body_html": "<p>Bench</p>",
        "mailing_model_id": env["ir.model"]._get_id("res.partner"),  # noqa: F821
        "mailing_domain": repr([("email", "=like", "bench%@example.com")]),
    }
)
env.flush_all()  # noqa: F821
t0 = time.time()
res_ids = mailing._get_remaining_recipients()
t_recipients = time.time() - t0
t0 = time.time()
emails = env["res.partner"].browse(res_ids).mapped("email_normalized")  # noqa: F821
t_emails = time.time() - t0
t0 = time.time()
verdicts = env["ecrm.pressure.rule"]._ecrm_check(company, "email", "marketing", keys=emails)  # noqa: F821
t_filter = time.time() - t0
blocked = sum(1 for verdict in verdicts.values() if verdict.rule_id)
print(f"mailing recipients (_get_remaining_recipients): {len(res_ids)} in {t_recipients:.2f} s")
print(f"reading their emails: {t_emails:.2f} s")
print(f"pressure filter (one query): {len(verdicts)} customers, {blocked} blocked in {t_filter:.2f} s")
cr.rollback()
