# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models
from odoo.exceptions import ValidationError


class ResCompany(models.Model):
    _inherit = "res.company"

    ecrm_web_retention_days = fields.Integer(
        string="Web Activity Kept (days)",
        default=90,
        help="Abandoned carts, product and category views and wishlist adds stay this many days in the "
        "interaction log; a daily job removes older ones.",
    )
    ecrm_cart_recovery_defer_days = fields.Integer(
        string="Cart Recovery Deferral (days)",
        default=3,
        help="An abandoned-cart email a pressure rule blocks waits for the rule to free if it frees within "
        "this many days of the cart; otherwise it is not sent. 0: never wait.",
    )

    @api.constrains("ecrm_web_retention_days", "ecrm_cart_recovery_defer_days")
    def _check_ecrm_web_days(self):
        for company in self:
            if company.ecrm_web_retention_days < 1 or company.ecrm_cart_recovery_defer_days < 0:
                raise ValidationError(
                    self.env._(
                        "%(company)s: web activity is kept at least one day and the cart recovery "
                        "deferral cannot be negative.",
                        company=company.name,
                    )
                )
