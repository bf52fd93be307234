# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import logging

from odoo import api, fields, models

from ..tools.mail_headers import is_auto_submitted

_logger = logging.getLogger(__name__)


class MailThread(models.AbstractModel):
    _inherit = "mail.thread"

    @api.model
    def message_route(self, message, message_dict, model=None, thread_id=None, custom_values=None):
        """An automatic mail (out-of-office, autoresponder, bulk or list mail)
        opens no case: its routes to a new case are dropped, so it is consumed
        without error (a POP server does not fetch it again). Routes to an
        existing case and to other models stay (see ``_message_route_process``)."""
        routes = super().message_route(
            message, message_dict, model=model, thread_id=thread_id, custom_values=custom_values
        )
        if not routes or not is_auto_submitted(message):
            return routes
        kept = [route for route in routes if route[0] != "ecrm.case" or route[1]]
        if len(kept) < len(routes):
            _logger.info(
                "Mail from %s with Message-Id %s is an automatic reply: no case opened",
                message_dict.get("email_from"),
                message_dict.get("message_id"),
            )
        return kept

    @api.model
    def _message_route_process(self, message, message_dict, routes):
        """Tell the documents an automatic mail is posted on that it is one
        (context key ``ecrm_auto_submitted``): a case does not resume for it."""
        thread = self.with_context(ecrm_auto_submitted=True) if routes and is_auto_submitted(message) else self
        return super(MailThread, thread)._message_route_process(message, message_dict, routes)

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
        Interaction = self.env["ecrm.interaction"]
        Interaction._log(
            [
                Interaction._log_values(
                    record,
                    author.id,
                    message.subject or self.env._("Email received"),
                    "email",
                    "inbound",
                    "service",
                    date=message.date or fields.Datetime.now(),
                    company_id=(
                        record[record._mail_get_company_field()].id if record._mail_get_company_field() else False
                    )
                    or self.env.company.id,
                )
            ]
        )
