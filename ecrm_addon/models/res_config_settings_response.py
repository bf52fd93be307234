# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import fields, models


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    ecrm_response_sends = fields.Integer(related="company_id.ecrm_response_sends", readonly=False)
    ecrm_unresponsive_sends = fields.Integer(related="company_id.ecrm_unresponsive_sends", readonly=False)
    ecrm_response_window_days = fields.Integer(related="company_id.ecrm_response_window_days", readonly=False)
