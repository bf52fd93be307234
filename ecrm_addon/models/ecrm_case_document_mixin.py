# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import fields, models


class EcrmCaseDocumentMixin(models.AbstractModel):
    """Cases smart button and "Open a case" on a sales document (order,
    delivery, invoice). ``_ecrm_case_field`` names the case's link to it."""

    _name = "ecrm.case.document.mixin"
    _description = "Document with Cases"
    _ecrm_case_field = None

    ecrm_case_count = fields.Integer(
        string="Cases", compute="_compute_ecrm_case_count", groups="ecrm_addon.group_ecrm_user"
    )

    def _compute_ecrm_case_count(self):
        counts = dict(
            self.env["ecrm.case"]._read_group(
                [(self._ecrm_case_field, "in", self.ids)], [self._ecrm_case_field], ["__count"]
            )
        )
        for document in self:
            document.ecrm_case_count = counts.get(document, 0)

    def _ecrm_case_defaults(self):
        self.ensure_one()
        return {
            f"default_{self._ecrm_case_field}": self.id,
            "default_partner_id": self.partner_id.id,
            "default_company_id": self.company_id.id,
        }

    def action_ecrm_view_cases(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("ecrm_addon.ecrm_case_action")
        action["domain"] = [(self._ecrm_case_field, "=", self.id)]
        action["context"] = self._ecrm_case_defaults()
        return action

    def action_ecrm_open_case(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Open a Case"),
            "res_model": "ecrm.case",
            "view_mode": "form",
            "target": "current",
            "context": self._ecrm_case_defaults(),
        }
