# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import fields, models


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    ecrm_clv_calibration_days = fields.Integer(related="company_id.ecrm_clv_calibration_days", readonly=False)
    ecrm_churn_high_below = fields.Float(related="company_id.ecrm_churn_high_below", readonly=False)
    ecrm_churn_medium_below = fields.Float(related="company_id.ecrm_churn_medium_below", readonly=False)
    ecrm_rule_min_support = fields.Float(related="company_id.ecrm_rule_min_support", readonly=False)
    ecrm_rule_min_confidence = fields.Float(related="company_id.ecrm_rule_min_confidence", readonly=False)
    ecrm_rule_min_lift = fields.Float(related="company_id.ecrm_rule_min_lift", readonly=False)
    ecrm_clv_fit_state = fields.Selection(related="company_id.ecrm_clv_fit_id.state", string="Model Health")
    ecrm_clv_fit_health = fields.Text(related="company_id.ecrm_clv_fit_id.health", string="Model Health Check")
    ecrm_clv_fit_date = fields.Date(related="company_id.ecrm_clv_fit_id.date", string="Model Fitted For")
