from odoo import models


class SaleOrder(models.Model):
    _name = "sale.order"
    _inherit = ["sale.order", "ecrm.case.document.mixin"]
    _ecrm_case_field = "sale_order_id"
