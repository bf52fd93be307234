# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Case intake: the customer found or created, the mail gateway, messages
and the interaction log of a case."""

from markupsafe import Markup

from odoo import api, models, tools
from odoo.tools import email_normalize, html2plaintext, plaintext2html

# Case channels on the interaction log (which has no "api" channel).
INTERACTION_CHANNEL = {"api": "other"}
# Characters of an inbound mail's body kept as the description of the case it
# opens; the whole message stays in the chatter.
MAIL_DESCRIPTION_MAX = 100_000


class EcrmCase(models.Model):
    _inherit = "ecrm.case"

    @api.model
    def _ecrm_find_or_create_partner(self, email=None, phone=None, name=None, company=None):
        """The customer these identifiers point to (``res.partner._ecrm_match``);
        a new contact only when none matches. Only partners of ``company`` (the
        case's; the current company by default) or shared ones match, never the
        partner of an internal user."""
        # sudo: identity resolution must see every customer whatever the channel's
        # user (email gateway, portal, API key); only the matched partner leaves.
        Partner = self.env["res.partner"].sudo()
        email_norm = email_normalize(email) if email else False
        company = company or self.env.company
        partner = Partner._ecrm_match(email=email_norm or None, phone=phone or None, company=company)
        if not partner:
            partner = Partner.create(
                {
                    "name": name or email_norm or phone,
                    "email": email_norm or False,
                    "phone": phone or False,
                }
            )
        return partner[:1].sudo(False)

    @api.model
    def message_new(self, msg_dict, custom_values=None):
        values = dict(custom_values or {})
        partner_id = msg_dict.get("author_id")
        if not partner_id:
            name, email = tools.parse_contact_from_email(msg_dict.get("email_from") or "")
            if email:
                company = self.env["res.company"].browse(values.get("company_id")) or self.env.company
                partner_id = self._ecrm_find_or_create_partner(email=email, name=name, company=company).id
        values.setdefault("channel", "email")
        values.setdefault("subject", msg_dict.get("subject") or self.env._("(no subject)"))
        values.setdefault("description", self._ecrm_mail_description(msg_dict.get("body")))
        if partner_id:
            values.setdefault("partner_id", partner_id)
        values["name"] = "/"  # the reference comes from the sequence, not the subject
        case = super().message_new(msg_dict, custom_values=values)
        return case

    @api.model
    def _ecrm_mail_description(self, body):
        """The description of a case opened by a mail: its body, or for a huge
        one (a pasted log, a forwarded thread) the start of its text, so that
        the form stays quick to open and save."""
        if not body or len(body) <= MAIL_DESCRIPTION_MAX:
            return body
        text = html2plaintext(body)[:MAIL_DESCRIPTION_MAX]
        cut = self.env._("(Cut: the whole message is in the chatter.)")
        return plaintext2html(f"{text}\n\n{cut}")

    def message_update(self, msg_dict, update_vals=None):
        res = super().message_update(msg_dict, update_vals=update_vals)
        # an automatic reply (out-of-office...) is no answer: the case keeps its stage
        if not self.env.context.get("ecrm_auto_submitted"):
            self._ecrm_customer_answered("email")
        return res

    def message_post(self, **kwargs):
        if self.env.context.get("ecrm_auto_submitted") and self.env.context.get("from_alias"):
            # an automatic reply on a case: kept in the chatter, as a note (no follower is
            # notified of an out-of-office, nor answers it) headed by what it is
            kwargs["subtype_id"] = self.env["ir.model.data"]._xmlid_to_res_id("mail.mt_note")
            kwargs.pop("subtype_xmlid", None)
            label = self.env._("Automatic reply: the case keeps its stage.")
            kwargs["body"] = Markup("<p><i>%s</i></p>") % label + kwargs.get("body", "")
        return super().message_post(**kwargs)

    def _message_post_after_hook(self, message, msg_values):
        res = super()._message_post_after_hook(message, msg_values)
        if message.message_type == "comment" and not message.subtype_id.internal:
            author_users = message.author_id.user_ids
            if author_users and not any(author_users.mapped("share")):
                self._ecrm_first_response(message)
            elif message.author_id and message.author_id.commercial_partner_id == self.commercial_partner_id:
                self._ecrm_customer_answered("portal")
        return res

    def _ecrm_customer_answered(self, channel):
        """A customer message: log it and, on a case waiting on them, resume the clock
        (back to the last open stage before the waiting one)."""
        self._ecrm_log_interactions("inbound", "message", channel=channel)
        waiting = self.filtered("stage_id.is_waiting_customer")
        if not waiting:
            return
        stages = self.env["ecrm.case.stage"].search([("is_closed", "=", False), ("is_waiting_customer", "=", False)])
        for case in waiting:
            before = stages.filtered(lambda s, case=case: s.sequence <= case.stage_id.sequence)
            stage = before[-1:] or stages[:1]
            if stage:
                # sudo: the customer's message (portal or email) moves the case, not their rights
                case.sudo().stage_id = stage

    def _ecrm_log_interactions(self, direction, event, channel=None):
        labels = {
            "opened": self.env._("Case opened"),
            "answered": self.env._("Case answered"),
            "message": self.env._("Message on case"),
        }
        Interaction = self.env["ecrm.interaction"]
        Interaction._log(
            [
                Interaction._log_values(
                    case,
                    case.partner_id.id,
                    f"{labels[event]}: {case.name} {case.subject}",
                    channel or INTERACTION_CHANNEL.get(case.channel, case.channel),
                    direction,
                    "service",
                    company_id=case.company_id.id,
                )
                for case in self
            ]
        )

    def _message_get_suggested_recipients(self):
        recipients = super()._message_get_suggested_recipients()
        for case in self.filtered("partner_id"):
            case._message_add_suggested_recipient(recipients, partner=case.partner_id, reason=self.env._("Customer"))
        return recipients
