from odoo import api, fields, models


class MailThread(models.AbstractModel):
    _inherit = "mail.thread"

    @api.model
    def _mail_search_on_partner(self, normalized_emails, extra_domain=False):
        """When several partners share an incoming address, the one of the most
        recently active customer (last confirmed order or interaction, as
        ``_ecrm_match`` ranks them) comes first, so the gateway picks it.

        Odoo's lookup (followers, users, the company sort of the thread) runs as
        before, and partners without any activity keep Odoo's order."""
        partners = super()._mail_search_on_partner(normalized_emails, extra_domain=extra_domain)
        if len(partners) < 2:
            return partners
        commercials = partners.commercial_partner_id
        last_active = commercials._ecrm_last_activity() if commercials else {}
        if not last_active:
            return partners

        def activity(partner):
            last = last_active.get(partner.commercial_partner_id.id)
            return (bool(last), last or False)

        # a stable sort: ties (no activity, same date) keep Odoo's order
        return partners.sorted(activity, reverse=True)

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
