# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import logging
import time
from datetime import timedelta

import numpy as np

from odoo import api, fields, models
from odoo.tools import SQL

from ..tools import clv

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
# Rows per write-back statement: bounds the statement's size and memory.
CLV_WRITE_BATCH = 100000
# Columns of ecrm_clv_score written by each run -> their PostgreSQL type.
CLV_WRITE_COLUMNS = {
    "frequency": "int4",
    "recency_days": "int4",
    "age_days": "int4",
    "past_value": "numeric",
    "p_alive": "float8",
    "expected_purchases": "float8",
    "expected_value": "numeric",
    "churn_risk": "varchar",
    "high_value": "bool",
}
# Puts back the planner settings the inputs statement turned off.
CLV_RESTORE_SETTINGS = SQL(
    "SELECT set_config('jit', current_setting('ecrm.clv_jit'), true), "
    "set_config('enable_hashagg', current_setting('ecrm.clv_hashagg'), true)"
)


def _pg_array(values):
    """A PostgreSQL array literal of numbers or plain words (no quoting
    needed), built at C speed: adapting a list item by item costs several
    times the statement it feeds for 100k customers."""
    return "{" + ",".join(map(str, values)) + "}"


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

    # ------------------------------------------------------------------
    # Engine
    # ------------------------------------------------------------------

    @api.model
    def _clv_period(self, company):
        """(start, reference): the calibration period, ending on the RFM reference date."""
        reference = self.env["ecrm.rfm.score"]._rfm_reference_date(company)
        return reference - timedelta(days=company.ecrm_clv_calibration_days), reference

    @api.model
    def _clv_inputs_sql(self, company, start, reference):
        """One row per customer with a purchase in [start, reference], from the
        RFM source (same documents, company currency): partner_id, frequency
        (purchase days - 1), recency (days from the first purchase to the
        last), age (days from the first purchase to the end of the reference
        day), value (net amount of the period, refunds deducted), first_value
        (net amount of the first purchase day)."""
        return SQL(
            """
            SELECT partner_id,
                   COUNT(*) FILTER (WHERE purchase) - 1 AS frequency,
                   MAX(date) FILTER (WHERE purchase) - MIN(date) FILTER (WHERE purchase) AS recency,
                   %(end)s::date - MIN(date) FILTER (WHERE purchase) AS age,
                   SUM(amount)::float8 AS value,
                   -- the amount of the earliest purchase day (one row per day): hashable, no sort
                   (MIN(ARRAY[date - %(end)s::date, amount]) FILTER (WHERE purchase))[2]::float8 AS first_value
              FROM (
                    SELECT partner_id, date, bool_or(purchase) AS purchase, SUM(amount)::numeric AS amount
                      FROM (%(source)s) src
                     GROUP BY partner_id, date
                   ) per_day
             GROUP BY partner_id
            HAVING COUNT(*) FILTER (WHERE purchase) > 0
            """,
            source=self.env["ecrm.rfm.score"]._rfm_source_sql(company, start, reference),
            end=reference + timedelta(days=1),
        )

    @api.model
    def _clv_margin_ratios(self, company, start, reference, partner_ids):
        """Gross margin / untaxed amount of each customer (an array along
        ``partner_ids``) when the shop enables sales margins, else None: the
        expected value is then untaxed revenue. Margins come from the bridge
        addon ``ecrm_sale_margin`` (installed with ``sale_margin``)."""
        return None

    @api.model
    def _clv_fit(self, company, frequency, recency, age, monetary):
        """Fit both models; returns (values for ecrm.clv.fit, BG/NBD params or
        None, Gamma-Gamma params or None). A fit that fails is reported in
        the health check, never raised."""
        _ = self.env._
        repeat = int(np.count_nonzero(frequency > 0))
        vals = {"customer_count": len(frequency), "repeat_customer_count": repeat, "state": "ok"}
        health = []
        bgnbd = gamma_gamma = None
        if not len(frequency):
            vals.update(state="failed", health=_("No purchase in the calibration period: there is nothing to fit."))
            return vals, None, None
        try:
            bgnbd = clv.fit_bgnbd(frequency, recency, age)
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
            gamma_gamma = clv.fit_gamma_gamma(np.where(monetary > 0, frequency, 0), np.maximum(monetary, 0))
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
        return np.atleast_1d(p_alive), np.atleast_1d(purchases), np.atleast_1d(expected_value)

    @api.model
    def _clv_write(self, company, reference, partner_ids, columns, then=None):
        """Write the figures of the company's customers: ``columns`` maps each
        field of ``CLV_WRITE_COLUMNS`` to a numpy array along ``partner_ids``
        (not empty). One statement per batch of ``CLV_WRITE_BATCH`` customers
        updates their rows from the arrays (``UPDATE ... FROM unnest(...)``, in
        place: no indexed column changes) and inserts the missing ones; the
        first also deletes the rows of the customers who left the calibration
        period. ``then``: SQL run with the first statement. The arrays travel
        as PostgreSQL array literals."""
        names = list(CLV_WRITE_COLUMNS)
        for begin in range(0, len(partner_ids), CLV_WRITE_BATCH):
            end = begin + CLV_WRITE_BATCH
            arrays = SQL(", ").join(
                SQL("%s::%s[]", _pg_array(columns[name][begin:end].tolist()), SQL(CLV_WRITE_COLUMNS[name]))
                for name in names
            )
            gone = SQL(
                """gone AS (
                       DELETE FROM ecrm_clv_score
                        WHERE company_id = %s AND partner_id <> ALL(%s::int4[])
                   ),""",
                company.id,
                _pg_array(partner_ids),
            )
            self.env.cr.execute(
                SQL(
                    """
                    WITH new AS MATERIALIZED (
                        SELECT n.*, r.segment_id
                          FROM unnest(%(partners)s::int4[], %(arrays)s) AS n(partner_id, %(names)s)
                          LEFT JOIN ecrm_rfm_score r ON r.partner_id = n.partner_id AND r.company_id = %(company)s
                    ),
                    %(gone)s
                    updated AS (
                        UPDATE ecrm_clv_score s
                           SET date = %(reference)s, segment_id = new.segment_id, %(assign)s
                          FROM new
                         WHERE s.company_id = %(company)s AND s.partner_id = new.partner_id
                        RETURNING s.partner_id
                    )
                    INSERT INTO ecrm_clv_score (company_id, date, partner_id, segment_id, %(names)s)
                    SELECT %(company)s, %(reference)s, new.partner_id, new.segment_id, %(new_names)s
                      FROM new
                     WHERE NOT EXISTS (SELECT 1 FROM updated WHERE updated.partner_id = new.partner_id);
                    %(then)s
                    """,
                    partners=_pg_array(partner_ids[begin:end]),
                    arrays=arrays,
                    names=SQL(", ").join(SQL.identifier(name) for name in names),
                    new_names=SQL(", ").join(SQL.identifier("new", name) for name in names),
                    assign=SQL(", ").join(
                        SQL("%s = %s", SQL.identifier(name), SQL.identifier("new", name)) for name in names
                    ),
                    gone=gone if not begin else SQL(),
                    then=then if then is not None and not begin else SQL(),
                    company=company.id,
                    reference=reference,
                )
            )

    @api.model
    def _clv_refresh_company(self, company):
        """Fit the models on the company's purchases of the calibration period
        and rewrite every customer's figures: one aggregate statement in, one
        fit, numpy scoring, one statement per batch of customers out (see
        ``_clv_write``; rows of customers who left the period deleted). A
        failed fit scores with the company's latest working parameters, or
        leaves no figures; it never fails the RFM run.
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
                   %s""",
                self._clv_inputs_sql(company, start, reference),
            )
        )
        rows = cr.fetchall()
        partner_ids = [row[0] for row in rows]
        figures = np.array([row[1:] for row in rows], dtype=float).reshape(len(rows), 5)
        frequency, recency, age, value, first_value = figures.T
        with np.errstate(divide="ignore", invalid="ignore"):
            monetary = np.where(frequency > 0, (value - first_value) / np.maximum(frequency, 1), 0.0)
        fit_vals, bgnbd, gamma_gamma = self._clv_fit(company, frequency, recency, age, monetary)
        Fit = self.env["ecrm.clv.fit"]
        fit_vals.update(company_id=company.id, date=reference, calibration_days=company.ecrm_clv_calibration_days)
        if bgnbd is None and len(rows):
            previous = Fit.search([("company_id", "=", company.id), ("state", "!=", "failed")], limit=1)
            if previous:
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
        churn = np.where(
            p_alive < company.ecrm_churn_high_below,
            "high",
            np.where(p_alive < company.ecrm_churn_medium_below, "medium", "low"),
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
                "past_value": np.round(value, company.currency_id.decimal_places),
                "p_alive": np.round(p_alive, 6),
                "expected_purchases": np.round(purchases, 4),
                "expected_value": expected_value,
                "churn_risk": churn,
                "high_value": np.where(high_value, "t", "f"),
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
