# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import io
import logging
import time
from datetime import timedelta

import numpy as np

from odoo import api, fields, models
from odoo.tools import SQL

from ..tools import clv
from .ecrm_rfm_score import RFM_TOUCHED_TABLE

_logger = logging.getLogger(__name__)

CHURN_RISKS = [("low", "Low risk"), ("medium", "Medium risk"), ("high", "High risk")]
# Horizons of the figures, in days.
CLV_PURCHASES_DAYS = 90
CLV_VALUE_DAYS = 365
# Fewer repeat buyers than this: the fit is kept but flagged as rough.
CLV_MIN_REPEAT_BUYERS = 30
# Share of the buyers, by value in the calibration period, flagged "high value".
CLV_HIGH_VALUE_SHARE = 0.2
# The partner fields that show the current company's row -> ecrm.clv.score field.
CLV_SCORE_FIELDS = {
    "ecrm_p_alive": "p_alive",
    "ecrm_expected_purchases": "expected_purchases",
    "ecrm_expected_value": "expected_value",
    "ecrm_churn_risk": "churn_risk",
    "ecrm_high_value": "high_value",
}
# Rows per COPY into the run's staging table: bounds the memory of one buffer.
CLV_WRITE_BATCH = 100000
# Columns of ecrm_clv_score written by each run -> (type in the staging
# table, binary COPY type, digits). Decimal figures are staged as whole numbers
# of their last digit (``digits``: a number, or "currency" for the company
# currency's) and scaled back exactly by the statement. Everything travels as
# one binary COPY built by numpy: formatting 100k floats as text, or turning
# floats into numeric in PostgreSQL, costs more than writing the rows.
CLV_WRITE_COLUMNS = {
    "frequency": ("int4", ">i4", None),
    "recency_days": ("int4", ">i4", None),
    "age_days": ("int4", ">i4", None),
    "past_value": ("int8", ">i8", "currency"),
    "p_alive": ("int8", ">i8", 6),
    "expected_purchases": ("int8", ">i8", 4),
    "expected_value": ("int8", ">i8", "currency"),
    "churn_risk": ("int2", ">i2", None),  # index in CHURN_RISKS
    "high_value": ("bool", "u1", None),
}
# The run's staging table (temporary: the session's own, emptied at commit).
CLV_STAGE_TABLE = "ecrm_clv_stage"
_COPY_HEADER = b"PGCOPY\n\xff\r\n\x00" + b"\x00" * 8  # signature, flags, no header extension
_COPY_TRAILER = b"\xff\xff"
# Bumped when the stored inputs change shape: the next run then computes them all again.
CLV_ENGINE_VERSION = 1
# Plain tables of the engine (no ORM access, no access rights to give): the
# inputs of each customer in the calibration period, kept between runs (the
# date and settings they were computed for are on the company); the customers
# logged by the RFM run's triggers (``ecrm_rfm_touched``) that the RFM run
# consumed, kept for the next customer value run.
CLV_INPUT_TABLE = "ecrm_clv_input"
CLV_TOUCHED_TABLE = "ecrm_clv_touched"
# A run builds on the stored inputs up to this many days after them; further,
# the whole calibration period is aggregated again.
CLV_INCREMENTAL_MAX_DAYS = 31
# Puts back the planner settings the inputs statement turned off.
CLV_RESTORE_SETTINGS = SQL(
    "SELECT set_config('jit', current_setting('ecrm.clv_jit'), true), "
    "set_config('enable_hashagg', current_setting('ecrm.clv_hashagg'), true)"
)


def _copy_binary(columns):
    """The rows of ``columns`` (a list of (numpy array, big-endian numpy type),
    one per column, of equal length, no missing value) in PostgreSQL's binary
    COPY format, built by numpy at C speed."""
    count = len(columns[0][0])
    dtype = [("fields", ">i2")]
    for index, (_values, kind) in enumerate(columns):
        dtype += [(f"size{index}", ">i4"), (f"value{index}", kind)]
    rows = np.empty(count, dtype=dtype)
    rows["fields"] = len(columns)
    for index, (values, kind) in enumerate(columns):
        rows[f"size{index}"] = np.dtype(kind).itemsize
        rows[f"value{index}"] = values
    return _COPY_HEADER + rows.tobytes() + _COPY_TRAILER


def _copy_out(cr, query, kinds):
    """The rows of ``query`` (columns of the big-endian numpy types ``kinds``,
    fixed-width, never null) as one numpy array per column, read by a binary
    COPY: fetching 100k rows as Python tuples costs more than the query."""
    buffer = io.BytesIO()
    cr.copy_expert(f"COPY ({cr.mogrify(query.code, query.params).decode()}) TO STDOUT WITH (FORMAT binary)", buffer)
    data = buffer.getbuffer()
    dtype = [("fields", ">i2")]
    for index, kind in enumerate(kinds):
        dtype += [(f"size{index}", ">i4"), (f"value{index}", kind)]
    count, rest = divmod(len(data) - len(_COPY_HEADER) - len(_COPY_TRAILER), np.dtype(dtype).itemsize)
    rows = np.frombuffer(data, dtype=dtype, count=count, offset=len(_COPY_HEADER))
    if rest or any(np.any(rows[f"size{index}"] != np.dtype(kind).itemsize) for index, kind in enumerate(kinds)):
        raise ValueError("the query returned a null or a value of another type than expected")
    return [rows[f"value{index}"].astype(kind.replace(">", "=")) for index, kind in enumerate(kinds)]


class EcrmClvScore(models.Model):
    """The customer value figures of one customer in one company: every
    customer with a purchase in the calibration period (longer than the RFM
    window: the lapsed customers are the ones at risk). Rewritten for the
    whole company by each RFM run, in one statement, from the model fitted on
    the same purchases (see ``_clv_refresh_company``)."""

    _name = "ecrm.clv.score"
    _description = "Customer Value"
    _order = "company_id, expected_value desc, partner_id"
    _rec_name = "partner_id"
    _log_access = False

    partner_id = fields.Many2one("res.partner", string="Customer", required=True, ondelete="cascade", readonly=True)
    company_id = fields.Many2one("res.company", required=True, ondelete="cascade", readonly=True)
    currency_id = fields.Many2one(related="company_id.currency_id")
    date = fields.Date(string="Computed For", readonly=True)
    segment_id = fields.Many2one(
        "ecrm.rfm.segment", string="RFM Segment", readonly=True, ondelete="set null", help="The RFM segment of the run."
    )
    frequency = fields.Integer(
        string="Repeat Purchases", readonly=True, help="Purchase days after the first one in the calibration period."
    )
    recency_days = fields.Integer(
        string="Age at Last Purchase (days)", readonly=True, help="Days from the first to the last purchase."
    )
    age_days = fields.Integer(
        string="Customer Age (days)", readonly=True, help="Days from the first purchase to the reference date."
    )
    past_value = fields.Monetary(
        string="Value in Calibration",
        readonly=True,
        help="Untaxed amount bought in the calibration period, refunds deducted, in the company currency.",
    )
    p_alive = fields.Float(
        string="Probability Active",
        digits=(16, 4),
        readonly=True,
        aggregator="avg",
        help="Probability that the customer still buys (BG/NBD); 1 for a customer with a single purchase.",
    )
    expected_purchases = fields.Float(
        string="Expected Purchases (90 days)",
        digits=(16, 2),
        readonly=True,
        help="Expected purchases in the next 90 days.",
    )
    expected_value = fields.Monetary(
        string="Expected Value (12 months)",
        readonly=True,
        help="Expected untaxed value of the next 12 months' purchases (gross margin when sales margins are enabled), "
        "in the company currency.",
    )
    churn_risk = fields.Selection(
        CHURN_RISKS, readonly=True, help="From the probability of being active and the thresholds in the settings."
    )
    high_value = fields.Boolean(
        readonly=True, help="Among the fifth of the customers who bought the most in the calibration period."
    )

    _sql_constraints = [
        ("partner_company_unique", "UNIQUE(partner_id, company_id)", "A customer has one value row per company."),
    ]

    def init(self):
        # Every run rewrites every row without touching an indexed column: with
        # room on each page PostgreSQL updates them in place (HOT), indexes untouched.
        self.env.cr.execute(SQL("ALTER TABLE %s SET (fillfactor = 50)", SQL.identifier(self._table)))
        self._clv_install_tables()

    @api.model
    def _clv_install_tables(self):
        """The tables of the incremental inputs (see ``_clv_update_inputs_sql``)."""
        self.env.cr.execute(
            SQL(
                """
                CREATE TABLE IF NOT EXISTS %(inputs)s (
                    company_id int4 NOT NULL REFERENCES res_company (id) ON DELETE CASCADE,
                    partner_id int4 NOT NULL REFERENCES res_partner (id) ON DELETE CASCADE,
                    first_date date NOT NULL,
                    last_date date NOT NULL,
                    purchase_days int4 NOT NULL,
                    value numeric NOT NULL,
                    first_value numeric NOT NULL,
                    PRIMARY KEY (company_id, partner_id));
                CREATE TABLE IF NOT EXISTS %(touched)s (company_id int4 NOT NULL, partner_id int4 NOT NULL);
                CREATE INDEX IF NOT EXISTS %(touched_index)s ON %(touched)s (company_id);
                """,
                inputs=SQL.identifier(CLV_INPUT_TABLE),
                touched=SQL.identifier(CLV_TOUCHED_TABLE),
                touched_index=SQL.identifier(f"{CLV_TOUCHED_TABLE}_company_id_idx"),
            )
        )

    @api.model
    def _clv_uninstall_tables(self):
        for table in (CLV_INPUT_TABLE, CLV_TOUCHED_TABLE):
            self.env.cr.execute(SQL("DROP TABLE IF EXISTS %s", SQL.identifier(table)))

    # ------------------------------------------------------------------
    # Engine
    # ------------------------------------------------------------------

    @api.model
    def _clv_period(self, company):
        """(start, reference): the calibration period, ending on the RFM reference date."""
        reference = self.env["ecrm.rfm.score"]._rfm_reference_date(company)
        return reference - timedelta(days=company.ecrm_clv_calibration_days), reference

    @api.model
    def _clv_days_sql(self, company, start, reference, partners=None):
        """One row per customer with a purchase in [start, reference], from the
        RFM source (same documents, company currency), as stored in
        ``ecrm_clv_input``: partner_id, first_date and last_date (of the
        purchases), purchase_days, value (net amount of the period, refunds
        deducted), first_value (net amount of the first purchase day).
        ``partners``: an SQL query of commercial partner ids to restrict to."""
        return SQL(
            """
            SELECT partner_id,
                   MIN(date) FILTER (WHERE purchase) AS first_date,
                   MAX(date) FILTER (WHERE purchase) AS last_date,
                   COUNT(*) FILTER (WHERE purchase) AS purchase_days,
                   SUM(amount) AS value,
                   -- the amount of the earliest purchase day (one row per day): hashable, no sort
                   (MIN(ARRAY[date - %(end)s::date, amount]) FILTER (WHERE purchase))[2] AS first_value
              FROM (
                    SELECT partner_id, date, bool_or(purchase) AS purchase, SUM(amount)::numeric AS amount
                      FROM (%(source)s) src
                     GROUP BY partner_id, date
                   ) per_day
             GROUP BY partner_id
            HAVING COUNT(*) FILTER (WHERE purchase) > 0
            """,
            source=self.env["ecrm.rfm.score"]._rfm_source_sql(company, start, reference, partners),
            end=reference + timedelta(days=1),
        )

    @api.model
    def _clv_inputs_sql(self, company, start, reference):
        """One row per customer with a purchase in [start, reference], from the
        RFM source (same documents, company currency): partner_id, frequency
        (purchase days - 1), recency (days from the first purchase to the
        last), age (days from the first purchase to the end of the reference
        day), value (net amount of the period, refunds deducted), first_value
        (net amount of the first purchase day). The full computation, what
        ``_clv_update_inputs_sql`` keeps up to date."""
        return SQL(
            """
            SELECT partner_id, purchase_days - 1 AS frequency, last_date - first_date AS recency,
                   %(end)s::date - first_date AS age, value::float8 AS value, first_value::float8 AS first_value
              FROM (%(days)s) days
            """,
            days=self._clv_days_sql(company, start, reference),
            end=reference + timedelta(days=1),
        )

    @api.model
    def _clv_settings_key(self, company):
        """What the stored inputs depend on besides the documents: a run builds
        on them only when it is unchanged."""
        currency = company.currency_id
        return (
            f"{CLV_ENGINE_VERSION}:{company.ecrm_rfm_source}:{company.ecrm_clv_calibration_days}"
            f":{currency.id}:{currency.decimal_places}"
        )

    @api.model
    def _clv_incremental_bands(self, company, reference):
        """The dates whose documents entered or left the calibration period
        since the stored inputs, as (date_from, date_to) pairs; None when the
        stored inputs cannot be built on (none, other settings, the reference
        date moved back or more than ``CLV_INCREMENTAL_MAX_DAYS`` ahead)."""
        stored = company.ecrm_clv_inputs_date
        if not stored or company.ecrm_clv_inputs_key != self._clv_settings_key(company):
            return None
        step = (reference - stored).days
        if step < 0 or step > CLV_INCREMENTAL_MAX_DAYS:
            return None
        if not step:
            return []
        period = timedelta(days=company.ecrm_clv_calibration_days)
        return [
            (stored - period, reference - period - timedelta(days=1)),  # left the period
            (stored + timedelta(days=1), reference),  # entered it
        ]

    @api.model
    def _clv_update_inputs_sql(self, company, start, reference, full=False):
        """The statements that bring the company's stored inputs
        (``ecrm_clv_input``, one row per customer with a purchase in the
        calibration period) to [start, reference]. A daily run aggregates again only the customers whose
        documents changed (the RFM triggers' log: ``ecrm_rfm_touched``, and
        what the RFM runs consumed of it, kept in ``ecrm_clv_touched``) and
        the buyers of the days that entered or left the period; ``full``, a
        first run, other settings and a reference date moved back or too far
        ahead aggregate the whole period. Both give the same rows: each
        customer's row depends only on its own documents of the period.
        They also delete the figures (ecrm_clv_score) of the customers whose
        inputs went, and record the date and settings of the inputs on the company."""
        bands = None if full else self._clv_incremental_bands(company, reference)
        inputs = SQL.identifier(CLV_INPUT_TABLE)
        touched = SQL.identifier(CLV_TOUCHED_TABLE)
        columns = SQL("company_id, partner_id, first_date, last_date, purchase_days, value, first_value")
        if bands is None:
            update = SQL(
                """
                    DELETE FROM %(inputs)s WHERE company_id = %(company)s;
                    DELETE FROM %(touched)s WHERE company_id = %(company)s;
                    INSERT INTO %(inputs)s (%(columns)s) SELECT %(company)s, days.* FROM (%(days)s) days;
                    DELETE FROM ecrm_clv_score s
                     WHERE s.company_id = %(company)s
                       AND NOT EXISTS (SELECT 1 FROM %(inputs)s i
                                        WHERE i.company_id = s.company_id AND i.partner_id = s.partner_id)
                    """,
                inputs=inputs,
                touched=touched,
                columns=columns,
                company=company.id,
                days=self._clv_days_sql(company, start, reference),
            )
        else:
            band_rows = [
                SQL(
                    "SELECT partner_id FROM (%s) band",
                    self.env["ecrm.rfm.score"]._rfm_source_sql(company, date_from, date_to),
                )
                for date_from, date_to in bands
            ]
            update = SQL(
                """
                    WITH logged AS (
                        SELECT partner_id FROM %(touched)s WHERE company_id = %(company)s
                         UNION
                        SELECT partner_id FROM %(rfm_touched)s WHERE company_id = %(company)s
                    ),
                    affected AS MATERIALIZED (
                        SELECT partner_id FROM logged
                         UNION
                        SELECT p.commercial_partner_id FROM logged JOIN res_partner p ON p.id = logged.partner_id
                        %(bands)s
                    ),
                    consumed AS (DELETE FROM %(touched)s WHERE company_id = %(company)s),
                    fresh AS MATERIALIZED (%(days)s),
                    upserted AS (
                        INSERT INTO %(inputs)s AS i (%(columns)s)
                        SELECT %(company)s, fresh.* FROM fresh
                        ON CONFLICT (company_id, partner_id) DO UPDATE
                           SET first_date = EXCLUDED.first_date, last_date = EXCLUDED.last_date,
                               purchase_days = EXCLUDED.purchase_days, value = EXCLUDED.value,
                               first_value = EXCLUDED.first_value
                         WHERE (i.first_date, i.last_date, i.purchase_days, i.value, i.first_value)
                               IS DISTINCT FROM (EXCLUDED.first_date, EXCLUDED.last_date, EXCLUDED.purchase_days,
                                                 EXCLUDED.value, EXCLUDED.first_value)
                    ),
                    removed AS (
                        DELETE FROM %(inputs)s i
                         WHERE i.company_id = %(company)s
                           AND i.partner_id IN (SELECT partner_id FROM affected)
                           AND NOT EXISTS (SELECT 1 FROM fresh WHERE fresh.partner_id = i.partner_id)
                        RETURNING i.partner_id
                    )
                    -- the customers who left the period lose their figures
                    DELETE FROM ecrm_clv_score s
                     WHERE s.company_id = %(company)s AND s.partner_id IN (SELECT partner_id FROM removed)
                    """,
                inputs=inputs,
                touched=touched,
                rfm_touched=SQL.identifier(RFM_TOUCHED_TABLE),
                columns=columns,
                company=company.id,
                bands=SQL("").join(SQL(" UNION %s", band) for band in band_rows),
                days=self._clv_days_sql(company, start, reference, SQL("SELECT partner_id FROM affected")),
            )
        return SQL(
            "%s; UPDATE res_company SET ecrm_clv_inputs_date = %s, ecrm_clv_inputs_key = %s WHERE id = %s",
            update,
            reference,
            self._clv_settings_key(company),
            company.id,
        )

    @api.model
    def _clv_margin_ratios(self, company, start, reference, partner_ids):
        """Gross margin / untaxed amount of each customer (an array along
        ``partner_ids``) when the shop enables sales margins, else None: the
        expected value is then untaxed revenue. Margins come from the bridge
        addon ``ecrm_sale_margin`` (installed with ``sale_margin``)."""
        return None

    @api.model
    def _clv_fit(self, company, frequency, recency, age, monetary, latest=None):
        """Fit both models, starting from the parameters of ``latest`` (the
        company's latest working ecrm.clv.fit, if any); returns (values for
        ecrm.clv.fit, BG/NBD params or None, Gamma-Gamma params or None). A fit
        that fails is reported in the health check, never raised."""
        _ = self.env._
        repeat = int(np.count_nonzero(frequency > 0))
        vals = {"customer_count": len(frequency), "repeat_customer_count": repeat, "state": "ok"}
        health = []
        bgnbd = gamma_gamma = None
        if not len(frequency):
            vals.update(state="failed", health=_("No purchase in the calibration period: there is nothing to fit."))
            return vals, None, None
        # The search starts from the company's latest working fit (``latest``): a
        # day's documents hardly move the optimum, which is then reached in a few steps.
        latest = latest or self.env["ecrm.clv.fit"]
        bgnbd_start = latest and clv.BgNbdParams(latest.bgnbd_r, latest.bgnbd_alpha, latest.bgnbd_a, latest.bgnbd_b)
        gamma_gamma_start = latest.gg_q > 1 and clv.GammaGammaParams(latest.gg_p, latest.gg_q, latest.gg_v)
        try:
            bgnbd = clv.fit_bgnbd(frequency, recency, age, start=bgnbd_start or None)
            # the figures below must be computable with these parameters
            clv.expected_purchases(bgnbd, CLV_VALUE_DAYS, frequency[:1], recency[:1], age[:1])
        except ValueError as error:
            bgnbd = None
            vals.update(state="failed", error=str(error))
            health.append(
                _(
                    "The purchase model could not be fitted: the purchases of the calibration period are too few "
                    "or too alike to tell how often customers buy and when they stop."
                )
            )
        else:
            vals.update(
                bgnbd_r=bgnbd.r,
                bgnbd_alpha=bgnbd.alpha,
                bgnbd_a=bgnbd.a,
                bgnbd_b=bgnbd.b,
                bgnbd_log_likelihood=bgnbd.log_likelihood,
            )
        if repeat < CLV_MIN_REPEAT_BUYERS:
            health.append(
                _(
                    "Only %(count)s customers bought more than once in the calibration period; at least "
                    "%(minimum)s are needed for reliable figures: take them as rough, or lengthen the calibration.",
                    count=repeat,
                    minimum=CLV_MIN_REPEAT_BUYERS,
                )
            )
            if vals["state"] == "ok":
                vals["state"] = "warning"
        try:
            gamma_gamma = clv.fit_gamma_gamma(
                np.where(monetary > 0, frequency, 0),
                np.maximum(monetary, 0),
                start=gamma_gamma_start or None,
            )
            if gamma_gamma.q <= 1:
                raise ValueError(f"q = {gamma_gamma.q} is at most 1: the mean purchase value is infinite")
        except ValueError as error:
            gamma_gamma = None
            vals["error"] = "; ".join(filter(None, [vals.get("error"), str(error)]))
            health.append(
                _(
                    "The purchase value model could not be fitted: the expected value uses each customer's own "
                    "average purchase."
                )
            )
            if vals["state"] == "ok":
                vals["state"] = "warning"
        else:
            vals.update(
                gg_p=gamma_gamma.p, gg_q=gamma_gamma.q, gg_v=gamma_gamma.v, gg_log_likelihood=gamma_gamma.log_likelihood
            )
        if not health:
            health.append(
                _(
                    "The model fits %(customers)s customers, %(repeat)s of whom bought more than once.",
                    customers=len(frequency),
                    repeat=repeat,
                )
            )
        vals["health"] = "\n".join(health)
        return vals, bgnbd, gamma_gamma

    @api.model
    def _clv_scores(
        self, company, bgnbd, gamma_gamma, frequency, recency, age, value, monetary, start, reference, partner_ids
    ):
        """P(alive), expected purchases in the next 90 days and expected value
        of the next 12 months (company currency, rounded) of each customer."""
        p_alive = clv.p_alive(bgnbd, frequency, recency, age)
        purchases = clv.expected_purchases(bgnbd, CLV_PURCHASES_DAYS, frequency, recency, age)
        purchases_year = clv.expected_purchases(bgnbd, CLV_VALUE_DAYS, frequency, recency, age)
        if gamma_gamma is not None:
            spend = clv.expected_spend(gamma_gamma, np.where(monetary > 0, frequency, 0), np.maximum(monetary, 0))
        else:
            spend = np.maximum(value, 0) / (frequency + 1)
        margins = self._clv_margin_ratios(company, start, reference, partner_ids)
        if margins is not None:
            spend = spend * margins
        expected_value = np.round(purchases_year * spend, company.currency_id.decimal_places)
        figures = np.atleast_1d(p_alive), np.atleast_1d(purchases), np.atleast_1d(expected_value)
        if not all(np.all(np.isfinite(figure)) for figure in figures):
            raise ValueError("the parameters give figures that are not finite numbers")
        return figures

    @api.model
    def _clv_write(self, company, reference, partner_ids, columns, then=None):
        """Write the figures of the company's customers: ``columns`` maps each
        field of ``CLV_WRITE_COLUMNS`` to a numpy array along ``partner_ids``
        (not empty), decimal figures unrounded, churn risks as their index in
        ``CHURN_RISKS``. The figures are copied (binary COPY, in batches of
        ``CLV_WRITE_BATCH``) into the session's staging table, then one
        statement updates the rows in place (no indexed column changes) and
        inserts the missing ones. (The rows of the customers who left the
        calibration period go with their inputs, in
        ``_clv_update_inputs_sql``.) ``then``: SQL run with that statement."""
        cr = self.env.cr
        names = list(CLV_WRITE_COLUMNS)
        stage = SQL.identifier(CLV_STAGE_TABLE)
        cr.execute(
            SQL(
                "CREATE TEMPORARY TABLE IF NOT EXISTS %(stage)s (partner_id int4, %(columns)s) ON COMMIT DELETE ROWS;"
                "TRUNCATE %(stage)s",
                stage=stage,
                columns=SQL(", ").join(
                    SQL("%s %s", SQL.identifier(name), SQL(CLV_WRITE_COLUMNS[name][0])) for name in names
                ),
            )
        )
        currency_digits = company.currency_id.decimal_places
        values, staged = {}, []
        for name in names:
            digits = CLV_WRITE_COLUMNS[name][2]
            digits = currency_digits if digits == "currency" else digits
            column = SQL.identifier("t", name)
            if name == "churn_risk":
                column = SQL("(%s::varchar[])[%s + 1]", [key for key, _label in CHURN_RISKS], column)
            if digits is None:
                values[name] = columns[name]
            else:
                values[name] = np.rint(columns[name] * 10.0**digits)
                column = SQL("%s * %s", column, SQL(f"1e-{digits}::numeric"))
            staged.append((name, column))
        partners = np.asarray(partner_ids, dtype=np.int64)
        for begin in range(0, len(partners), CLV_WRITE_BATCH):
            end = begin + CLV_WRITE_BATCH
            data = _copy_binary(
                [(partners[begin:end], ">i4")]
                + [(values[name][begin:end], CLV_WRITE_COLUMNS[name][1]) for name in names]
            )
            cr.copy_expert(f"COPY {CLV_STAGE_TABLE} FROM STDIN WITH (FORMAT binary)", io.BytesIO(data))
        cr.execute(
            SQL(
                """
                WITH updated AS (
                    UPDATE ecrm_clv_score s
                       SET date = %(reference)s, segment_id = r.segment_id, %(assign)s
                      FROM %(stage)s t
                      LEFT JOIN ecrm_rfm_score r ON r.partner_id = t.partner_id AND r.company_id = %(company)s
                     WHERE s.company_id = %(company)s AND s.partner_id = t.partner_id
                )
                -- the rows missing before this statement (its snapshot): the others are updated above
                INSERT INTO ecrm_clv_score (company_id, date, partner_id, segment_id, %(names)s)
                SELECT %(company)s, %(reference)s, t.partner_id, r.segment_id, %(staged)s
                  FROM %(stage)s t
                  LEFT JOIN ecrm_rfm_score r ON r.partner_id = t.partner_id AND r.company_id = %(company)s
                 WHERE NOT EXISTS (SELECT 1 FROM ecrm_clv_score s
                                    WHERE s.company_id = %(company)s AND s.partner_id = t.partner_id);
                %(then)s
                """,
                staged=SQL(", ").join(column for _name, column in staged),
                stage=stage,
                names=SQL(", ").join(SQL.identifier(name) for name in names),
                assign=SQL(", ").join(SQL("%s = %s", SQL.identifier(name), column) for name, column in staged),
                then=then if then is not None else SQL(),
                company=company.id,
                reference=reference,
            )
        )

    @api.model
    def _clv_refresh_company(self, company, full=False):
        """Fit the models on the company's purchases of the calibration period
        and rewrite every customer's figures: the inputs brought up to date
        (``_clv_update_inputs_sql``: only the customers whose documents changed,
        unless ``full``; the figures of customers who left the period deleted)
        and read by a binary COPY, one fit, numpy scoring, one binary COPY and
        one statement out (see ``_clv_write``). A failed fit scores with the company's latest
        working parameters, or leaves no figures; it never fails the RFM run.
        Returns the ecrm.clv.fit record."""
        started = time.perf_counter()
        cr = self.env.cr
        for model in ("res.partner", "account.move", "sale.order", "ecrm.rfm.score"):
            self.env[model].flush_model()
        start, reference = self._clv_period(company)
        # The planner's own choices, restored by the statement that writes the
        # figures: JIT compiling takes longer than this statement runs at shop
        # scale (as for the RFM engine), and one sort feeds both grouping levels
        # where two hash tables of every purchase day cost more.
        cr.execute(
            SQL(
                """SELECT set_config('ecrm.clv_jit', current_setting('jit'), true),
                          set_config('ecrm.clv_hashagg', current_setting('enable_hashagg'), true);
                   SET LOCAL jit = off;
                   SET LOCAL enable_hashagg = off;
                   %(update)s""",
                update=self._clv_update_inputs_sql(company, start, reference, full=full),
            )
        )
        company.invalidate_recordset(["ecrm_clv_inputs_date", "ecrm_clv_inputs_key"])
        inputs = _copy_out(
            cr,
            SQL(
                """SELECT partner_id, purchase_days - 1, last_date - first_date, %(end)s::date - first_date,
                          value::float8, first_value::float8
                     FROM %(inputs)s
                    WHERE company_id = %(company)s
                    ORDER BY partner_id""",
                inputs=SQL.identifier(CLV_INPUT_TABLE),
                company=company.id,
                end=reference + timedelta(days=1),
            ),
            [">i4", ">i4", ">i4", ">i4", ">f8", ">f8"],
        )
        partner_ids = inputs[0].tolist()
        frequency, recency, age, value, first_value = (column.astype(float) for column in inputs[1:])
        with np.errstate(divide="ignore", invalid="ignore"):
            monetary = np.where(frequency > 0, (value - first_value) / np.maximum(frequency, 1), 0.0)
        Fit = self.env["ecrm.clv.fit"]
        # the company's latest working fit: where the new fit starts, what a failed one scores with
        previous = (
            Fit.search([("company_id", "=", company.id), ("state", "!=", "failed")], limit=1) if partner_ids else Fit
        )
        fit_vals, bgnbd, gamma_gamma = self._clv_fit(company, frequency, recency, age, monetary, latest=previous)
        fit_vals.update(company_id=company.id, date=reference, calibration_days=company.ecrm_clv_calibration_days)
        if bgnbd is None and previous:
            bgnbd = clv.BgNbdParams(previous.bgnbd_r, previous.bgnbd_alpha, previous.bgnbd_a, previous.bgnbd_b)
            fit_vals["params_fit_id"] = previous.id
            fit_vals["health"] += "\n" + self.env._(
                "The figures use the parameters fitted for %(date)s.", date=previous.date
            )
        if bgnbd is not None:
            try:
                p_alive, purchases, expected_value = self._clv_scores(
                    company, bgnbd, gamma_gamma, frequency, recency, age, value, monetary, start, reference, partner_ids
                )
            except ValueError as error:
                bgnbd = None
                fit_vals.update(state="failed", error=str(error))
                fit_vals["health"] += "\n" + self.env._("The figures could not be computed with the fitted parameters.")
        if bgnbd is None:
            fit_vals["duration"] = time.perf_counter() - started
            fit = Fit.create(fit_vals)
            cr.execute(SQL("DELETE FROM ecrm_clv_score WHERE company_id = %s; %s", company.id, CLV_RESTORE_SETTINGS))
            self.invalidate_model()
            self.env["res.partner"].invalidate_model(list(CLV_SCORE_FIELDS))
            return fit
        # index in CHURN_RISKS: low, medium, high
        churn = np.where(
            p_alive < company.ecrm_churn_high_below, 2, np.where(p_alive < company.ecrm_churn_medium_below, 1, 0)
        )
        high_value = (value > 0) & (value >= np.quantile(value, 1 - CLV_HIGH_VALUE_SHARE))
        fit_vals["duration"] = time.perf_counter() - started
        fit = Fit.create(fit_vals)
        Fit.flush_model()
        self._clv_write(
            company,
            reference,
            partner_ids,
            {
                "frequency": frequency.astype(int),
                "recency_days": recency.astype(int),
                "age_days": age.astype(int),
                "past_value": value,
                "p_alive": p_alive,
                "expected_purchases": purchases,
                "expected_value": expected_value,
                "churn_risk": churn,
                "high_value": high_value,
            },
            then=CLV_RESTORE_SETTINGS,
        )
        self.invalidate_model()
        self.env["res.partner"].invalidate_model(list(CLV_SCORE_FIELDS))
        _logger.info(
            "Customer value of company %s: %s customers scored in %.2fs (%s)",
            company.id,
            len(partner_ids),
            time.perf_counter() - started,
            fit.state,
        )
        return fit
