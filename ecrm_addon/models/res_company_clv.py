# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models
from odoo.exceptions import ValidationError


class ResCompany(models.Model):
    _inherit = "res.company"

    ecrm_clv_calibration_days = fields.Integer(
        string="Customer Value Calibration (days)",
        default=730,
        help="Days of purchase history, up to the RFM reference date, the customer value model is fitted on.",
    )
    ecrm_clv_inputs_date = fields.Date(
        string="Customer Value Inputs Computed For",
        readonly=True,
        copy=False,
        help="The reference date the stored inputs of the customer value (per customer, over the calibration "
        "period) were computed for.",
    )
    ecrm_clv_inputs_key = fields.Char(
        string="Customer Value Inputs Computed With",
        readonly=True,
        copy=False,
        help="The engine version, source, calibration and company currency (with its rounding) of the stored "
        "customer value inputs: the next daily run updates them only when these are unchanged.",
    )
    ecrm_churn_high_below = fields.Float(
        string="High Churn Risk Below",
        default=0.3,
        help="A customer whose probability of still being a customer is below this is at high churn risk.",
    )
    ecrm_churn_medium_below = fields.Float(
        string="Medium Churn Risk Below",
        default=0.7,
        help="A customer whose probability of still being a customer is below this (and not below the "
        "high-risk threshold) is at medium churn risk; above it, low.",
    )
    ecrm_rule_min_support = fields.Float(
        string="Minimum Support (%)",
        default=1.0,
        help="Share of the orders of the RFM window that must hold both products of a "
        '"frequently bought together" rule (and at least 2 orders).',
    )
    ecrm_rule_min_confidence = fields.Float(
        string="Minimum Confidence (%)",
        default=10.0,
        help="Share of the orders holding the first product that must also hold the recommended one.",
    )
    ecrm_rule_min_lift = fields.Float(
        string="Minimum Lift",
        default=1.0,
        help="How many times more often the two products are bought together than by chance; "
        "above 1, the first product makes the second more likely.",
    )
    ecrm_clv_fit_id = fields.Many2one(
        "ecrm.clv.fit",
        string="Latest Customer Value Fit",
        compute="_compute_ecrm_clv_fit_id",
        help="The customer value model fitted by the latest RFM run of the company.",
    )

    def _compute_ecrm_clv_fit_id(self):
        # sudo: the health of the company's latest fit, shown in its settings
        fits = self.env["ecrm.clv.fit"].sudo()
        for company in self:
            company.ecrm_clv_fit_id = fits.search([("company_id", "=", company.id)], limit=1)

    @api.constrains("ecrm_clv_calibration_days")
    def _check_ecrm_clv_calibration_days(self):
        for company in self:
            if company.ecrm_clv_calibration_days < 30:
                raise ValidationError(
                    self.env._(
                        "The customer value calibration of %(company)s must be at least 30 days, not %(days)s.",
                        company=company.name,
                        days=company.ecrm_clv_calibration_days,
                    )
                )

    @api.constrains("ecrm_churn_high_below", "ecrm_churn_medium_below")
    def _check_ecrm_churn_thresholds(self):
        for company in self:
            if not 0 <= company.ecrm_churn_high_below <= company.ecrm_churn_medium_below <= 1:
                raise ValidationError(
                    self.env._(
                        "The churn risk thresholds of %(company)s must hold 0 <= high <= medium <= 1.",
                        company=company.name,
                    )
                )

    @api.constrains("ecrm_rule_min_support", "ecrm_rule_min_confidence", "ecrm_rule_min_lift")
    def _check_ecrm_rule_minimums(self):
        for company in self:
            if not (
                0 <= company.ecrm_rule_min_support <= 100
                and 0 <= company.ecrm_rule_min_confidence <= 100
                and company.ecrm_rule_min_lift >= 0
            ):
                raise ValidationError(
                    self.env._(
                        "The product rule minimums of %(company)s must be percentages between 0 and 100 "
                        "and a non-negative lift.",
                        company=company.name,
                    )
                )
