# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import fields, models


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    ecrm_web_retention_days = fields.Integer(related="company_id.ecrm_web_retention_days", readonly=False)
    ecrm_cart_recovery_defer_days = fields.Integer(related="company_id.ecrm_cart_recovery_defer_days", readonly=False)
