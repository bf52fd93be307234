# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import fields, models

FIT_STATES = [("ok", "Good"), ("warning", "Rough"), ("failed", "Not fitted")]


class EcrmClvFit(models.Model):
    """The customer value model of one company fitted by one RFM run: the
    BG/NBD parameters (purchases and dropout), the Gamma-Gamma ones (purchase
    value), their log-likelihoods and a health check in plain words. Written
    by the engine only (see ecrm.clv.score)."""

    _name = "ecrm.clv.fit"
    _description = "Customer Value Model Fit"
    _order = "id desc"  # latest run first
    _rec_name = "date"

    company_id = fields.Many2one("res.company", required=True, readonly=True, ondelete="cascade", index=True)
    date = fields.Date(string="Fitted For", required=True, readonly=True, help="The RFM reference date of the run.")
    calibration_days = fields.Integer(string="Calibration (days)", readonly=True)
    customer_count = fields.Integer(
        string="Customers", readonly=True, help="Customers with a purchase in the calibration period."
    )
    repeat_customer_count = fields.Integer(
        string="Repeat Buyers",
        readonly=True,
        help="Customers who bought on more than one day of the calibration period.",
    )
    state = fields.Selection(FIT_STATES, string="Health", required=True, readonly=True, default="ok")
    health = fields.Text(string="Health Check", readonly=True)
    error = fields.Char(string="Technical Detail", readonly=True, help="The message of the failed fit, if any.")
    params_fit_id = fields.Many2one(
        "ecrm.clv.fit",
        string="Parameters From",
        readonly=True,
        ondelete="set null",
        help="The earlier fit whose parameters scored the customers when this one failed.",
    )
    bgnbd_r = fields.Float(string="r (purchase rate shape)", digits=(16, 6), readonly=True)
    bgnbd_alpha = fields.Float(string="alpha (purchase rate scale, days)", digits=(16, 6), readonly=True)
    bgnbd_a = fields.Float(string="a (dropout)", digits=(16, 6), readonly=True)
    bgnbd_b = fields.Float(string="b (dropout)", digits=(16, 6), readonly=True)
    bgnbd_log_likelihood = fields.Float(string="Purchase Model Log-likelihood", digits=(16, 4), readonly=True)
    gg_p = fields.Float(string="p (purchase value shape)", digits=(16, 6), readonly=True)
    gg_q = fields.Float(string="q (value spread shape)", digits=(16, 6), readonly=True)
    gg_v = fields.Float(string="v (value spread scale)", digits=(16, 6), readonly=True)
    gg_log_likelihood = fields.Float(string="Value Model Log-likelihood", digits=(16, 4), readonly=True)
    duration = fields.Float(string="Duration (s)", digits=(16, 3), readonly=True)
