# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models
from odoo.exceptions import ValidationError


class ResCompany(models.Model):
    _inherit = "res.company"

    ecrm_rfm_source = fields.Selection(
        [("invoice", "Posted customer invoices"), ("sale", "Confirmed sales orders")],
        string="RFM Source",
        default="invoice",
        required=True,
        help="Posted customer invoices: refunds reduce the monetary value and do not "
        "count as purchases. Confirmed sales orders: every confirmed order counts.",
    )
    ecrm_rfm_window_days = fields.Integer(
        string="RFM Window (days)",
        default=365,
        help="Purchases older than this many days are left out of frequency and monetary value.",
    )
    ecrm_rfm_date = fields.Date(
        string="RFM Reference Date",
        help="The date the scores are computed for. Empty: the day of the computation.",
    )
    ecrm_rfm_scored_date = fields.Date(
        string="RFM Scores Computed For",
        readonly=True,
        copy=False,
        help="The reference date of the latest RFM computation; recency is counted up to it.",
    )
    ecrm_rfm_scored_key = fields.Char(
        string="RFM Scores Computed With",
        readonly=True,
        copy=False,
        help="The engine version, source, window and company currency (with its rounding) of the latest "
        "RFM computation: the next daily run updates its rows only when they are unchanged, else it "
        "aggregates the whole window.",
    )

    ecrm_pressure_half_life_days = fields.Integer(
        string="Pressure Half-life (days)",
        default=30,
        help="A touch weighs half as much in the customer's pressure after this many days.",
    )

    @api.constrains("ecrm_pressure_half_life_days")
    def _check_ecrm_pressure_half_life_days(self):
        for company in self:
            if company.ecrm_pressure_half_life_days <= 0:
                raise ValidationError(
                    self.env._(
                        "The pressure half-life of %(company)s must be at least one day, not %(days)s.",
                        company=company.name,
                        days=company.ecrm_pressure_half_life_days,
                    )
                )

    @api.constrains("ecrm_rfm_window_days")
    def _check_ecrm_rfm_window_days(self):
        for company in self:
            if company.ecrm_rfm_window_days <= 0:
                raise ValidationError(
                    self.env._(
                        "The RFM window of %(company)s must be at least one day, not %(days)s.",
                        company=company.name,
                        days=company.ecrm_rfm_window_days,
                    )
                )
