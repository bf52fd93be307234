# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import fields, models


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    ecrm_rfm_source = fields.Selection(related="company_id.ecrm_rfm_source", readonly=False)
    ecrm_rfm_window_days = fields.Integer(related="company_id.ecrm_rfm_window_days", readonly=False)
    ecrm_rfm_date = fields.Date(related="company_id.ecrm_rfm_date", readonly=False)
    ecrm_pressure_half_life_days = fields.Integer(related="company_id.ecrm_pressure_half_life_days", readonly=False)
    ecrm_late_delivery_margin_hours = fields.Integer(
        string="Late delivery margin (hours)",
        config_parameter="ecrm_addon.late_delivery_margin_hours",
        default=24,
        help="A customer delivery still not done this many hours after its scheduled date opens a case.",
    )
