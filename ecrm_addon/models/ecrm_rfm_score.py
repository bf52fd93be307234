import logging
from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.osv import expression
from odoo.tools import SQL
from odoo.tools.sql import drop_index, make_index_name

_logger = logging.getLogger(__name__)

# Key of the PostgreSQL advisory locks that serialise refreshes of one company
# (second key: the company id). Any constant int4 works; this one spells "RFM".
RFM_LOCK_KEY = 0x52464D
# The partner fields that show the current company's score row -> ecrm.rfm.score field.
RFM_SCORE_FIELDS = {
    "ecrm_recency_days": "recency_days",
    "ecrm_frequency": "frequency",
    "ecrm_monetary": "monetary",
    "ecrm_r_score": "r_score",
    "ecrm_f_score": "f_score",
    "ecrm_m_score": "m_score",
    "ecrm_segment_id": "segment_id",
}


def ecrm_empty_matches(operator, value, empty):
    """Whether a partner without a score row (every figure ``empty``) satisfies
    ``(field, operator, value)``."""
    if operator in ("=", "=="):
        return (value or empty) == empty
    if operator in ("!=", "<>"):
        return (value or empty) != empty
    if operator in ("<", "<=", ">", ">="):
        if not isinstance(value, int | float) or isinstance(value, bool):
            return False
        return {"<": empty < value, "<=": empty <= value, ">": empty > value, ">=": empty >= value}[operator]
    if operator in ("in", "not in"):
        inside = isinstance(value, list | tuple | set) and any((v or empty) == empty for v in value)
        return inside if operator == "in" else not inside
    return operator.startswith("not ")


RFM_PARTNER_FIELDS = list(RFM_SCORE_FIELDS)


class EcrmRfmScore(models.Model):
    """The current RFM figures of one customer in one company.

    Narrow on purpose, and written only where a refresh changes something: a
    daily run rewrites the customers whose figures moved, not every row. The
    recency is not stored (it grows every day for everyone): it is counted from
    the last purchase to the company's latest reference date. The partner shows
    the row of the current company; customers without a row score 0.
    """

    _name = "ecrm.rfm.score"
    _description = "RFM Score"
    _order = "company_id, partner_id"
    _rec_name = "partner_id"
    # Written in bulk by the engine only: no create/write user and date columns
    # (``date`` tells which run last changed the row), fewer bytes per write.
    _log_access = False

    # The unique (partner_id, company_id) index serves the lookups by partner.
    partner_id = fields.Many2one("res.partner", string="Customer", required=True, ondelete="cascade", readonly=True)
    company_id = fields.Many2one("res.company", required=True, ondelete="cascade", readonly=True)
    currency_id = fields.Many2one(related="company_id.currency_id")
    date = fields.Date(string="Changed on", readonly=True, help="The reference date of the run that last changed it.")
    last_purchase_date = fields.Date(readonly=True)
    recency_days = fields.Integer(
        string="Recency (days)",
        compute="_compute_recency_days",
        search="_search_recency_days",
        help="Days from the last purchase to the reference date of the company's latest computation.",
    )
    frequency = fields.Integer(readonly=True)
    monetary = fields.Monetary(currency_field="currency_id", readonly=True)
    r_score = fields.Integer(string="R", readonly=True, aggregator="avg")
    f_score = fields.Integer(string="F", readonly=True, aggregator="avg")
    m_score = fields.Integer(string="M", readonly=True, aggregator="avg")
    # Not indexed on purpose: updates then change no indexed column and stay HOT
    # (see init); segment counts scan this narrow table.
    segment_id = fields.Many2one("ecrm.rfm.segment", readonly=True)

    _sql_constraints = [
        ("partner_company_unique", "UNIQUE(partner_id, company_id)", "A customer has one RFM score per company."),
    ]

    def init(self):
        # Room on each page for the next refresh's row versions: the upsert
        # changes no indexed column, so PostgreSQL updates rows in place (HOT)
        # without touching the indexes.
        self.env.cr.execute(SQL("ALTER TABLE %s SET (fillfactor = 50)", SQL.identifier(self._table)))
        # indexes of the first version of this table, which would defeat HOT updates
        for column in ("partner_id", "segment_id"):
            drop_index(self.env.cr, make_index_name(self._table, column), self._table)

    @api.depends("last_purchase_date", "company_id.ecrm_rfm_scored_date")
    def _compute_recency_days(self):
        for score in self:
            reference = score.company_id.ecrm_rfm_scored_date
            last = score.last_purchase_date
            score.recency_days = (reference - last).days if reference and last else 0

    def _search_recency_days(self, operator, value):
        """``recency_days <op> n`` is ``last_purchase_date <flipped op> reference - n``,
        per company (each has its own reference date)."""
        flipped = {"=": "=", "!=": "!=", "<": ">", "<=": ">=", ">": "<", ">=": "<="}
        if operator not in flipped or isinstance(value, bool) or not isinstance(value, int):
            raise UserError(
                self.env._("Unsupported search on the recency: %(operator)s %(value)s", operator=operator, value=value)
            )
        # sudo: the reference dates only, of the companies the rows belong to
        companies = self.env["res.company"].sudo().search([("ecrm_rfm_scored_date", "!=", False)])
        return expression.OR(
            [
                [
                    ("company_id", "=", company.id),
                    ("last_purchase_date", flipped[operator], company.ecrm_rfm_scored_date - timedelta(days=value)),
                ]
                for company in companies
            ]
            or [expression.FALSE_DOMAIN]
        )

    def action_ecrm_compute_rfm(self):
        return self.env["res.partner"].action_ecrm_compute_rfm()

    # ------------------------------------------------------------------
    # Engine: everything below runs in PostgreSQL, set-based, so that the
    # Python side holds no row of the source whatever its size.
    # ------------------------------------------------------------------

    @api.model
    def _rfm_reference_date(self, company):
        return company.ecrm_rfm_date or fields.Date.context_today(self.with_company(company))

    @api.model
    def _rfm_source_sql(self, company, date_from, date_to):
        """One row per purchase (or refund) of the company in [date_from, date_to]:
        ``partner_id`` (the commercial partner), ``date``, ``purchase`` (bool),
        ``amount`` (untaxed, company currency; negative for refunds)."""
        if company.ecrm_rfm_source == "sale":
            digits = company.currency_id.decimal_places
            return SQL(
                """
                SELECT p.commercial_partner_id AS partner_id,
                       so.date_order::date AS date,
                       TRUE AS purchase,
                       CASE WHEN so.currency_id = %(currency)s OR COALESCE(so.currency_rate, 0) = 0
                            THEN so.amount_untaxed
                            ELSE ROUND(so.amount_untaxed / so.currency_rate::numeric, %(digits)s)
                       END AS amount
                  FROM sale_order so
                  JOIN res_partner p ON p.id = so.partner_id
                 WHERE so.company_id = %(company)s
                   AND so.state = 'sale'
                   AND so.date_order >= %(start)s
                   AND so.date_order < %(stop)s
                """,
                currency=company.currency_id.id,
                digits=digits,
                company=company.id,
                start=fields.Datetime.to_datetime(date_from),
                stop=fields.Datetime.to_datetime(date_to + timedelta(days=1)),
            )
        return SQL(
            """
            SELECT p.commercial_partner_id AS partner_id,
                   am.invoice_date AS date,
                   am.move_type = 'out_invoice' AS purchase,
                   am.amount_untaxed_signed AS amount
              FROM account_move am
              JOIN res_partner p ON p.id = am.partner_id
             WHERE am.company_id = %(company)s
               AND am.state = 'posted'
               AND am.move_type IN ('out_invoice', 'out_refund')
               AND am.invoice_date BETWEEN %(start)s AND %(stop)s
            """,
            company=company.id,
            start=date_from,
            stop=date_to,
        )

    @api.model
    def _rfm_aggregate_sql(self, company, date_from, date_to):
        """The one aggregate pass: frequency, last purchase and monetary per
        commercial partner with at least one purchase in the window."""
        return SQL(
            """
            SELECT src.partner_id,
                   COUNT(*) FILTER (WHERE src.purchase) AS frequency,
                   MAX(src.date) FILTER (WHERE src.purchase) AS last_purchase_date,
                   COALESCE(SUM(src.amount), 0) AS monetary
              FROM (%(source)s) src
             GROUP BY src.partner_id
            HAVING COUNT(*) FILTER (WHERE src.purchase) > 0
            """,
            source=self._rfm_source_sql(company, date_from, date_to),
        )

    @api.model
    def _rfm_scored_sql(self, company, reference_date, date_from):
        """Scores with the contract's tie-aware quintiles: ``1 + floor(5 * worse / n)``
        where ``worse`` = the customers strictly worse; then the first segment in
        sequence order whose ranges hold.

        Last purchase dates and frequencies take few distinct values: their
        ``worse`` counts come from a running sum over the distinct values (a
        hash aggregate and a sort of a few hundred rows) rather than a rank
        over every customer; only the monetary value needs the full rank."""
        return SQL(
            """
            WITH agg AS MATERIALIZED (%(aggregate)s),
            total AS (SELECT COUNT(*) AS n FROM agg),
            by_date AS (
                SELECT last_purchase_date,
                       1 + 5 * (SUM(customers) OVER (ORDER BY last_purchase_date) - customers)::bigint
                           / total.n AS score
                  FROM (SELECT last_purchase_date, COUNT(*) AS customers FROM agg GROUP BY last_purchase_date) d,
                       total
            ),
            by_frequency AS (
                SELECT frequency,
                       1 + 5 * (SUM(customers) OVER (ORDER BY frequency) - customers)::bigint / total.n AS score
                  FROM (SELECT frequency, COUNT(*) AS customers FROM agg GROUP BY frequency) f,
                       total
            ),
            segment_map AS (
                SELECT DISTINCT ON (r.v, f.v, m.v) r.v AS r, f.v AS f, m.v AS m, s.id AS segment_id
                  FROM generate_series(1, 5) r(v)
                 CROSS JOIN generate_series(1, 5) f(v)
                 CROSS JOIN generate_series(1, 5) m(v)
                  JOIN ecrm_rfm_segment s
                    ON s.active
                   AND r.v BETWEEN s.r_min AND s.r_max
                   AND f.v BETWEEN s.f_min AND s.f_max
                   AND m.v BETWEEN s.m_min AND s.m_max
                 ORDER BY r.v, f.v, m.v, s.sequence, s.id
            )
            SELECT ranked.partner_id, ranked.last_purchase_date,
                   (%(reference)s::date - ranked.last_purchase_date)::int AS recency_days,
                   ranked.frequency::int AS frequency, ranked.monetary,
                   bd.score::int AS r_score, bf.score::int AS f_score, ranked.m_score::int AS m_score,
                   sm.segment_id
              FROM (
                    SELECT agg.*, 1 + (5 * (RANK() OVER (ORDER BY agg.monetary) - 1)) / total.n AS m_score
                      FROM agg, total
                   ) ranked
              JOIN by_date bd ON bd.last_purchase_date = ranked.last_purchase_date
              JOIN by_frequency bf ON bf.frequency = ranked.frequency
              LEFT JOIN segment_map sm ON sm.r = bd.score AND sm.f = bf.score AND sm.m = ranked.m_score
            """,
            aggregate=self._rfm_aggregate_sql(company, date_from, reference_date),
            reference=reference_date,
        )

    @api.model
    def _rfm_window(self, company):
        reference_date = self._rfm_reference_date(company)
        return reference_date, reference_date - timedelta(days=company.ecrm_rfm_window_days)

    @api.model
    def _rfm_refresh_company(self, company):
        """Recompute the scores of one company, set-based, in one statement
        that compares the new scores with the stored rows and writes only the
        difference:

        - score rows: new buyers inserted, changed customers updated, customers
          who left the window deleted; unchanged rows are not touched;
        - history (ecrm.rfm.snapshot): one row per customer whose figures
          changed, with the segment and revenue before the run; every
          customer's state at any run is its latest row at or before that run
          (see ``_rfm_history_sql``);
        - the segment-migration matrix of the run (ecrm.rfm.migration), every
          cell including the customers who kept their segment.

        A second run for the same reference date keeps the state before the
        first one as "previous", so the date's moves are never lost. Returns
        False without doing anything when another transaction is refreshing
        the same company (it holds the advisory lock), else True.
        """
        cr = self.env.cr
        cr.execute(SQL("SELECT pg_try_advisory_xact_lock(%s, %s)", RFM_LOCK_KEY, company.id))
        if not cr.fetchone()[0]:
            _logger.info("RFM of company %s is being refreshed by another transaction: skipped", company.id)
            return False
        for model in ("res.partner", "account.move", "sale.order", "ecrm.rfm.segment", "ecrm.rfm.score"):
            self.env[model].flush_model()
        reference_date, date_from = self._rfm_window(company)
        cr.execute(
            SQL(
                """
                WITH scored AS MATERIALIZED (%(scored)s),
                stored AS (
                    SELECT id, partner_id, last_purchase_date, frequency, monetary,
                           r_score, f_score, m_score, segment_id
                      FROM ecrm_rfm_score
                     WHERE company_id = %(company)s
                ),
                earlier_today AS (
                    -- history rows of a run of the same date: their "before" is the date's
                    SELECT partner_id, segment_id, previous_segment_id, previous_monetary
                      FROM ecrm_rfm_snapshot
                     WHERE company_id = %(company)s AND date = %(reference)s
                ),
                diff AS MATERIALIZED (
                    SELECT COALESCE(n.partner_id, o.partner_id) AS partner_id, o.id AS row_id,
                           n.partner_id IS NULL AS gone, COALESCE(o.frequency, 0) AS old_frequency,
                           n.last_purchase_date, n.recency_days, n.frequency, n.monetary,
                           n.r_score, n.f_score, n.m_score, n.segment_id,
                           CASE WHEN t.partner_id IS NOT NULL THEN t.previous_segment_id
                                ELSE o.segment_id END AS previous_segment_id,
                           CASE WHEN t.partner_id IS NOT NULL THEN t.previous_monetary
                                ELSE COALESCE(o.monetary, 0) END AS previous_monetary,
                           (o.last_purchase_date, o.frequency, o.monetary, o.r_score, o.f_score, o.m_score,
                            o.segment_id)
                           IS DISTINCT FROM
                           (n.last_purchase_date, n.frequency, n.monetary, n.r_score, n.f_score, n.m_score,
                            n.segment_id) AS changed
                      FROM scored n
                      FULL JOIN stored o ON o.partner_id = n.partner_id
                      LEFT JOIN earlier_today t ON t.partner_id = COALESCE(n.partner_id, o.partner_id)
                ),
                inserted AS (
                    INSERT INTO ecrm_rfm_score (
                        company_id, partner_id, date, last_purchase_date, frequency, monetary,
                        r_score, f_score, m_score, segment_id)
                    SELECT %(company)s, partner_id, %(reference)s, last_purchase_date, frequency, monetary,
                           r_score, f_score, m_score, segment_id
                      FROM diff
                     WHERE row_id IS NULL
                ),
                updated AS (
                    UPDATE ecrm_rfm_score row
                       SET date = %(reference)s, last_purchase_date = d.last_purchase_date,
                           frequency = d.frequency, monetary = d.monetary, r_score = d.r_score,
                           f_score = d.f_score, m_score = d.m_score, segment_id = d.segment_id
                      FROM diff d
                     WHERE row.id = d.row_id AND d.changed AND NOT d.gone
                ),
                deleted AS (
                    DELETE FROM ecrm_rfm_score row USING diff d WHERE row.id = d.row_id AND d.gone
                ),
                history AS (
                    INSERT INTO ecrm_rfm_snapshot AS h (
                        company_id, date, partner_id, recency_days, frequency, monetary,
                        r_score, f_score, m_score, segment_id, previous_segment_id, previous_monetary)
                    SELECT %(company)s, %(reference)s, partner_id, recency_days, COALESCE(frequency, 0),
                           COALESCE(monetary, 0), COALESCE(r_score, 0), COALESCE(f_score, 0),
                           COALESCE(m_score, 0), segment_id, previous_segment_id, previous_monetary
                      FROM diff
                     -- a zeroed row left by an older version of the engine is not a move
                     WHERE changed AND NOT (gone AND old_frequency = 0)
                    ON CONFLICT (company_id, date, partner_id) DO UPDATE SET
                        recency_days = EXCLUDED.recency_days, frequency = EXCLUDED.frequency,
                        monetary = EXCLUDED.monetary, r_score = EXCLUDED.r_score, f_score = EXCLUDED.f_score,
                        m_score = EXCLUDED.m_score, segment_id = EXCLUDED.segment_id
                ),
                replaced_matrix AS (
                    DELETE FROM ecrm_rfm_migration WHERE company_id = %(company)s AND date = %(reference)s
                )
                INSERT INTO ecrm_rfm_migration (
                    company_id, date, previous_segment_id, segment_id, customer_count, monetary, previous_monetary)
                SELECT %(company)s, %(reference)s, previous_segment_id, segment_id,
                       COUNT(*), SUM(monetary), SUM(previous_monetary)
                  FROM (
                        SELECT previous_segment_id, segment_id, COALESCE(monetary, 0) AS monetary, previous_monetary
                          FROM diff
                         WHERE NOT (gone AND old_frequency = 0)
                         UNION ALL
                        -- customers an earlier run of the date already took out of the window
                        SELECT t.previous_segment_id, NULL, 0, t.previous_monetary
                          FROM earlier_today t
                         WHERE t.segment_id IS NULL
                           AND NOT EXISTS (SELECT 1 FROM diff d WHERE d.partner_id = t.partner_id)
                       ) cells
                 GROUP BY previous_segment_id, segment_id
                """,
                scored=self._rfm_scored_sql(company, reference_date, date_from),
                company=company.id,
                reference=reference_date,
            )
        )
        cr.execute(
            SQL(
                "UPDATE res_company SET ecrm_rfm_scored_date = %s WHERE id = %s",
                reference_date,
                company.id,
            )
        )
        company.invalidate_recordset(["ecrm_rfm_scored_date"])
        self.invalidate_model()
        self.env["ecrm.rfm.snapshot"].invalidate_model()
        self.env["ecrm.rfm.migration"].invalidate_model()
        self.env["res.partner"].invalidate_model(RFM_PARTNER_FIELDS)
        return True

    @api.model
    def _rfm_history_sql(self, company, date):
        """Every customer's RFM state after the company's run of ``date``, rebuilt
        from the history: the latest row at or before that date of each customer
        still in the window. Rows (partner_id, frequency, monetary, r_score,
        f_score, m_score, segment_id, last_change)."""
        return SQL(
            """
            SELECT partner_id, frequency, monetary, r_score, f_score, m_score, segment_id, date AS last_change
              FROM (
                    SELECT DISTINCT ON (partner_id) *
                      FROM ecrm_rfm_snapshot
                     WHERE company_id = %(company)s AND date <= %(date)s
                     ORDER BY partner_id, date DESC
                   ) latest
             WHERE frequency > 0
            """,
            company=company.id,
            date=date,
        )
