# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models
from odoo.exceptions import ValidationError


class ResCompany(models.Model):
    _inherit = "res.company"

    ecrm_response_sends = fields.Integer(
        string="Response Rate Sends",
        default=10,
        help="The response rate of a customer on a channel is counted over its last this many marketing sends.",
    )
    ecrm_unresponsive_sends = fields.Integer(
        string="Unresponsive After",
        default=5,
        help="A customer is unresponsive on a channel when none of its last this many marketing sends was "
        "opened, clicked or replied to.",
    )
    ecrm_response_window_days = fields.Integer(
        string="Response Window (days)",
        default=180,
        help="Marketing sends older than this many days are left out of the response figures.",
    )

    @api.constrains("ecrm_response_sends", "ecrm_unresponsive_sends", "ecrm_response_window_days")
    def _check_ecrm_response_settings(self):
        for company in self:
            if min(company.ecrm_response_sends, company.ecrm_unresponsive_sends, company.ecrm_response_window_days) < 1:
                raise ValidationError(
                    self.env._(
                        "The response figures of %(company)s need at least one send and one day.",
                        company=company.name,
                    )
                )
