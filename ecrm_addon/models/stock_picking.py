from odoo import fields, models


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
