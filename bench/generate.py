# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Set-based generator of a shop's history at scale, for the benchmarks.

Writes, with a handful of INSERT ... SELECT statements (no ORM call per row):

- ``customers`` res.partner rows (``ref = 'bench'``);
- about ``orders`` confirmed sale.order rows over the last two years, with a
  skewed number of orders per customer (Lomax / Pareto II: many one- or two-time
  buyers, a long tail of loyal ones) and churn (each customer stops buying at
  some point), names ``BENCH/...``;
- one posted customer invoice per order (same customer, date and untaxed
  amount, names ``BINV/...``) and a posted refund for about 3 % of them
  (``BRFD/...``);
- about ``interactions`` rows of the interaction log (``ecrm.interaction``,
  summaries ``[bench] ...``) over the same two years, on realistic channels,
  directions and categories, more of them for the customers who buy more, the
  marketing ones denser in the recent months;
- ``cases`` open cases (``ecrm.case``, references ``BCASE/...``) under one SLA
  policy with one escalation level, ``due`` of them due now.

About 1 % of the customers share an email address with another customer
(written differently) and about 1 % a phone number: the duplicate scan has
something to find. The identity keys and normalised columns Odoo and the
addon compute (``email_normalized``, ``phone_sanitized``, ``ecrm_*_key``) are
written with the rows.

Only the columns the RFM engine reads and the ORM needs are written; the other
NOT NULL columns are copied from a template order / invoice / refund made
through the ORM once. No order or invoice lines are generated: the documents
carry their stored totals, which is what the engines read. Use a scratch
database: accounting reports of it are meaningless.

Every table is written as a bulk load (``BulkLoad``): plain indexes built
again at the end, no trigger firing when the role may say so (the RFM log
then written with the documents), the same rows as with the triggers.
"""

import logging
import random
import time

import benchlib

from odoo import Command, fields
from odoo.tools import SQL

_logger = logging.getLogger(__name__)

MARK = "bench"
INTERACTION_MARK = "[bench] "
CASE_PREFIX = "BCASE/"
CASE_POLICY = "[bench] policy"
# one in DUPLICATE_EVERY customers shares its email (or phone) with the previous one
DUPLICATE_EVERY = 97
PHONE_DUPLICATE_EVERY = 89


def _index_catalogue(cr, tables):
    """Every index of ``tables``: name, definition (pg_get_indexdef, enough to
    build it again as it was), unique, constraint (backs a constraint)."""
    cr.execute(
        SQL(
            """SELECT i.relname AS name, pg_get_indexdef(x.indexrelid) AS definition,
                      x.indrelid::regclass::text AS table_name,
                      quote_ident(n.nspname) || '.' || quote_ident(c.relname) AS qualified,
                      x.indisunique OR x.indisprimary AS unique,
                      EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = x.indexrelid) AS constraint,
                      pg_has_role(c.relowner, 'USAGE') AS owned
                 FROM pg_index x
                 JOIN pg_class i ON i.oid = x.indexrelid
                 JOIN pg_class c ON c.oid = x.indrelid
                 JOIN pg_namespace n ON n.oid = c.relnamespace
                WHERE x.indrelid = ANY(%s::regclass[])
             ORDER BY x.indrelid, i.relname""",
            list(tables),
        )
    )
    return cr.dictfetchall()


def _rebuildable(cr, indexes):
    """The ``indexes`` whose captured definition builds them again exactly as
    they are: PostgreSQL writes some expressions back differently from how
    they were first given (``IN (...)`` as ``= ANY (ARRAY...)``), the same
    index under another text. Each is tried on an empty copy of its table."""
    exact = []
    for index in indexes:
        cr.execute("DROP TABLE IF EXISTS bench_index_probe")
        cr.execute(SQL("CREATE TEMP TABLE bench_index_probe (LIKE %s)", SQL.identifier(index["table_name"])))
        # pg_temp: how pg_get_indexdef names the session's own temporary schema
        definition = benchlib.retarget_index(index["definition"], index["qualified"], "pg_temp.bench_index_probe")
        if definition is None:
            continue
        cr.execute(definition)
        cr.execute("SELECT pg_get_indexdef(indexrelid) FROM pg_index WHERE indrelid = 'bench_index_probe'::regclass")
        if cr.fetchone()[0] == definition:
            exact.append(index)
    cr.execute("DROP TABLE IF EXISTS bench_index_probe")
    return exact


def _can_skip_triggers(cr, tables):
    """Whether the load may run with ``session_replication_role = replica``
    (no trigger fires, foreign keys included): only a superuser may set it,
    and the only insert triggers of ``tables`` must be the RFM log's, which
    the generator writes itself."""
    cr.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
    if not cr.fetchone()[0]:
        return False
    cr.execute(
        SQL(
            # tgtype bit 2: an INSERT trigger
            """SELECT count(*) FROM pg_trigger
                WHERE NOT tgisinternal AND tgrelid = ANY(%s::regclass[]) AND tgtype & 4 <> 0
                  AND tgname <> 'ecrm_rfm_touch_insert'""",
            list(tables),
        )
    )
    return not cr.fetchone()[0]


class BulkLoad:
    """A fast load of ``tables`` in the caller's transaction, between
    ``BulkLoad(cr, tables)`` and ``finish()``: their plain indexes (neither
    unique nor backing a constraint) are dropped, then built again at the end
    from their captured definitions; when allowed (see ``_can_skip_triggers``)
    no trigger fires, foreign-key checks included: the generator's rows are
    valid by construction, and it writes the RFM log the triggers would have
    written (``_insert(log=bulk.source(...))``). Without that privilege
    the triggers fire as usual.

    All of it is transactional: a failure or a crash before the commit rolls
    the drops back with the rows, no table is ever left without its indexes."""

    def __init__(self, cr, tables):
        self.cr = cr
        self.tables = list(tables)
        self.before = _index_catalogue(cr, self.tables)
        self.dropped = _rebuildable(cr, benchlib.droppable_indexes(self.before))
        self.skip_triggers = _can_skip_triggers(cr, self.tables)
        for index in self.dropped:
            cr.execute(SQL("DROP INDEX %s", SQL.identifier(index["name"])))
        if self.skip_triggers:
            cr.execute("SELECT current_setting('session_replication_role')")
            self.role = cr.fetchone()[0]
            cr.execute("SELECT set_config('session_replication_role', 'replica', true)")

    def source(self, name):
        """``name`` (an RFM source) when the generator must log it itself, else None."""
        return name if self.skip_triggers else None

    def finish(self):
        cr = self.cr
        if self.skip_triggers:
            cr.execute(SQL("SELECT set_config('session_replication_role', %s, true)", self.role))
        for index in self.dropped:
            # as PostgreSQL wrote it (no parameter: a "%" in it stays as it is)
            cr.execute(index["definition"])
        differences = benchlib.index_differences(self.before, _index_catalogue(cr, self.tables))
        if differences:
            raise RuntimeError("the indexes built again differ: " + "; ".join(differences))


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


def _insert(cr, table, template_id, columns, select_from, log=None):
    """INSERT INTO table (columns + copied NOT NULL columns) SELECT exprs + t.col
    FROM <select_from> CROSS JOIN (the template row) t. Returns the rows inserted.

    Without ``template_id`` every NOT NULL column must be in ``columns``.
    ``log``: the RFM source (a key of RFM_SOURCES) whose log the same
    statement writes, as its insert trigger would (for a load without triggers)."""
    copied = _required_columns(cr, table, columns)
    if template_id is None:
        if copied:
            raise ValueError(f"{table}: NOT NULL columns without a value: {', '.join(copied)}")
        template = SQL()
    else:
        template = SQL(" CROSS JOIN (SELECT * FROM %s WHERE id = %s) t", SQL.identifier(table), template_id)
    names = [*columns, *copied]
    exprs = [*columns.values(), *(SQL("t.%s", SQL.identifier(name)) for name in copied)]
    insert = SQL(
        "INSERT INTO %s (%s) SELECT %s FROM %s%s",
        SQL.identifier(table),
        SQL(", ").join(SQL.identifier(name) for name in names),
        SQL(", ").join(exprs),
        select_from,
        template,
    )
    if not log:
        cr.execute(insert)
        return cr.rowcount
    from odoo.addons.ecrm_addon.models.ecrm_rfm_score import RFM_SOURCES, RFM_TOUCHED_TABLE

    source = RFM_SOURCES[log]
    if source["table"] != table:
        raise ValueError(f"{table} is not the table of the RFM source {log}")
    # the condition and the row of ecrm_rfm_touch_source() on INSERT
    cr.execute(
        SQL(
            """WITH inserted AS (%(insert)s RETURNING %(columns)s),
                    logged AS (INSERT INTO %(touched)s (company_id, partner_id, source)
                               SELECT company_id, partner_id, %(log)s FROM inserted new
                                WHERE (%(counted)s) AND partner_id IS NOT NULL AND company_id IS NOT NULL)
               SELECT count(*) FROM inserted""",
            insert=insert,
            columns=SQL(", ").join(SQL.identifier(column) for column in source["columns"]),
            touched=SQL.identifier(RFM_TOUCHED_TABLE),
            log=log,
            counted=SQL(source["counted"].format(row="new")),
        )
    )
    return cr.fetchone()[0]


def _order_chunks(cr):
    """Ranges of n of the planned orders, CHUNK_ROWS each: the rows of
    bench_order are in the order of n, so its chunks in turn read them (and
    draw their random numbers) in the order of one scan of the whole."""
    cr.execute("CREATE INDEX ON bench_order (n)")
    cr.execute("ANALYZE bench_order")
    cr.execute("SELECT count(*) FROM bench_order")
    return benchlib.chunk_ranges(1, cr.fetchone()[0])


def _planned(low, high, columns=None, where=None):
    """The planned orders ``low..high`` (``o``): ``columns`` of them (default
    all) where ``where`` (default all)."""
    return SQL(
        "(SELECT %s FROM bench_order WHERE n BETWEEN %s AND %s AND %s) o",
        columns or SQL("*"),
        low,
        high,
        where or SQL("TRUE"),
    )


def existing_scale(env):
    cr = env.cr
    cr.execute("SELECT count(*) FROM res_partner WHERE ref = %s", [MARK])
    customers = cr.fetchone()[0]
    cr.execute("SELECT count(*) FROM sale_order WHERE client_order_ref = %s", [MARK])
    orders = cr.fetchone()[0]
    return customers, orders


def existing_volumes(env):
    """Counts of every kind of generated row (0 for what is not there)."""
    cr = env.cr
    customers, orders = existing_scale(env)
    cr.execute(
        "SELECT count(*) FILTER (WHERE move_type = 'out_invoice'), count(*) FILTER (WHERE move_type = 'out_refund')"
        "  FROM account_move WHERE ref = %s",
        [MARK],
    )
    invoices, refunds = cr.fetchone()
    cr.execute("SELECT count(*) FROM ecrm_interaction WHERE name LIKE %s", [INTERACTION_MARK + "%"])
    interactions = cr.fetchone()[0]
    cr.execute(
        "SELECT count(*), count(*) FILTER (WHERE next_escalation_at <= now() AT TIME ZONE 'UTC')"
        "  FROM ecrm_case WHERE name LIKE %s",
        [CASE_PREFIX + "%"],
    )
    cases, due = cr.fetchone()
    return {
        "customers": customers,
        "orders": orders,
        "invoices": invoices,
        "refunds": refunds,
        "interactions": interactions,
        "cases": cases,
        "due_cases": due,
    }


def delete_interactions(env):
    env.cr.execute("DELETE FROM ecrm_interaction WHERE name LIKE %s", [INTERACTION_MARK + "%"])
    env.invalidate_all()


def delete_cases(env):
    cr = env.cr
    cr.execute("DELETE FROM ecrm_case WHERE name LIKE %s", [CASE_PREFIX + "%"])
    cr.execute(
        "DELETE FROM ecrm_interaction WHERE res_model = 'ecrm.case' AND res_id NOT IN (SELECT id FROM ecrm_case)"
    )
    env.invalidate_all()


def delete_generated(env):
    cr = env.cr
    delete_cases(env)
    delete_interactions(env)
    cr.execute("DELETE FROM ecrm_duplicate_group")
    cr.execute("DELETE FROM account_move WHERE ref = %s", [MARK])
    cr.execute("DELETE FROM sale_order WHERE client_order_ref = %s", [MARK])
    cr.execute("DELETE FROM ecrm_rfm_snapshot WHERE partner_id IN (SELECT id FROM res_partner WHERE ref = %s)", [MARK])
    cr.execute("DELETE FROM ecrm_rfm_score WHERE partner_id IN (SELECT id FROM res_partner WHERE ref = %s)", [MARK])
    cr.execute("DELETE FROM res_partner WHERE ref = %s", [MARK])


def generate(env, customers=100_000, orders=1_000_000, seed=42, days=730, interactions=0, cases=0, due=1000):
    """Generate the data set in ``env``'s database (committed by the caller).
    Returns the counts and the time each step took."""
    cr = env.cr
    timings = {}
    order_tpl, invoice_tpl, refund_tpl = _template_records(env)
    company = env.company
    today = fields.Date.context_today(env["res.partner"])
    uid = env.uid
    from odoo.addons.ecrm_addon.models.ecrm_rfm_score import RFM_TOUCHED_TABLE

    cr.execute(SQL("SELECT setseed(%s)", (random.Random(seed).random() * 2) - 1))
    bulk = BulkLoad(cr, ("res_partner", "sale_order", "account_move", RFM_TOUCHED_TABLE))

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
            # a duplicate writes the previous customer's address in capitals: same key
            "email": SQL(
                "CASE WHEN mod(c.n, %s) = 0 THEN 'Customer' || (c.n - 1) || '@Bench.example.com'"
                " ELSE 'customer' || c.n || '@bench.example.com' END",
                DUPLICATE_EVERY,
            ),
            "email_normalized": SQL(
                "'customer' || (CASE WHEN mod(c.n, %s) = 0 THEN c.n - 1 ELSE c.n END) || '@bench.example.com'",
                DUPLICATE_EVERY,
            ),
            "ecrm_email_key": SQL(
                "'customer' || (CASE WHEN mod(c.n, %s) = 0 THEN c.n - 1 ELSE c.n END) || '@bench.example.com'",
                DUPLICATE_EVERY,
            ),
            # three customers in five give a Spanish mobile number
            "phone": SQL(
                "CASE WHEN mod(c.n, 5) < 3 THEN '+34 6' || lpad((c.n - (mod(c.n, %s) = 0)::int)::text, 8, '0') END",
                PHONE_DUPLICATE_EVERY,
            ),
            "phone_sanitized": SQL(
                "CASE WHEN mod(c.n, 5) < 3 THEN '+346' || lpad((c.n - (mod(c.n, %s) = 0)::int)::text, 8, '0') END",
                PHONE_DUPLICATE_EVERY,
            ),
            "ecrm_phone_key": SQL(
                "CASE WHEN mod(c.n, 5) < 3 THEN '+346' || lpad((c.n - (mod(c.n, %s) = 0)::int)::text, 8, '0') END",
                PHONE_DUPLICATE_EVERY,
            ),
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
    chunks = _order_chunks(cr)
    timings["plan_s"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    order_columns = {
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
    }
    order_count = sum(
        _insert(cr, "sale_order", order_tpl.id, order_columns, _planned(low, high), log=bulk.source("sale"))
        for low, high in chunks
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
    invoice_columns = {
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
    }
    invoice_count = sum(
        _insert(cr, "account_move", invoice_tpl.id, invoice_columns, _planned(low, high), log=bulk.source("invoice"))
        for low, high in chunks
    )
    refund_columns = {
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
    }
    refund_count = sum(
        _insert(
            cr,
            "account_move",
            refund_tpl.id,
            refund_columns,
            _planned(
                low,
                high,
                SQL(
                    """n, partner_id, round(amount * (0.2 + 0.8 * random())::numeric, 2) AS refund,
                       least(%s::date, day + (1 + floor(random() * 30))::int) AS refund_day""",
                    today,
                ),
                SQL("refunded"),
            ),
            log=bulk.source("invoice"),
        )
        for low, high in chunks
    )
    timings["invoices_s"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    bulk.finish()
    timings["indexes_s"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    for table in ("res_partner", "sale_order", "account_move", RFM_TOUCHED_TABLE):
        cr.execute(SQL("ANALYZE %s", SQL.identifier(table)))
    timings["analyze_s"] = time.perf_counter() - t0
    env.invalidate_all()
    result = {
        "customers": customers,
        "orders": order_count,
        "invoices": invoice_count,
        "refunds": refund_count,
        "timings": timings,
        # the path taken (see BulkLoad): without the privilege the triggers fire
        "bulk_load": {"triggers_skipped": bulk.skip_triggers, "indexes_rebuilt": len(bulk.dropped)},
    }
    if interactions:
        t0 = time.perf_counter()
        result["interactions"] = generate_interactions(env, interactions, days=days)
        timings["interactions_s"] = time.perf_counter() - t0
    if cases:
        t0 = time.perf_counter()
        result["cases"] = generate_cases(env, cases, due)
        timings["cases_s"] = time.perf_counter() - t0
    return result


def _customer_weights(env):
    """Temp table bench_weight(id, w, r): every generated customer, weighted by
    its number of orders plus two (who buys more is touched more, opens more
    cases), ranked heaviest first."""
    cr = env.cr
    cr.execute("DROP TABLE IF EXISTS bench_weight")
    cr.execute(
        """
        CREATE TEMP TABLE bench_weight ON COMMIT DROP AS
        SELECT p.id, p.w, row_number() OVER (ORDER BY p.w DESC, p.id) AS r
          FROM (SELECT p.id, 2 + count(o.id) AS w
                  FROM res_partner p
                  LEFT JOIN sale_order o ON o.partner_id = p.id AND o.client_order_ref = %s
                 WHERE p.ref = %s
              GROUP BY p.id) p
        """,
        [MARK, MARK],
    )
    cr.execute("CREATE INDEX ON bench_weight (r)")
    cr.execute("ANALYZE bench_weight")
    cr.execute("SELECT count(*), sum(w) FROM bench_weight")
    return cr.fetchone()


def generate_interactions(env, count, days=730):
    """About ``count`` interaction-log rows over the last ``days`` days, with
    one INSERT ... SELECT: each customer gets a share proportional to its
    orders + 2 (rounded at random, so the total is ``count`` on average).

    Categories: marketing 45 % (email 80 %, SMS 20 %, outbound, denser in
    recent months), transactional 35 % (email 90 %, SMS, outbound), service
    15 % (email, phone, chat, portal; 60 % inbound), sales 5 % (phone,
    meeting, email; 30 % inbound). Weights are the shipped channel weights."""
    from odoo.addons.ecrm_addon.models.ecrm_interaction import DEFAULT_WEIGHTS

    cr = env.cr
    customers, total_weight = _customer_weights(env)
    if not customers:
        return 0
    weights = SQL(
        "CASE s.channel %s ELSE 1.0 END",
        SQL(" ").join(SQL("WHEN %s THEN %s", channel, weight) for channel, weight in DEFAULT_WEIGHTS.items()),
    )
    now = fields.Datetime.now()
    select_from = SQL(
        """
        (SELECT c.*,
                CASE c.category
                     WHEN 'marketing' THEN CASE WHEN c.u2 < 0.8 THEN 'email' ELSE 'sms' END
                     WHEN 'transactional' THEN CASE WHEN c.u2 < 0.9 THEN 'email' ELSE 'sms' END
                     WHEN 'service' THEN CASE WHEN c.u2 < 0.4 THEN 'email' WHEN c.u2 < 0.7 THEN 'phone'
                                              WHEN c.u2 < 0.85 THEN 'chat' ELSE 'portal' END
                     ELSE CASE WHEN c.u2 < 0.6 THEN 'phone' WHEN c.u2 < 0.7 THEN 'meeting' ELSE 'email' END
                END AS channel,
                CASE WHEN c.category = 'service' AND c.u3 < 0.6 THEN 'inbound'
                     WHEN c.category = 'sales' AND c.u3 < 0.3 THEN 'inbound'
                     ELSE 'outbound' END AS direction
           FROM (SELECT b.*,
                        CASE WHEN b.u1 < 0.45 THEN 'marketing' WHEN b.u1 < 0.80 THEN 'transactional'
                             WHEN b.u1 < 0.95 THEN 'service' ELSE 'sales' END AS category
                   FROM (SELECT w.id AS partner_id, random() AS u1, random() AS u2, random() AS u3, random() AS u4
                           FROM bench_weight w
                          CROSS JOIN LATERAL generate_series(1, floor(w.w * %(scale)s + random())::int) g) b) c) s
        """,
        scale=count / total_weight,
    )
    columns = {
        "name": SQL(
            "%s || CASE s.category WHEN 'marketing' THEN 'Newsletter' WHEN 'transactional' THEN 'Order update'"
            " WHEN 'service' THEN 'Customer service' ELSE 'Sales follow-up' END",
            INTERACTION_MARK,
        ),
        "partner_id": SQL("s.partner_id"),
        "commercial_partner_id": SQL("s.partner_id"),
        # marketing is denser in the recent months (age ~ days * u^2), the rest uniform
        "date": SQL(
            "%(now)s - (%(days)s * CASE WHEN s.category = 'marketing' THEN s.u4 * s.u4 ELSE s.u4 END)"
            " * interval '1 day'",
            now=now,
            days=days,
        ),
        "channel": SQL("s.channel"),
        "direction": SQL("s.direction"),
        "category": SQL("s.category"),
        "weight": weights,
        "company_id": SQL("%s", env.company.id),
        "create_uid": SQL("%s", env.uid),
        "write_uid": SQL("%s", env.uid),
        "create_date": SQL("%s", now),
        "write_date": SQL("%s", now),
    }
    # One statement, not chunks: its plan memoizes the generate_series of
    # each weight (PostgreSQL's Memoize), so which random numbers it draws
    # depends on the whole scan; without triggers it queues nothing per row.
    bulk = BulkLoad(cr, ["ecrm_interaction"])
    inserted = _insert(cr, "ecrm_interaction", None, columns, select_from)
    bulk.finish()
    return inserted


def case_policy(env):
    """The SLA policy of the generated cases (one response level at the
    deadline: it posts a note on the case when it fires)."""
    Policy = env["ecrm.escalation.policy"]
    policy = Policy.search([("name", "=", CASE_POLICY)], limit=1)
    if not policy:
        policy = Policy.create(
            {
                "name": CASE_POLICY,
                "calendar_id": env.company.resource_calendar_id.id,
                "response_hours": 4,
                "resolution_hours": 40,
                "sequence": 1000,
            }
        )
        env["ecrm.escalation.level"].create({"name": "[bench] late", "policy_id": policy.id, "delay_hours": 0})
        env.flush_all()
    return policy


def generate_cases(env, count, due):
    """``count`` open cases with one INSERT ... SELECT, ``due`` of them due now
    (response deadline a minute ago), the others due within the next 30 days.

    Customers are drawn heaviest buyers first (rank ~ customers * u^2);
    channels email 35 %, phone 20 %, portal 15 %, web 10 %, chat 10 %, API
    5 %, SMS and social; the six shipped categories; priorities low 20 %,
    normal 60 %, high 15 %, urgent 5 %; stages New and In progress."""
    cr = env.cr
    customers, _total = _customer_weights(env)
    if not customers:
        return 0
    policy = case_policy(env)
    categories = [
        env.ref(f"ecrm_addon.ecrm_case_category_{name}").id
        for name in ("complaint", "information", "return", "delivery", "billing", "other")
    ]
    stages = [env.ref("ecrm_addon.ecrm_case_stage_new").id, env.ref("ecrm_addon.ecrm_case_stage_in_progress").id]
    now = fields.Datetime.now()
    select_from = SQL(
        """
        (SELECT g.n, w.id AS partner_id, p.email, g.u1, g.u2, g.u3, g.u4, g.u5,
                CASE WHEN g.n <= %(due)s THEN %(now)s - interval '1 minute'
                     ELSE %(now)s + (1 + 720 * g.u4) * interval '1 hour' END AS response_deadline
           FROM (SELECT n, 1 + floor(%(customers)s * power(random(), 2))::int AS r,
                        random() AS u1, random() AS u2, random() AS u3, random() AS u4, random() AS u5
                   FROM generate_series(1, %(count)s) n) g
           JOIN bench_weight w ON w.r = g.r
           JOIN res_partner p ON p.id = w.id) s
        """,
        due=due,
        now=now,
        customers=customers,
        count=count,
    )
    bulk = BulkLoad(cr, ["ecrm_case"])
    inserted = _insert(
        cr,
        "ecrm_case",
        None,
        {
            "name": SQL("%s || lpad(s.n::text, 7, '0')", CASE_PREFIX),
            "subject": SQL("'[bench] case ' || s.n"),
            "partner_id": SQL("s.partner_id"),
            "commercial_partner_id": SQL("s.partner_id"),
            "email_from": SQL("s.email"),
            "channel": SQL(
                """CASE WHEN s.u1 < 0.35 THEN 'email' WHEN s.u1 < 0.55 THEN 'phone' WHEN s.u1 < 0.70 THEN 'portal'
                        WHEN s.u1 < 0.80 THEN 'web' WHEN s.u1 < 0.90 THEN 'chat' WHEN s.u1 < 0.95 THEN 'api'
                        WHEN s.u1 < 0.98 THEN 'sms' ELSE 'social' END"""
            ),
            "category_id": SQL("(%s::int[])[1 + floor(s.u2 * %s)::int]", categories, len(categories)),
            "priority": SQL(
                "CASE WHEN s.u3 < 0.2 THEN '0' WHEN s.u3 < 0.8 THEN '1' WHEN s.u3 < 0.95 THEN '2' ELSE '3' END"
            ),
            "stage_id": SQL("CASE WHEN s.u5 < 0.4 THEN %s ELSE %s END", stages[0], stages[1]),
            "is_closed": SQL("FALSE"),
            "company_id": SQL("%s", env.company.id),
            "policy_id": SQL("%s", policy.id),
            "date_open": SQL("%s - (30 * s.u4) * interval '1 day'", now),
            "response_deadline": SQL("s.response_deadline"),
            "resolution_deadline": SQL("s.response_deadline + interval '36 hours'"),
            "next_escalation_at": SQL("s.response_deadline"),
            "escalation_level": SQL("0"),
            "ecrm_paused_hours": SQL("0"),
            "create_uid": SQL("%s", env.uid),
            "write_uid": SQL("%s", env.uid),
            "create_date": SQL("%s", now),
            "write_date": SQL("%s", now),
        },
        select_from,
    )
    bulk.finish()
    return inserted


def analyze(env, tables=("res_partner", "ecrm_interaction", "ecrm_case")):
    for table in tables:
        env.cr.execute(SQL("ANALYZE %s", SQL.identifier(table)))


def _sample_ids(cr, table, where, count, rng):
    """``count`` random ids of ``table`` rows matching ``where`` (an SQL), without
    reading every id: the first matching id at or after random points of the id range."""
    cr.execute(SQL("SELECT min(id), max(id) FROM %s WHERE %s", SQL.identifier(table), where))
    low, high = cr.fetchone()
    if low is None:
        return []
    picked = set()
    for _attempt in range(count * 4):
        cr.execute(
            SQL(
                "SELECT id FROM %s WHERE id >= %s AND %s ORDER BY id LIMIT 1",
                SQL.identifier(table),
                rng.randint(low, high),
                where,
            )
        )
        row = cr.fetchone()
        if row:
            picked.add(row[0])
        if len(picked) >= count:
            break
    return sorted(picked)


SPOT_CHECKS = [
    (
        "sale.order",
        "sale_order",
        SQL("client_order_ref = %s", MARK),
        ["name", "partner_id", "amount_untaxed", "state", "date_order"],
    ),
    (
        "account.move",
        "account_move",
        SQL("ref = %s", MARK),
        ["name", "partner_id", "amount_untaxed_signed", "state", "invoice_date", "move_type"],
    ),
    (
        "res.partner",
        "res_partner",
        SQL("ref = %s", MARK),
        [
            "name",
            "email",
            "commercial_partner_id",
            "email_normalized",
            "phone_sanitized",
            "ecrm_email_key",
            "ecrm_phone_key",
        ],
    ),
    (
        "ecrm.interaction",
        "ecrm_interaction",
        SQL("name LIKE %s", INTERACTION_MARK + "%"),
        ["name", "partner_id", "commercial_partner_id", "date", "channel", "direction", "category", "weight"],
    ),
    (
        "ecrm.case",
        "ecrm_case",
        SQL("name LIKE %s", CASE_PREFIX + "%"),
        [
            "name",
            "subject",
            "partner_id",
            "commercial_partner_id",
            "channel",
            "category_id",
            "priority",
            "stage_id",
            "is_closed",
            "policy_id",
            "response_deadline",
            "next_escalation_at",
        ],
    ),
]


def spot_check(env, sample=5, seed=7):
    """Read a few generated records of every kind back through the ORM and
    compare them with the rows in SQL, then check what the ORM computes from
    them (display names, identity keys recomputed from the email and phone,
    which cases the escalation sees as due). Returns a list of mismatches
    (empty when all is well)."""
    cr = env.cr
    rng = random.Random(seed)
    problems = []
    env.flush_all()
    for model, table, where, names in SPOT_CHECKS:
        if model not in env:
            continue
        picked = _sample_ids(cr, table, where, sample, rng)
        if not picked:
            continue
        env.invalidate_all()
        records = env[model].browse(picked)
        orm = {row["id"]: row for row in records.read(names)}
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
                if expected is None:
                    expected = False
                same = abs(value - float(expected)) < 0.005 if isinstance(value, float) else value == expected
                if not same:
                    problems.append(f"{model}({row['id']}).{name}: ORM {value!r} != SQL {expected!r}")
        problems.extend(_check_computed(env, records))
    return problems


def _check_computed(env, records):
    """What the ORM derives from the generated rows must agree with them."""
    checks = {"res.partner": _check_partners, "ecrm.case": _check_cases, "ecrm.interaction": _check_interactions}
    check = checks.get(records._name)
    return check(records) if check else []


def _check_partners(partners):
    problems = []
    for partner in partners:
        if not partner.display_name.startswith("Bench customer"):
            problems.append(f"res.partner({partner.id}).display_name: {partner.display_name!r}")
        # the keys Odoo and the addon would compute from the email and phone
        keys = partner._ecrm_identity_keys(email=partner.email, phone=partner.phone)
        for fname in ("ecrm_email_key", "ecrm_phone_key"):
            if keys.get(fname, False) != partner[fname]:
                problems.append(
                    f"res.partner({partner.id}).{fname}: stored {partner[fname]!r}, computed {keys.get(fname)!r}"
                )
        if partner.phone and partner._phone_format(number=partner.phone) != partner.phone_sanitized:
            problems.append(f"res.partner({partner.id}).phone_sanitized: {partner.phone_sanitized!r}")
    return problems


def _check_cases(cases):
    problems = []
    now = fields.Datetime.now()
    for case in cases:
        pending = case._ecrm_pending_levels()
        orm_due = any(due <= now for due in pending.values())
        sql_due = bool(case.next_escalation_at and case.next_escalation_at <= now)
        if orm_due != sql_due:
            problems.append(f"ecrm.case({case.id}): due per the ORM {orm_due}, per next_escalation_at {sql_due}")
        if not case.display_name:
            problems.append(f"ecrm.case({case.id}).display_name is empty")
    return problems


def _check_interactions(logs):
    return [
        f"ecrm.interaction({log.id}).commercial_partner_id differs from its partner's"
        for log in logs
        if log.commercial_partner_id != log.partner_id.commercial_partner_id
    ]
