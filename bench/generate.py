"""Set-based generator of a shop's history at scale, for the benchmarks.

Writes, with a handful of INSERT ... SELECT statements (no ORM call per row):

- ``customers`` res.partner rows (``ref = 'bench'``);
- about ``orders`` confirmed sale.order rows over the last two years, with a
  skewed number of orders per customer (Lomax / Pareto II: many one- or two-time
  buyers, a long tail of loyal ones) and churn (each customer stops buying at
  some point), names ``BENCH/...``;
- one posted customer invoice per order (same customer, date and untaxed
  amount, names ``BINV/...``) and a posted refund for about 3 % of them
  (``BRFD/...``).

Only the columns the RFM engine reads and the ORM needs are written; the other
NOT NULL columns are copied from a template order / invoice / refund made
through the ORM once. No order or invoice lines are generated: the documents
carry their stored totals, which is what the engines read. Use a scratch
database: accounting reports of it are meaningless.
"""

import logging
import random
import time

from odoo import Command, fields
from odoo.tools import SQL

_logger = logging.getLogger(__name__)

MARK = "bench"


def _template_records(env):
    """One order, invoice and refund made through the ORM: their NOT NULL
    columns we do not vary are copied into every generated row."""
    company = env.company
    if not company.chart_template:
        env["account.chart.template"].try_loading("generic_coa", company, install_demo=False)
    product = env["product.product"].search([("default_code", "=", "BENCH")], limit=1) or env["product.product"].create(
        {"name": "Bench product", "default_code": "BENCH", "type": "service", "list_price": 10.0}
    )
    partner = env["res.partner"].search([("ref", "=", "bench-template")], limit=1) or env["res.partner"].create(
        {"name": "Bench template customer", "ref": "bench-template"}
    )
    order = env["sale.order"].search([("client_order_ref", "=", "bench-template")], limit=1)
    if not order:
        order = env["sale.order"].create(
            {
                "partner_id": partner.id,
                "client_order_ref": "bench-template",
                "order_line": [Command.create({"product_id": product.id, "product_uom_qty": 1, "tax_id": []})],
            }
        )
        order.action_confirm()
    invoice = env["account.move"].search([("ref", "=", "bench-template"), ("move_type", "=", "out_invoice")], limit=1)
    if not invoice:
        invoice = env["account.move"].create(
            {
                "move_type": "out_invoice",
                "partner_id": partner.id,
                "ref": "bench-template",
                "invoice_date": fields.Date.today(),
                "invoice_line_ids": [Command.create({"name": "Bench", "price_unit": 10.0, "tax_ids": []})],
            }
        )
        invoice.action_post()
    refund = env["account.move"].search([("ref", "=", "bench-template"), ("move_type", "=", "out_refund")], limit=1)
    if not refund:
        refund = env["account.move"].create(
            {
                "move_type": "out_refund",
                "partner_id": partner.id,
                "ref": "bench-template",
                "invoice_date": fields.Date.today(),
                "invoice_line_ids": [Command.create({"name": "Bench", "price_unit": 5.0, "tax_ids": []})],
            }
        )
        refund.action_post()
    env.flush_all()
    return order, invoice, refund


def _required_columns(cr, table, given):
    """NOT NULL columns without a default that ``given`` does not set."""
    cr.execute(
        SQL(
            """SELECT column_name FROM information_schema.columns
                WHERE table_name = %s AND is_nullable = 'NO' AND column_default IS NULL""",
            table,
        )
    )
    return [name for (name,) in cr.fetchall() if name not in given]


def _insert(cr, table, template_id, columns, select_from):
    """INSERT INTO table (columns + copied NOT NULL columns) SELECT exprs + t.col
    FROM <select_from> CROSS JOIN (the template row) t."""
    copied = _required_columns(cr, table, columns)
    names = [*columns, *copied]
    exprs = [*columns.values(), *(SQL("t.%s", SQL.identifier(name)) for name in copied)]
    cr.execute(
        SQL(
            "INSERT INTO %s (%s) SELECT %s FROM %s CROSS JOIN (SELECT * FROM %s WHERE id = %s) t",
            SQL.identifier(table),
            SQL(", ").join(SQL.identifier(name) for name in names),
            SQL(", ").join(exprs),
            select_from,
            SQL.identifier(table),
            template_id,
        )
    )
    return cr.rowcount


def existing_scale(env):
    cr = env.cr
    cr.execute("SELECT count(*) FROM res_partner WHERE ref = %s", [MARK])
    customers = cr.fetchone()[0]
    cr.execute("SELECT count(*) FROM sale_order WHERE client_order_ref = %s", [MARK])
    orders = cr.fetchone()[0]
    return customers, orders


def delete_generated(env):
    cr = env.cr
    cr.execute("DELETE FROM account_move WHERE ref = %s", [MARK])
    cr.execute("DELETE FROM sale_order WHERE client_order_ref = %s", [MARK])
    cr.execute("DELETE FROM ecrm_rfm_snapshot WHERE partner_id IN (SELECT id FROM res_partner WHERE ref = %s)", [MARK])
    cr.execute("DELETE FROM ecrm_rfm_score WHERE partner_id IN (SELECT id FROM res_partner WHERE ref = %s)", [MARK])
    cr.execute("DELETE FROM res_partner WHERE ref = %s", [MARK])


def generate(env, customers=100_000, orders=1_000_000, seed=42, days=730):
    """Generate the data set in ``env``'s database (committed by the caller).
    Returns the counts and the time each step took."""
    cr = env.cr
    timings = {}
    order_tpl, invoice_tpl, refund_tpl = _template_records(env)
    company = env.company
    today = fields.Date.context_today(env["res.partner"])
    uid = env.uid
    cr.execute(SQL("SELECT setseed(%s)", (random.Random(seed).random() * 2) - 1))

    t0 = time.perf_counter()
    common = {
        "create_uid": SQL("%s", uid),
        "write_uid": SQL("%s", uid),
        "create_date": SQL("NOW() AT TIME ZONE 'UTC'"),
        "write_date": SQL("NOW() AT TIME ZONE 'UTC'"),
    }
    # Customers: Odoo's own sequence gives the ids; the commercial partner is the partner itself.
    cr.execute(
        SQL(
            """
            CREATE TEMP TABLE bench_customer ON COMMIT DROP AS
            SELECT nextval('res_partner_id_seq') AS id, g AS n,
                   -- orders of this customer: 1 + Lomax(alpha 1.5), scaled to the total below
                   1 + 4.5 * (power(1 - random(), -1 / 1.5) - 1) AS weight,
                   -- the day the customer stopped buying (most still buy)
                   floor(%(days)s * power(random(), 3))::int AS churn_days
              FROM generate_series(1, %(customers)s) g
            """,
            days=days,
            customers=customers,
        )
    )
    _insert(
        cr,
        "res_partner",
        env["res.partner"].search([("ref", "=", "bench-template")], limit=1).id,
        {
            "id": SQL("c.id"),
            "commercial_partner_id": SQL("c.id"),
            "name": SQL("'Bench customer ' || c.n"),
            "complete_name": SQL("'Bench customer ' || c.n"),
            "email": SQL("'customer' || c.n || '@bench.example.com'"),
            "ref": SQL("%s", MARK),
            "active": SQL("TRUE"),
            "type": SQL("'contact'"),
            "is_company": SQL("FALSE"),
            "customer_rank": SQL("1"),
            "company_id": SQL("NULL"),
            **common,
        },
        SQL("bench_customer c"),
    )
    timings["customers_s"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    cr.execute("SELECT sum(weight) FROM bench_customer")
    total_weight = cr.fetchone()[0]
    cr.execute(
        SQL(
            """
            CREATE TEMP TABLE bench_order ON COMMIT DROP AS
            SELECT row_number() OVER () AS n, c.id AS partner_id,
                   %(today)s::date - (c.churn_days + floor(random() * (%(days)s - c.churn_days)))::int AS day,
                   round((15 + 250 * power(random(), 2))::numeric, 2) AS amount,
                   random() < 0.03 AS refunded
              FROM bench_customer c
             CROSS JOIN LATERAL generate_series(1, greatest(1, round(c.weight * %(scale)s))::int) s
            """,
            today=today,
            days=days,
            scale=orders / total_weight,
        )
    )
    timings["plan_s"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    order_count = _insert(
        cr,
        "sale_order",
        order_tpl.id,
        {
            "name": SQL("'BENCH/' || lpad(o.n::text, 8, '0')"),
            "client_order_ref": SQL("%s", MARK),
            "partner_id": SQL("o.partner_id"),
            "partner_invoice_id": SQL("o.partner_id"),
            "partner_shipping_id": SQL("o.partner_id"),
            "date_order": SQL("o.day + time '10:00'"),
            "state": SQL("'sale'"),
            "company_id": SQL("%s", company.id),
            "currency_id": SQL("%s", company.currency_id.id),
            "currency_rate": SQL("1.0"),
            "amount_untaxed": SQL("o.amount"),
            "amount_tax": SQL("0"),
            "amount_total": SQL("o.amount"),
            "invoice_status": SQL("'invoiced'"),
            **common,
        },
        SQL("bench_order o"),
    )
    timings["orders_s"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    move_common = {
        "ref": SQL("%s", MARK),
        "state": SQL("'posted'"),
        "partner_id": SQL("o.partner_id"),
        "commercial_partner_id": SQL("o.partner_id"),
        "company_id": SQL("%s", company.id),
        "journal_id": SQL("%s", invoice_tpl.journal_id.id),
        "currency_id": SQL("%s", company.currency_id.id),
        "amount_tax": SQL("0"),
        "amount_tax_signed": SQL("0"),
        "payment_state": SQL("'not_paid'"),
        "auto_post": SQL("'no'"),
        **common,
    }
    invoice_count = _insert(
        cr,
        "account_move",
        invoice_tpl.id,
        {
            **move_common,
            "name": SQL("'BINV/' || lpad(o.n::text, 8, '0')"),
            "move_type": SQL("'out_invoice'"),
            "invoice_origin": SQL("'BENCH/' || lpad(o.n::text, 8, '0')"),
            "date": SQL("o.day"),
            "invoice_date": SQL("o.day"),
            "invoice_date_due": SQL("o.day"),
            "amount_untaxed": SQL("o.amount"),
            "amount_total": SQL("o.amount"),
            "amount_residual": SQL("o.amount"),
            "amount_untaxed_signed": SQL("o.amount"),
            "amount_untaxed_in_currency_signed": SQL("o.amount"),
            "amount_total_signed": SQL("o.amount"),
            "amount_total_in_currency_signed": SQL("o.amount"),
            "amount_residual_signed": SQL("o.amount"),
        },
        SQL("bench_order o"),
    )
    refund_count = _insert(
        cr,
        "account_move",
        refund_tpl.id,
        {
            **move_common,
            "journal_id": SQL("%s", refund_tpl.journal_id.id),
            "name": SQL("'BRFD/' || lpad(o.n::text, 8, '0')"),
            "move_type": SQL("'out_refund'"),
            "date": SQL("o.refund_day"),
            "invoice_date": SQL("o.refund_day"),
            "invoice_date_due": SQL("o.refund_day"),
            "amount_untaxed": SQL("o.refund"),
            "amount_total": SQL("o.refund"),
            "amount_residual": SQL("o.refund"),
            "amount_untaxed_signed": SQL("-o.refund"),
            "amount_untaxed_in_currency_signed": SQL("-o.refund"),
            "amount_total_signed": SQL("-o.refund"),
            "amount_total_in_currency_signed": SQL("-o.refund"),
            "amount_residual_signed": SQL("-o.refund"),
        },
        SQL(
            """(SELECT n, partner_id, round(amount * (0.2 + 0.8 * random())::numeric, 2) AS refund,
                       least(%s::date, day + (1 + floor(random() * 30))::int) AS refund_day
                  FROM bench_order WHERE refunded) o""",
            today,
        ),
    )
    timings["invoices_s"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    for table in ("res_partner", "sale_order", "account_move"):
        cr.execute(SQL("ANALYZE %s", SQL.identifier(table)))
    timings["analyze_s"] = time.perf_counter() - t0
    env.invalidate_all()
    return {
        "customers": customers,
        "orders": order_count,
        "invoices": invoice_count,
        "refunds": refund_count,
        "timings": timings,
    }


def spot_check(env, sample=5, seed=7):
    """Read a few generated records back through the ORM and compare them with
    the rows in SQL. Returns a list of mismatches (empty when all is well)."""
    cr = env.cr
    rng = random.Random(seed)
    problems = []
    checks = [
        (
            "sale.order",
            "sale_order",
            "client_order_ref",
            ["name", "partner_id", "amount_untaxed", "state", "date_order"],
        ),
        (
            "account.move",
            "account_move",
            "ref",
            ["name", "partner_id", "amount_untaxed_signed", "state", "invoice_date"],
        ),
        ("res.partner", "res_partner", "ref", ["name", "email", "commercial_partner_id"]),
    ]
    for model, table, mark_column, names in checks:
        cr.execute(
            SQL(
                "SELECT id FROM %s WHERE %s = %s ORDER BY id",
                SQL.identifier(table),
                SQL.identifier(mark_column),
                MARK,
            )
        )
        ids = [row[0] for row in cr.fetchall()]
        picked = sorted(rng.sample(ids, min(sample, len(ids))))
        env.invalidate_all()
        records = env[model].browse(picked)
        orm = {rec.id: rec.read(names)[0] for rec in records}
        cr.execute(
            SQL(
                "SELECT id, %s FROM %s WHERE id IN %s",
                SQL(", ").join(SQL.identifier(name) for name in names),
                SQL.identifier(table),
                tuple(picked),
            )
        )
        for row in cr.dictfetchall():
            got = orm[row["id"]]
            for name in names:
                value = got[name][0] if isinstance(got[name], tuple) else got[name]
                expected = row[name]
                same = abs(value - float(expected)) < 0.005 if isinstance(value, float) else value == expected
                if not same:
                    problems.append(f"{model}({row['id']}).{name}: ORM {value!r} != SQL {expected!r}")
        # a computed (non-stored) read too: the display name goes through the ORM's logic
        if model == "res.partner":
            for rec in records:
                if not rec.display_name.startswith("Bench customer"):
                    problems.append(f"res.partner({rec.id}).display_name: {rec.display_name!r}")
    return problems
