# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import models


class SaleOrder(models.Model):
    _name = "sale.order"
    _inherit = ["sale.order", "ecrm.case.document.mixin"]
    _ecrm_case_field = "sale_order_id"

    def action_confirm(self):
        result = super().action_confirm()
        self.filtered(lambda o: o.state == "sale")._ecrm_log_confirmed()
        return result

    def _ecrm_log_confirmed(self):
        """One log row per confirmed order, written in one batch: the customer bought."""
        # an order the customer confirmed on the portal (signature, payment) came in on the web
        channel = "web" if self.env.user._is_public() or self.env.user._is_portal() else "other"
        Interaction = self.env["ecrm.interaction"]
        Interaction._log(
            [
                Interaction._log_values(
                    order,
                    order.partner_id.id,
                    self.env._("Order %(name)s confirmed", name=order.name),
                    channel,
                    "inbound",
                    "sales",
                    date=order.date_order,
                    company_id=order.company_id.id,
                )
                for order in self
            ]
        )
