# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, models


class Website(models.Model):
    _inherit = "website"

    @api.model
    def _send_abandoned_cart_email(self):
        """Odoo's cron, with the pressure rules: a held cart is not marked as
        reminded (Odoo marks every cart it skips), so the next run retries it;
        the reminders sent are logged as marketing emails."""
        held, allowed = [], []
        website = self.with_context(ecrm_cart_held=held, ecrm_cart_allowed=allowed)
        result = super(Website, website)._send_abandoned_cart_email()
        Order = self.env["sale.order"]
        Order.browse(held).cart_recovery_email_sent = False
        Order.browse(allowed).filtered("cart_recovery_email_sent")._ecrm_log_cart_recovery()
        return result
