# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, models


class ResPartner(models.Model):
    _inherit = "res.partner"

    # the dependencies of the parent methods add up (resolve_mro): only the new key
    @api.depends_context("ecrm_guest_view")
    def _compute_display_name(self):
        return super()._compute_display_name()

    def _get_complete_name(self):
        """Under the context key ``ecrm_guest_view`` (a guest looking at an
        order of theirs that was put on an existing customer) a contact is
        named by its own name only: the customer's name stays unseen."""
        if self.env.context.get("ecrm_guest_view") and self.parent_id and not self.is_company:
            return (self.name or "").strip()
        return super()._get_complete_name()
