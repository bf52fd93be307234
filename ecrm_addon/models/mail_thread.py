from odoo import api, models


class MailThread(models.AbstractModel):
    _inherit = "mail.thread"

    @api.model
    def _mail_search_on_partner(self, normalized_emails, extra_domain=False):
        """Rank the partners Odoo finds for incoming addresses like ``_ecrm_match``
        does: when several partners share an address, the customer itself and the
        most recently active come first, so the gateway picks that one.

        Odoo's lookup (followers, users, the company sort of the thread) runs as
        before; only the order among partners that tie is changed."""
        partners = super()._mail_search_on_partner(normalized_emails, extra_domain=extra_domain)
        if len(partners) < 2:
            return partners
        ranked = self.env["res.partner"]
        for email in dict.fromkeys(normalized_emails):
            same = partners.filtered(lambda p, email=email: p.email_normalized == email)
            if len(same) > 1:
                order = self.env["res.partner"]._ecrm_match_candidates(email=email).ids
                same = same.sorted(lambda p, order=order: order.index(p.id) if p.id in order else len(order))
            ranked |= same
        return ranked | partners
