from odoo import api, fields, models


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

    def message_post(self, **kwargs):
        message = super().message_post(**kwargs)
        if self.env.context.get("from_alias") and message.message_type == "email":
            self._ecrm_log_inbound_email(message)
        return message

    def _ecrm_log_inbound_email(self, message):
        """An email from a customer arrived on a document (mail gateway): log it.

        Cases log their own messages (see the cases feature), internal users'
        emails are no customer touch."""
        author = message.author_id
        if self._name == "ecrm.case" or not author or not author.partner_share:
            return
        record = self[:1]
        self.env["ecrm.interaction"]._log(
            [
                {
                    "partner_id": author.id,
                    "name": message.subject or self.env._("Email received"),
                    "channel": "email",
                    "direction": "inbound",
                    "category": "service",
                    "res_model": record._name,
                    "res_id": record.id,
                    "date": message.date or fields.Datetime.now(),
                    "company_id": (
                        record[record._mail_get_company_field()].id if record._mail_get_company_field() else False
                    )
                    or self.env.company.id,
                }
            ]
        )
