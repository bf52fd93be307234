# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import fields, models, tools


class AccountMove(models.Model):
    _name = "account.move"
    _inherit = ["account.move", "ecrm.case.document.mixin"]
    _ecrm_case_field = "invoice_id"

    def init(self):
        res = super().init()
        # The customer 360 reads a customer's unpaid invoices by commercial
        # partner, which Odoo does not index: without it every form open scans
        # every invoice of the database.
        tools.create_index(
            self.env.cr,
            "account_move_ecrm_commercial_partner_id_idx",
            self._table,
            ["commercial_partner_id"],
            where="commercial_partner_id IS NOT NULL",
        )
        return res

    def _post(self, soft=True):
        posted = super()._post(soft=soft)
        posted.filtered(lambda m: m.is_sale_document(include_receipts=True))._ecrm_log_posted()
        return posted

    def _ecrm_log_posted(self):
        """One log row per posted customer invoice or credit note, in one batch."""
        now = fields.Datetime.now()
        Interaction = self.env["ecrm.interaction"]
        Interaction._log(
            [
                Interaction._log_values(
                    move,
                    move.partner_id.id,
                    self.env._("Invoice %(name)s posted", name=move.name)
                    if move.move_type != "out_refund"
                    else self.env._("Credit note %(name)s posted", name=move.name),
                    "other",
                    "outbound",
                    "transactional",
                    date=now,
                    company_id=move.company_id.id,
                )
                for move in self
            ]
        )
