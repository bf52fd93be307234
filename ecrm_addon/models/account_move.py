from odoo import models


class AccountMove(models.Model):
    _name = "account.move"
    _inherit = ["account.move", "ecrm.case.document.mixin"]
    _ecrm_case_field = "invoice_id"
