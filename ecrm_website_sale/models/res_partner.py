# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, models


class ResPartner(models.Model):
    _inherit = "res.partner"

    @api.depends("complete_name", "email", "vat", "state_id", "country_id", "commercial_company_name")
    @api.depends_context(
        "show_address", "partner_show_db_id", "address_inline", "show_email", "show_vat", "lang", "ecrm_guest_view"
    )
    def _compute_display_name(self):
        return super()._compute_display_name()

    def _get_complete_name(self):
        """Under the context key ``ecrm_guest_view`` (a guest looking at an
        order of theirs that was put on an existing customer) a contact is
        named by its own name only: the customer's name stays unseen."""
        if self.env.context.get("ecrm_guest_view") and self.parent_id and not self.is_company:
            return (self.name or "").strip()
        return super()._get_complete_name()
