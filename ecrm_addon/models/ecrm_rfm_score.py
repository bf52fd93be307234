import logging
from datetime import timedelta

from odoo import api, fields, models
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

    Narrow on purpose: the engine rewrites every row on each refresh, which is
    far cheaper here than rewriting wide res_partner rows. The partner shows
    the row of the current company.
    """

    _name = "ecrm.rfm.score"
    _description = "RFM Score"
    _order = "company_id, partner_id"
    _rec_name = "partner_id"
    # Rewritten in bulk by the engine only: no create/write user and date columns
    # (``date`` tells when the row was computed for), fewer bytes per rewrite.
    _log_access = False

    # The unique (partner_id, company_id) index serves the lookups by partner.
    partner_id = fields.Many2one("res.partner", string="Customer", required=True, ondelete="cascade", readonly=True)
    company_id = fields.Many2one("res.company", required=True, ondelete="cascade", readonly=True)
    currency_id = fields.Many2one(related="company_id.currency_id")
    date = fields.Date(string="Computed for", readonly=True)
    last_purchase_date = fields.Date(readonly=True)
    recency_days = fields.Integer(string="Recency (days)", readonly=True, aggregator="avg")
    frequency = fields.Integer(readonly=True)
    monetary = fields.Monetary(currency_field="currency_id", readonly=True)
    r_score = fields.Integer(string="R", readonly=True, aggregator="avg")
    f_score = fields.Integer(string="F", readonly=True, aggregator="avg")
    m_score = fields.Integer(string="M", readonly=True, aggregator="avg")
    # Not indexed on purpose: updates then change no indexed column and stay HOT
    # (see init); segment counts scan this narrow table.
    segment_id = fields.Many2one("ecrm.rfm.segment", readonly=True)
    previous_segment_id = fields.Many2one(
        "ecrm.rfm.segment", readonly=True, help="The segment before the first computation for this date."
    )
    previous_monetary = fields.Monetary(currency_field="currency_id", readonly=True)

    _sql_constraints = [
        ("partner_company_unique", "UNIQUE(partner_id, company_id)", "A customer has one RFM score per company."),
    ]

    def init(self):
        # Room on each page for the next refresh's row versions: the daily
        # upsert changes no indexed column, so PostgreSQL updates rows in place
        # (HOT) without touching the indexes.
        self.env.cr.execute(SQL("ALTER TABLE %s SET (fillfactor = 50)", SQL.identifier(self._table)))
        # indexes of the first version of this table, which would defeat HOT updates
        for column in ("partner_id", "segment_id"):
            drop_index(self.env.cr, make_index_name(self._table, column), self._table)

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
        where ``worse`` = the customers strictly worse (``rank() - 1``); then the
        first segment in sequence order whose ranges hold."""
        return SQL(
            """
            WITH agg AS (%(aggregate)s),
            ranked AS (
                SELECT agg.*,
                       (%(reference)s::date - agg.last_purchase_date) AS recency_days,
                       1 + (5 * (RANK() OVER (ORDER BY agg.last_purchase_date) - 1)) / COUNT(*) OVER () AS r_score,
                       1 + (5 * (RANK() OVER (ORDER BY agg.frequency) - 1)) / COUNT(*) OVER () AS f_score,
                       1 + (5 * (RANK() OVER (ORDER BY agg.monetary) - 1)) / COUNT(*) OVER () AS m_score
                  FROM agg
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
            SELECT ranked.partner_id, ranked.last_purchase_date, ranked.recency_days::int AS recency_days,
                   ranked.frequency::int AS frequency, ranked.monetary,
                   ranked.r_score::int AS r_score, ranked.f_score::int AS f_score, ranked.m_score::int AS m_score,
                   sm.segment_id
              FROM ranked
              LEFT JOIN segment_map sm
                ON sm.r = ranked.r_score AND sm.f = ranked.f_score AND sm.m = ranked.m_score
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
        """Recompute the scores of one company, set-based, in four statements:

        1. score the buying customers and upsert their rows; zero the rows of
           the customers who left the window (kept one run, so that the move
           is reported) and delete the rows zeroed on an earlier date. Each row
           keeps the segment it had before the first run of its date.
        2. forget this date's history (a second run the same day replaces it);
        3. the segment-migration matrix of the run: one ecrm.rfm.migration row
           per (previous segment, segment), with customers and revenue;
        4. the customers who changed segment: one ecrm.rfm.snapshot row each.

        Returns False without doing anything when another transaction is
        refreshing the same company (it holds the advisory lock), else True.
        """
        cr = self.env.cr
        cr.execute(SQL("SELECT pg_try_advisory_xact_lock(%s, %s)", RFM_LOCK_KEY, company.id))
        if not cr.fetchone()[0]:
            _logger.info("RFM of company %s is being refreshed by another transaction: skipped", company.id)
            return False
        for model in ("res.partner", "account.move", "sale.order", "ecrm.rfm.segment", "ecrm.rfm.score"):
            self.env[model].flush_model()
        reference_date, date_from = self._rfm_window(company)
        params = {"company": company.id, "reference": reference_date}
        cr.execute(
            SQL(
                """
                WITH scored AS MATERIALIZED (%(scored)s),
                upsert AS (
                    INSERT INTO ecrm_rfm_score AS old (
                        company_id, partner_id, date, last_purchase_date, recency_days, frequency, monetary,
                        r_score, f_score, m_score, segment_id, previous_segment_id, previous_monetary)
                    SELECT %(company)s, s.partner_id, %(reference)s, s.last_purchase_date, s.recency_days,
                           s.frequency, s.monetary, s.r_score, s.f_score, s.m_score, s.segment_id, NULL, 0
                      FROM scored s
                    ON CONFLICT (partner_id, company_id) DO UPDATE SET
                        date = EXCLUDED.date, last_purchase_date = EXCLUDED.last_purchase_date,
                        recency_days = EXCLUDED.recency_days, frequency = EXCLUDED.frequency,
                        monetary = EXCLUDED.monetary, r_score = EXCLUDED.r_score, f_score = EXCLUDED.f_score,
                        m_score = EXCLUDED.m_score, segment_id = EXCLUDED.segment_id,
                        previous_segment_id = CASE WHEN old.date < EXCLUDED.date
                                                   THEN old.segment_id ELSE old.previous_segment_id END,
                        previous_monetary = CASE WHEN old.date < EXCLUDED.date
                                                 THEN old.monetary ELSE old.previous_monetary END
                    -- a second run on the same data rewrites nothing
                    WHERE (old.date, old.last_purchase_date, old.frequency, old.monetary,
                           old.r_score, old.f_score, old.m_score, old.segment_id)
                          IS DISTINCT FROM
                          (EXCLUDED.date, EXCLUDED.last_purchase_date, EXCLUDED.frequency, EXCLUDED.monetary,
                           EXCLUDED.r_score, EXCLUDED.f_score, EXCLUDED.m_score, EXCLUDED.segment_id)
                ),
                left_window AS (
                    UPDATE ecrm_rfm_score old
                       SET date = %(reference)s, last_purchase_date = NULL, recency_days = NULL, frequency = 0,
                           monetary = 0, r_score = 0, f_score = 0, m_score = 0, segment_id = NULL,
                           previous_segment_id = old.segment_id, previous_monetary = old.monetary
                     WHERE old.company_id = %(company)s
                       AND old.frequency > 0
                       AND NOT EXISTS (SELECT 1 FROM scored s WHERE s.partner_id = old.partner_id)
                )
                DELETE FROM ecrm_rfm_score old
                 WHERE old.company_id = %(company)s
                   AND old.frequency = 0
                   AND old.date < %(reference)s
                   AND NOT EXISTS (SELECT 1 FROM scored s WHERE s.partner_id = old.partner_id)
                """,
                scored=self._rfm_scored_sql(company, reference_date, date_from),
                **params,
            )
        )
        cr.execute(
            SQL(
                """
                WITH gone AS (DELETE FROM ecrm_rfm_migration WHERE company_id = %(company)s AND date = %(reference)s)
                DELETE FROM ecrm_rfm_snapshot WHERE company_id = %(company)s AND date = %(reference)s
                """,
                **params,
            )
        )
        cr.execute(
            SQL(
                """
                WITH run AS MATERIALIZED (
                    SELECT * FROM ecrm_rfm_score WHERE company_id = %(company)s AND date = %(reference)s
                ),
                matrix AS (
                    INSERT INTO ecrm_rfm_migration (
                        company_id, date, previous_segment_id, segment_id, customer_count, monetary, previous_monetary)
                    SELECT %(company)s, %(reference)s, previous_segment_id, segment_id,
                           COUNT(*), SUM(monetary), SUM(previous_monetary)
                      FROM run
                     GROUP BY previous_segment_id, segment_id
                )
                INSERT INTO ecrm_rfm_snapshot (
                    company_id, date, partner_id, recency_days, frequency, monetary,
                    r_score, f_score, m_score, segment_id, previous_segment_id, previous_monetary)
                SELECT %(company)s, %(reference)s, partner_id, recency_days, frequency, monetary,
                       r_score, f_score, m_score, segment_id, previous_segment_id, previous_monetary
                  FROM run
                 WHERE segment_id IS DISTINCT FROM previous_segment_id
                """,
                **params,
            )
        )
        self.invalidate_model()
        self.env["ecrm.rfm.snapshot"].invalidate_model()
        self.env["ecrm.rfm.migration"].invalidate_model()
        self.env["res.partner"].invalidate_model(RFM_PARTNER_FIELDS)
        return True
