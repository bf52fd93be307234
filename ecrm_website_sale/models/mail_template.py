# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import models


class MailTemplate(models.Model):
    _inherit = "mail.template"

    def _generate_template_recipients(self, res_ids, render_fields, find_or_create_partners=False, render_results=None):
        """The emails of an order a guest checked out with another email than
        the customer it was put on go to what the guest typed (see
        ``sale.order._ecrm_guest_mail_contacts``), not to the customer."""
        render_results = super()._generate_template_recipients(
            res_ids,
            render_fields,
            find_or_create_partners=find_or_create_partners,
            render_results=render_results,
        )
        if self.model != "sale.order":
            return render_results
        # sudo: only the orders' partner ids are read, as the parent does (ModelSudo)
        orders = self.env["sale.order"].sudo().browse(res_ids)
        for order_id, contact in orders._ecrm_guest_mail_contacts().items():
            values = render_results.get(order_id) or {}
            customer_id = orders.browse(order_id).partner_id.id
            if customer_id in values.get("partner_ids", []):
                values["partner_ids"] = list(
                    dict.fromkeys(contact.id if pid == customer_id else pid for pid in values["partner_ids"])
                )
        return render_results
