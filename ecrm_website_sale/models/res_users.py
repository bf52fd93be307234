# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import models


class ResUsers(models.Model):
    _inherit = "res.users"

    def _signup_create_user(self, values):
        """A signup stays a customer of its own, but when its email or phone
        is another customer's it goes to the duplicate review at once, not at
        the nightly scan."""
        user = super()._signup_create_user(values)
        # sudo: the signing-up visitor may not read customers; only review groups are written
        self.env["ecrm.duplicate.group"].sudo()._ecrm_flag_partners(user.partner_id)
        return user
