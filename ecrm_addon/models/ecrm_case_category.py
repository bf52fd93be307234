# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import ast

from odoo import fields, models


class EcrmCaseCategory(models.Model):
    """Kind of case. A category may have its own email alias (returns@,
    billing@...): mails sent there open cases of that category."""

    _name = "ecrm.case.category"
    _description = "Case Category"
    _inherit = ["mail.alias.mixin.optional"]
    _order = "sequence, id"

    name = fields.Char(required=True, translate=True)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    description = fields.Text(translate=True)

    def _alias_get_creation_values(self):
        values = super()._alias_get_creation_values()
        values["alias_model_id"] = self.env["ir.model"]._get_id("ecrm.case")
        values["alias_contact"] = "everyone"
        if self.id:
            values["alias_defaults"] = defaults = ast.literal_eval(self.alias_defaults or "{}")
            defaults.update({"category_id": self.id, "channel": "email"})
        return values
