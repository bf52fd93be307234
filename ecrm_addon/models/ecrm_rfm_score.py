# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import logging
from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.osv import expression
from odoo.tools import SQL
from odoo.tools.sql import drop_index, make_index_name

from ..tools.cron import auto_commit

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

# Bumped when the engine stores its rows differently: the next run is then a
# full one (see _rfm_settings_key).
RFM_ENGINE_VERSION = 2
# A daily run builds on the stored rows up to this many days after them;
# further, the whole window is aggregated again.
RFM_INCREMENTAL_MAX_DAYS = 31
# The documents each source counts (``{row}``: their table alias, or OLD / NEW
# in the triggers) and the columns whose change changes what they count.
RFM_SOURCES = {
    "invoice": {
        "table": "account_move",
        "counted": "{row}.state = 'posted' AND {row}.move_type IN ('out_invoice', 'out_refund')",
        "columns": ("state", "move_type", "partner_id", "company_id", "invoice_date", "amount_untaxed_signed"),
    },
    "sale": {
        "table": "sale_order",
        "counted": "{row}.state = 'sale'",
        "columns": (
            "state",
            "partner_id",
            "company_id",
            "date_order",
            "amount_untaxed",
            "currency_id",
            "currency_rate",
        ),
    },
}
# The log of customers whose counted documents changed, filled by the triggers
# below and consumed by the next run of their company. A plain table: no ORM
# access to it, no access rights to give.
RFM_TOUCHED_TABLE = "ecrm_rfm_touched"


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
        # Room on each page for the next refresh's row versions: its UPDATE
        # changes no indexed column, so PostgreSQL updates rows in place (HOT)
        # without touching the indexes.
        self.env.cr.execute(SQL("ALTER TABLE %s SET (fillfactor = 50)", SQL.identifier(self._table)))
        # indexes of the first version of this table, which would defeat HOT updates
        for column in ("partner_id", "segment_id"):
            drop_index(self.env.cr, make_index_name(self._table, column), self._table)
        self._rfm_install_triggers()

    @api.model
    def _rfm_install_triggers(self):
        """The log of touched customers and the triggers that fill it: after
        every change of a counted document (created, posted, cancelled, moved
        to another customer or date, deleted, also by raw SQL such as Odoo's
        partner merge) and of a contact's commercial partner (changed, or the
        contact deleted). Row triggers,
        called only for the rows their condition selects: a change of anything
        else (a draft, a payment state) costs one comparison."""
        cr = self.env.cr
        table = SQL.identifier(RFM_TOUCHED_TABLE)
        cr.execute(
            SQL(
                """
                CREATE TABLE IF NOT EXISTS %(table)s (
                    company_id int4 NOT NULL, partner_id int4 NOT NULL, source varchar);
                CREATE INDEX IF NOT EXISTS %(index)s ON %(table)s (company_id);
                CREATE OR REPLACE FUNCTION ecrm_rfm_touch_source() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    IF TG_OP <> 'INSERT' AND OLD.partner_id IS NOT NULL AND OLD.company_id IS NOT NULL THEN
                        INSERT INTO %(table)s (company_id, partner_id, source)
                        VALUES (OLD.company_id, OLD.partner_id, TG_ARGV[0]);
                    END IF;
                    IF TG_OP <> 'DELETE' AND NEW.partner_id IS NOT NULL AND NEW.company_id IS NOT NULL
                       AND (TG_OP = 'INSERT'
                            OR (NEW.company_id, NEW.partner_id) IS DISTINCT FROM (OLD.company_id, OLD.partner_id)) THEN
                        INSERT INTO %(table)s (company_id, partner_id, source)
                        VALUES (NEW.company_id, NEW.partner_id, TG_ARGV[0]);
                    END IF;
                    RETURN NULL;
                END $$;
                CREATE OR REPLACE FUNCTION ecrm_rfm_touch_partner() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    INSERT INTO %(table)s (company_id, partner_id)
                    SELECT company.id, moved.id
                      FROM res_company company,
                           (VALUES (OLD.commercial_partner_id),
                                   (CASE WHEN TG_OP = 'UPDATE' THEN NEW.commercial_partner_id END)) moved(id)
                     WHERE moved.id IS NOT NULL;
                    RETURN NULL;
                END $$;
                DROP TRIGGER IF EXISTS ecrm_rfm_touch ON res_partner;
                CREATE TRIGGER ecrm_rfm_touch AFTER UPDATE OF commercial_partner_id ON res_partner FOR EACH ROW
                  WHEN (OLD.commercial_partner_id IS DISTINCT FROM NEW.commercial_partner_id)
                  EXECUTE FUNCTION ecrm_rfm_touch_partner();
                -- a deleted contact (a merge deletes the merged ones) is no longer
                -- there to lead from its logged documents to its company
                DROP TRIGGER IF EXISTS ecrm_rfm_touch_delete ON res_partner;
                CREATE TRIGGER ecrm_rfm_touch_delete AFTER DELETE ON res_partner FOR EACH ROW
                  WHEN (OLD.commercial_partner_id IS NOT NULL AND OLD.commercial_partner_id <> OLD.id)
                  EXECUTE FUNCTION ecrm_rfm_touch_partner();
                """,
                table=table,
                index=SQL.identifier(f"{RFM_TOUCHED_TABLE}_company_id_idx"),
            )
        )
        for name, source in RFM_SOURCES.items():
            columns = SQL(", ").join(SQL.identifier(column) for column in source["columns"])
            old_columns = SQL(", ").join(SQL("OLD.%s", SQL.identifier(column)) for column in source["columns"])
            new_columns = SQL(", ").join(SQL("NEW.%s", SQL.identifier(column)) for column in source["columns"])
            cr.execute(
                SQL(
                    """
                    DROP TRIGGER IF EXISTS ecrm_rfm_touch_insert ON %(source)s;
                    CREATE TRIGGER ecrm_rfm_touch_insert AFTER INSERT ON %(source)s FOR EACH ROW
                      WHEN (%(new_counted)s) EXECUTE FUNCTION ecrm_rfm_touch_source(%(name)s);
                    DROP TRIGGER IF EXISTS ecrm_rfm_touch_update ON %(source)s;
                    CREATE TRIGGER ecrm_rfm_touch_update AFTER UPDATE OF %(columns)s ON %(source)s FOR EACH ROW
                      WHEN ((%(old_counted)s OR %(new_counted)s) AND (%(old)s) IS DISTINCT FROM (%(new)s))
                      EXECUTE FUNCTION ecrm_rfm_touch_source(%(name)s);
                    DROP TRIGGER IF EXISTS ecrm_rfm_touch_delete ON %(source)s;
                    CREATE TRIGGER ecrm_rfm_touch_delete AFTER DELETE ON %(source)s FOR EACH ROW
                      WHEN (%(old_counted)s) EXECUTE FUNCTION ecrm_rfm_touch_source(%(name)s);
                    """,
                    source=SQL.identifier(source["table"]),
                    name=SQL(name),
                    columns=columns,
                    old=old_columns,
                    new=new_columns,
                    old_counted=SQL(source["counted"].format(row="OLD")),
                    new_counted=SQL(source["counted"].format(row="NEW")),
                )
            )

    @api.model
    def _rfm_uninstall_triggers(self):
        cr = self.env.cr
        triggers = ("ecrm_rfm_touch", "ecrm_rfm_touch_insert", "ecrm_rfm_touch_update", "ecrm_rfm_touch_delete")
        for table in ["res_partner"] + [source["table"] for source in RFM_SOURCES.values()]:
            for trigger in triggers:
                cr.execute(SQL("DROP TRIGGER IF EXISTS %s ON %s", SQL.identifier(trigger), SQL.identifier(table)))
        cr.execute(
            SQL(
                """
                DROP FUNCTION IF EXISTS ecrm_rfm_touch_source();
                DROP FUNCTION IF EXISTS ecrm_rfm_touch_partner();
                DROP TABLE IF EXISTS %s
                """,
                SQL.identifier(RFM_TOUCHED_TABLE),
            )
        )

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

    @api.model
    def action_ecrm_compute_rfm(self):
        """ "Recompute now": wakes the daily cron up; the requester is notified when it is done."""
        if not self.env.user.has_group("ecrm_addon.group_ecrm_manager"):
            raise AccessError(self.env._("Only e-CRM managers can recompute the RFM scores."))
        return self.env["ecrm.job.request"]._ecrm_request("rfm")

    @api.model
    def _rfm_refresh_all(self):
        """Recompute the scores of every company."""
        # sudo: the engine reads every invoice / order of each company and
        # writes the score table; callers are the cron and managers.
        for company in self.env["res.company"].sudo().search([]):
            self.sudo()._rfm_refresh_company(company)
        return True

    # ------------------------------------------------------------------
    # Engine: everything below runs in PostgreSQL, set-based, so that the
    # Python side holds no row of the source whatever its size.
    # ------------------------------------------------------------------

    @api.model
    def _rfm_reference_date(self, company):
        return company.ecrm_rfm_date or fields.Date.context_today(self.with_company(company))

    @api.model
    def _rfm_source_sql(self, company, date_from, date_to, partners=None):
        """One row per purchase (or refund) of the company in [date_from, date_to]:
        ``partner_id`` (the commercial partner), ``date``, ``purchase`` (bool),
        ``amount`` (untaxed, company currency; negative for refunds).
        ``partners``: an SQL query of commercial partner ids to restrict to."""
        source = RFM_SOURCES[company.ecrm_rfm_source]
        restrict = SQL("AND p.commercial_partner_id IN (%s)", partners) if partners is not None else SQL()
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
                   AND %(counted)s
                   AND so.date_order >= %(start)s
                   AND so.date_order < %(stop)s
                   %(restrict)s
                """,
                currency=company.currency_id.id,
                digits=digits,
                company=company.id,
                counted=SQL(source["counted"].format(row="so")),
                start=fields.Datetime.to_datetime(date_from),
                stop=fields.Datetime.to_datetime(date_to + timedelta(days=1)),
                restrict=restrict,
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
               AND %(counted)s
               AND am.invoice_date BETWEEN %(start)s AND %(stop)s
               %(restrict)s
            """,
            company=company.id,
            counted=SQL(source["counted"].format(row="am")),
            start=date_from,
            stop=date_to,
            restrict=restrict,
        )

    @api.model
    def _rfm_aggregate_sql(self, company, date_from, date_to, partners=None):
        """The one aggregate pass: frequency, last purchase and monetary per
        commercial partner with at least one purchase in the window (of the
        ``partners`` only, when given)."""
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
            source=self._rfm_source_sql(company, date_from, date_to, partners),
        )

    @api.model
    def _rfm_window(self, company):
        reference_date = self._rfm_reference_date(company)
        return reference_date, reference_date - timedelta(days=company.ecrm_rfm_window_days)

    @api.model
    def _rfm_settings_key(self, company):
        """What a stored result depends on besides the source rows: a daily run
        builds on the stored rows only when it is unchanged."""
        currency = company.currency_id
        return (
            f"{RFM_ENGINE_VERSION}:{company.ecrm_rfm_source}:{company.ecrm_rfm_window_days}"
            f":{currency.id}:{currency.decimal_places}"
        )

    @api.model
    def _rfm_incremental_window(self, company, reference_date):
        """The dates whose purchases changed side since the stored run: the
        ranges that left and entered the window, as (date_from, date_to)
        pairs; None when the stored rows cannot be built on (never computed,
        other settings, the reference date moved back or too far)."""
        scored = company.ecrm_rfm_scored_date
        if not scored or company.ecrm_rfm_scored_key != self._rfm_settings_key(company):
            return None
        step = (reference_date - scored).days
        if step < 0 or step > RFM_INCREMENTAL_MAX_DAYS:
            return None
        if not step:
            return []
        window = timedelta(days=company.ecrm_rfm_window_days)
        return [
            (scored - window, reference_date - window - timedelta(days=1)),  # left the window
            (scored + timedelta(days=1), reference_date),  # entered it
        ]

    @api.model
    def _rfm_affected_sql(self, company, bands):
        """The commercial partners a daily run aggregates again: those logged in
        the ``touched`` CTE (the triggers' log, see ``_rfm_install_triggers``),
        the commercial partners of the contacts logged, and the buyers of the
        documents dated in ``bands`` (the dates that entered or left the window)."""
        band_rows = [
            SQL("SELECT partner_id FROM (%s) band", self._rfm_source_sql(company, start, stop)) for start, stop in bands
        ]
        return SQL(
            """
            WITH mine AS (SELECT partner_id FROM touched WHERE source IS NULL OR source = %(source)s)
            SELECT partner_id FROM mine
             UNION
            SELECT p.commercial_partner_id FROM mine JOIN res_partner p ON p.id = mine.partner_id
            %(bands)s
            """,
            source=company.ecrm_rfm_source,
            bands=SQL("").join(SQL(" UNION %s", band) for band in band_rows),
        )

    @api.model
    def _rfm_touched_copy_sql(self, company):
        """CTEs (each followed by a comma) of the refresh statement that keep
        what the ``touched`` CTE consumes from the log, for the engines that run
        after this one (the customer value); none here."""
        return SQL()

    @api.model
    def _rfm_limits_sql(self, figures):
        """The four quintile limits of each figure among the buyers of
        ``figures`` (rows with ``last_purchase_date``, ``frequency``,
        ``monetary``): columns r1..r4, f1..f4, m1..m4.

        The contract's tie-aware score is ``1 + floor(5 * worse / n)``, ``worse``
        = the buyers strictly worse. With ``c_k = ceil(k * n / 5)``, ``5 * worse
        / n >= k`` exactly when the value is above the ``c_k``-th smallest one,
        which ``percentile_disc`` returns at ``(c_k - 0.5) / n`` (clear of any
        rounding). A score is then 1 + the number of limits below the value:
        three sorts of the figures, no rank over the customers."""
        return SQL(
            """
            WITH figures AS (%(figures)s),
            fractions AS (
                SELECT ARRAY[((n + 4) / 5 - 0.5) / n, ((2 * n + 4) / 5 - 0.5) / n,
                             ((3 * n + 4) / 5 - 0.5) / n, ((4 * n + 4) / 5 - 0.5) / n]::float8[] AS k
                  FROM (SELECT COUNT(*) AS n FROM figures) total
                 WHERE n > 0
            )
            SELECT r[1] AS r1, r[2] AS r2, r[3] AS r3, r[4] AS r4, f[1] AS f1, f[2] AS f2, f[3] AS f3,
                   f[4] AS f4, m[1] AS m1, m[2] AS m2, m[3] AS m3, m[4] AS m4
              FROM (
                    SELECT percentile_disc((SELECT k FROM fractions)) WITHIN GROUP (ORDER BY last_purchase_date) AS r,
                           percentile_disc((SELECT k FROM fractions)) WITHIN GROUP (ORDER BY frequency) AS f,
                           percentile_disc((SELECT k FROM fractions)) WITHIN GROUP (ORDER BY monetary) AS m
                      FROM figures
                   ) arrays
            """,
            figures=figures,
        )

    @api.model
    def _rfm_segment_ids_sql(self):
        """One row, ``ids``: the segment of each of the 125 score combinations
        (the first active one in sequence order whose ranges hold), at index
        ``(r - 1) * 25 + (f - 1) * 5 + m``."""
        return SQL(
            """
            SELECT ARRAY(
                SELECT (SELECT s.id FROM ecrm_rfm_segment s
                         WHERE s.active
                           AND r.v BETWEEN s.r_min AND s.r_max
                           AND f.v BETWEEN s.f_min AND s.f_max
                           AND m.v BETWEEN s.m_min AND s.m_max
                         ORDER BY s.sequence, s.id LIMIT 1)
                  FROM generate_series(1, 5) r(v), generate_series(1, 5) f(v), generate_series(1, 5) m(v)
                 ORDER BY r.v, f.v, m.v
            ) AS ids
            """
        )

    @api.model
    def _rfm_score_columns_sql(self, row):
        """Columns ``r_score``, ``f_score``, ``m_score`` of the figures of the
        row ``row`` (an alias), with the ``limits`` of the statement (NULL when
        they are NULL)."""
        return SQL(
            """
            1 + (%(row)s.last_purchase_date > limits.r1)::int + (%(row)s.last_purchase_date > limits.r2)::int
              + (%(row)s.last_purchase_date > limits.r3)::int + (%(row)s.last_purchase_date > limits.r4)::int
                AS r_score,
            1 + (%(row)s.frequency > limits.f1)::int + (%(row)s.frequency > limits.f2)::int
              + (%(row)s.frequency > limits.f3)::int + (%(row)s.frequency > limits.f4)::int AS f_score,
            1 + (%(row)s.monetary > limits.m1)::int + (%(row)s.monetary > limits.m2)::int
              + (%(row)s.monetary > limits.m3)::int + (%(row)s.monetary > limits.m4)::int AS m_score
            """,
            row=SQL.identifier(row),
        )

    @api.model
    def _rfm_segment_sql(self, row):
        """The segment of the scores of the row ``row``, from the ``segments`` of the statement."""
        return SQL(
            "segments.ids[(%(row)s.r_score - 1) * 25 + (%(row)s.f_score - 1) * 5 + %(row)s.m_score]",
            row=SQL.identifier(row),
        )

    @api.model
    def _rfm_changes_sql(self, company, reference_date, date_from, bands):
        """CTEs ``fresh``, ``limits``, ``segments`` and ``changes``: the new
        state of every customer whose stored row this run changes (row_id,
        partner_id, figures, scores, segment_id, gone, and the stored
        old_frequency, old_segment_id, old_monetary). Unchanged customers are
        not in it.

        ``bands`` None: a full run, the aggregate over the whole window.
        Otherwise a daily run: only the customers of ``_rfm_affected_sql`` are
        aggregated again; every other customer keeps its stored figures, and
        only the scores of those the new limits move change."""
        stored = SQL("SELECT * FROM ecrm_rfm_score WHERE company_id = %s", company.id)
        reaggregated = SQL(
            """
            SELECT x.*, %(segment)s AS segment_id
              FROM (
                    SELECT o.id AS row_id, COALESCE(n.partner_id, o.partner_id) AS partner_id,
                           n.last_purchase_date, n.frequency::int AS frequency, n.monetary, %(scores)s,
                           n.partner_id IS NULL AS gone, COALESCE(o.frequency, 0) AS old_frequency,
                           o.segment_id AS old_segment_id, COALESCE(o.monetary, 0) AS old_monetary,
                           o.last_purchase_date AS old_last_purchase_date, o.frequency AS old_figure_frequency,
                           o.monetary AS old_figure_monetary, o.r_score AS old_r_score, o.f_score AS old_f_score,
                           o.m_score AS old_m_score
                      FROM fresh n
                      FULL JOIN (%(stored)s) o ON o.partner_id = n.partner_id
                      LEFT JOIN limits ON n.partner_id IS NOT NULL
                   ) x, segments
             WHERE (x.last_purchase_date, x.frequency, x.monetary, x.r_score, x.f_score, x.m_score, %(segment)s)
                   IS DISTINCT FROM
                   (x.old_last_purchase_date, x.old_figure_frequency, x.old_figure_monetary, x.old_r_score,
                    x.old_f_score, x.old_m_score, x.old_segment_id)
            """,
            scores=self._rfm_score_columns_sql("n"),
            segment=self._rfm_segment_sql("x"),
            stored=(stored if bands is None else SQL("%s AND partner_id IN (SELECT partner_id FROM affected)", stored)),
        )
        # the columns of ``changes``, whichever branch the row comes from
        reaggregated = SQL(
            """
            SELECT row_id, partner_id, last_purchase_date, frequency, monetary, r_score, f_score, m_score,
                   segment_id, gone, old_frequency, old_segment_id, old_monetary
              FROM (%s) reaggregated
            """,
            reaggregated,
        )
        segments = self._rfm_segment_ids_sql()
        if bands is None:
            return SQL(
                """
                fresh AS MATERIALIZED (%(aggregate)s),
                limits AS MATERIALIZED (%(limits)s),
                segments AS MATERIALIZED (%(segments)s),
                changes AS MATERIALIZED (%(reaggregated)s)
                """,
                aggregate=self._rfm_aggregate_sql(company, date_from, reference_date),
                limits=self._rfm_limits_sql(SQL("SELECT * FROM fresh")),
                segments=segments,
                reaggregated=reaggregated,
            )
        return SQL(
            """
            affected AS MATERIALIZED (%(affected)s),
            fresh AS MATERIALIZED (%(aggregate)s),
            kept AS NOT MATERIALIZED (
                SELECT * FROM (%(stored)s) o
                 WHERE NOT EXISTS (SELECT 1 FROM affected a WHERE a.partner_id = o.partner_id)
            ),
            limits AS MATERIALIZED (%(limits)s),
            segments AS MATERIALIZED (%(segments)s),
            changes AS MATERIALIZED (
                SELECT x.row_id, x.partner_id, x.last_purchase_date, x.frequency, x.monetary,
                       x.r_score, x.f_score, x.m_score, %(segment)s AS segment_id, FALSE AS gone,
                       x.frequency AS old_frequency, x.old_segment_id, x.monetary AS old_monetary
                  FROM (
                        SELECT o.id AS row_id, o.partner_id, o.last_purchase_date, o.frequency, o.monetary,
                               %(scores)s, o.r_score AS old_r_score, o.f_score AS old_f_score,
                               o.m_score AS old_m_score, o.segment_id AS old_segment_id
                          FROM kept o, limits
                       ) x, segments
                 WHERE (x.r_score, x.f_score, x.m_score, %(segment)s)
                       IS DISTINCT FROM (x.old_r_score, x.old_f_score, x.old_m_score, x.old_segment_id)
                 UNION ALL
                %(reaggregated)s
            )
            """,
            affected=self._rfm_affected_sql(company, bands),
            aggregate=self._rfm_aggregate_sql(
                company, date_from, reference_date, SQL("SELECT partner_id FROM affected")
            ),
            stored=stored,
            limits=self._rfm_limits_sql(
                SQL(
                    """SELECT last_purchase_date, frequency, monetary FROM kept
                        UNION ALL
                       SELECT last_purchase_date, frequency, monetary FROM fresh"""
                )
            ),
            segments=segments,
            scores=self._rfm_score_columns_sql("o"),
            segment=self._rfm_segment_sql("x"),
            reaggregated=reaggregated,
        )

    @api.model
    def _rfm_refresh_company(self, company, full=False):
        """Recompute the scores of one company, set-based, in one statement
        that compares the new scores with the stored rows and writes only the
        difference:

        - score rows: new buyers inserted, changed customers updated, customers
          who left the window deleted; unchanged rows are not touched;
        - history (ecrm.rfm.snapshot): one row per customer whose figures,
          scores or segment changed, with the segment and revenue before the
          run; every
          customer's state at any run is its latest row at or before that run
          (see ``_rfm_history_sql``);
        - the segment-migration matrix of the run (ecrm.rfm.migration), every
          cell including the customers who kept their segment.

        A daily run aggregates again only the customers whose purchases
        changed since the stored run and rescores only those the new limits
        move (see ``_rfm_changes_sql``); ``full``, a first run, other settings
        and a reference date moved back or more than
        ``RFM_INCREMENTAL_MAX_DAYS`` ahead aggregate the whole window. Both give
        the same rows. A second run for the same reference date keeps the
        state before the first one as "previous", so the date's moves are
        never lost. Returns False without doing anything when another
        transaction is refreshing the same company (it holds the advisory
        lock), else True.
        """
        cr = self.env.cr
        cr.execute(SQL("SELECT pg_try_advisory_xact_lock(%s, %s), current_setting('jit')", RFM_LOCK_KEY, company.id))
        locked, jit = cr.fetchone()
        if not locked:
            _logger.info("RFM of company %s is being refreshed by another transaction: skipped", company.id)
            return False
        for model in ("res.partner", "account.move", "sale.order", "ecrm.rfm.segment", "ecrm.rfm.score"):
            self.env[model].flush_model()
        reference_date, date_from = self._rfm_window(company)
        bands = None if full else self._rfm_incremental_window(company, reference_date)
        # PostgreSQL's JIT compiles a statement whose estimated cost passes
        # jit_above_cost: for this long one that takes seconds (its estimates
        # count every customer where a few thousand rows flow), ten times what
        # it runs in. Off for this statement, restored below.
        cr.execute(
            SQL(
                """
                SET LOCAL jit = off;
                WITH touched AS (
                    -- the log is consumed by every run: a full one does not need it
                    DELETE FROM ecrm_rfm_touched
                     WHERE company_id = %(company)s
                 RETURNING partner_id, source
                ),
                %(touched_copy)s
                %(changes)s,
                earlier_today AS (
                    -- history rows of a run of the same date: their "before" is the date's
                    SELECT partner_id, frequency, previous_segment_id, previous_monetary
                      FROM ecrm_rfm_snapshot
                     WHERE company_id = %(company)s AND date = %(reference)s
                ),
                diff AS MATERIALIZED (
                    SELECT c.*, (%(reference)s::date - c.last_purchase_date)::int AS recency_days,
                           CASE WHEN t.partner_id IS NOT NULL THEN t.previous_segment_id
                                ELSE c.old_segment_id END AS previous_segment_id,
                           CASE WHEN t.partner_id IS NOT NULL THEN t.previous_monetary
                                ELSE c.old_monetary END AS previous_monetary,
                           -- gone again the date it came: no customer before the date, none after
                           CASE WHEN c.gone AND t.partner_id IS NOT NULL THEN NOT EXISTS (
                                    SELECT 1
                                      FROM (SELECT s.frequency FROM ecrm_rfm_snapshot s
                                             WHERE s.company_id = %(company)s AND s.partner_id = c.partner_id
                                               AND s.date < %(reference)s
                                             ORDER BY s.date DESC LIMIT 1) before
                                     WHERE before.frequency > 0)
                                ELSE FALSE END AS fleeting
                      FROM changes c
                      LEFT JOIN earlier_today t ON t.partner_id = c.partner_id
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
                     WHERE row.id = d.row_id AND NOT d.gone
                       -- through the primary key: the planner cannot know how few rows change
                       AND row.id = ANY(ARRAY(SELECT row_id FROM diff WHERE row_id IS NOT NULL AND NOT gone))
                ),
                deleted AS (
                    DELETE FROM ecrm_rfm_score row
                     WHERE row.id = ANY(ARRAY(SELECT row_id FROM diff WHERE row_id IS NOT NULL AND gone))
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
                     WHERE NOT (gone AND old_frequency = 0) AND NOT fleeting
                    ON CONFLICT (company_id, date, partner_id) DO UPDATE SET
                        recency_days = EXCLUDED.recency_days, frequency = EXCLUDED.frequency,
                        monetary = EXCLUDED.monetary, r_score = EXCLUDED.r_score, f_score = EXCLUDED.f_score,
                        m_score = EXCLUDED.m_score, segment_id = EXCLUDED.segment_id
                ),
                fleeting_history AS (
                    DELETE FROM ecrm_rfm_snapshot h
                     USING diff d
                     WHERE d.fleeting AND h.company_id = %(company)s AND h.date = %(reference)s
                       AND h.partner_id = d.partner_id
                ),
                replaced_matrix AS (
                    DELETE FROM ecrm_rfm_migration WHERE company_id = %(company)s AND date = %(reference)s
                )
                -- every cell: each stored customer in its segment, then the moves
                -- (those of this run, and those of an earlier run of the date)
                -- instead of the rows they change
                INSERT INTO ecrm_rfm_migration (
                    company_id, date, previous_segment_id, segment_id, customer_count, monetary, previous_monetary)
                SELECT %(company)s, %(reference)s, previous_segment_id, segment_id,
                       SUM(customers), SUM(monetary), SUM(previous_monetary)
                  FROM (
                        SELECT segment_id AS previous_segment_id, segment_id, COUNT(*) AS customers,
                               SUM(monetary) AS monetary, SUM(monetary) AS previous_monetary
                          FROM ecrm_rfm_score
                         WHERE company_id = %(company)s
                         GROUP BY segment_id
                         UNION ALL
                        SELECT o.segment_id, o.segment_id, -1, -o.monetary, -o.monetary
                          FROM ecrm_rfm_score o
                         WHERE o.id = ANY(ARRAY(
                                   SELECT row_id FROM diff WHERE row_id IS NOT NULL
                                    UNION
                                   SELECT o2.id FROM earlier_today t
                                     JOIN ecrm_rfm_score o2
                                       ON o2.partner_id = t.partner_id AND o2.company_id = %(company)s))
                         UNION ALL
                        SELECT previous_segment_id, segment_id, 1, COALESCE(monetary, 0), previous_monetary
                          FROM diff
                         WHERE NOT (gone AND old_frequency = 0) AND NOT fleeting
                         UNION ALL
                        -- moved by an earlier run of the date, left as they are by this one
                        SELECT t.previous_segment_id, o.segment_id, 1, o.monetary, t.previous_monetary
                          FROM earlier_today t
                          JOIN ecrm_rfm_score o ON o.partner_id = t.partner_id AND o.company_id = %(company)s
                         WHERE NOT EXISTS (SELECT 1 FROM diff d WHERE d.partner_id = t.partner_id)
                         UNION ALL
                        -- taken out of the window by an earlier run of the date
                        SELECT t.previous_segment_id, NULL, 1, 0, t.previous_monetary
                          FROM earlier_today t
                         WHERE t.frequency = 0
                           AND NOT EXISTS (SELECT 1 FROM diff d WHERE d.partner_id = t.partner_id)
                       ) cells
                 GROUP BY previous_segment_id, segment_id
                HAVING SUM(customers) > 0
                """,
                changes=self._rfm_changes_sql(company, reference_date, date_from, bands),
                touched_copy=self._rfm_touched_copy_sql(company),
                company=company.id,
                reference=reference_date,
            )
        )
        # a pending ORM write of these fields must not land after, and undo, this update
        company.flush_recordset(["ecrm_rfm_scored_date", "ecrm_rfm_scored_key"])
        cr.execute(
            SQL(
                """UPDATE res_company SET ecrm_rfm_scored_date = %s, ecrm_rfm_scored_key = %s WHERE id = %s;
                   SELECT set_config('jit', %s, true)""",
                reference_date,
                self._rfm_settings_key(company),
                company.id,
                jit,
            )
        )
        company.invalidate_recordset(["ecrm_rfm_scored_date", "ecrm_rfm_scored_key"])
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

    @api.model
    def _cron_ecrm_compute_rfm(self):
        """Daily refresh, one company per slice, committed between slices
        outside tests; a company another worker is refreshing is skipped.
        A run somebody asked for ("Recompute now") aggregates the whole
        window again and tells them when it is done."""
        requests = self.env["ecrm.job.request"]._ecrm_start("rfm")
        companies = self.env["res.company"].sudo().search([])
        cron = self.env["ir.cron"]
        cron._notify_progress(done=0, remaining=len(companies))
        commit = auto_commit()
        if commit:
            self.env.cr.commit()  # pylint: disable=invalid-commit
        for done, company in enumerate(companies, start=1):
            # sudo: see _rfm_refresh_all
            self.sudo()._rfm_refresh_company(company, full=bool(requests))
            cron._notify_progress(done=done, remaining=len(companies) - done)
            if commit:
                self.env.cr.commit()  # pylint: disable=invalid-commit
        requests._ecrm_done("rfm", lambda env: env._("The RFM scores are up to date."))
        return True
