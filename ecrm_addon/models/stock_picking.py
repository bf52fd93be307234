# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import fields, models

# Customer deliveries still to do: neither draft, done nor cancelled
PENDING_PICKING_STATES = ("waiting", "confirmed", "assigned")
PENDING_DELIVERY_DOMAIN = [("picking_type_code", "=", "outgoing"), ("state", "in", PENDING_PICKING_STATES)]


class StockPicking(models.Model):
    _name = "stock.picking"
    _inherit = ["stock.picking", "ecrm.case.document.mixin"]
    _ecrm_case_field = "picking_id"

    ecrm_late_case_id = fields.Many2one(
        "ecrm.case",
        string="Late Delivery Case",
        copy=False,
        readonly=True,
        index="btree_not_null",
        ondelete="set null",
        help="The case opened because this delivery is late (once per delivery).",
    )

    def _action_done(self):
        result = super()._action_done()
        self.filtered(lambda p: p.state == "done" and p.picking_type_code == "outgoing")._ecrm_log_delivered()
        return result

    def _ecrm_log_delivered(self):
        """One log row per delivery done, in one batch."""
        now = fields.Datetime.now()
        Interaction = self.env["ecrm.interaction"]
        Interaction._log(
            [
                Interaction._log_values(
                    picking,
                    picking.partner_id.id,
                    self.env._("Delivery %(name)s done", name=picking.name),
                    "other",
                    "outbound",
                    "transactional",
                    date=picking.date_done or now,
                    company_id=picking.company_id.id,
                )
                for picking in self
            ]
        )
