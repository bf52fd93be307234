# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from markupsafe import Markup

from odoo import models
from odoo.tools import email_normalize, email_split, html2plaintext

CASE_COMMAND = "/case"


class DiscussChannel(models.Model):
    _inherit = "discuss.channel"

    def execute_command_case(self, **kwargs):
        """``/case [subject] [email]`` typed by the operator of a live chat:
        open a case (channel chat) for the visitor, matched to the existing
        customer by email, with the transcript in its chatter. A second
        ``/case`` in the same conversation points to the case already open."""
        self.ensure_one()
        text = html2plaintext(kwargs.get("body") or "").strip()
        args = text[len(CASE_COMMAND) :].strip() if text.startswith(CASE_COMMAND) else text
        case = self.env["ecrm.case"].search([("livechat_channel_id", "=", self.id)], limit=1)
        if case:
            msg = self.env._("This conversation already has case %(case)s.", case=case._get_html_link())
        else:
            case = self._ecrm_open_case(args)
            if case:
                msg = self.env._(
                    "Case %(case)s opened for %(customer)s.", case=case._get_html_link(), customer=case.partner_id.name
                )
            else:
                msg = self.env._(
                    "No email for this visitor: ask for it and type %(pre_start)s/case %(i_start)ssubject "
                    "email%(i_end)s%(pre_end)s.",
                    pre_start=Markup("<pre>"),
                    pre_end=Markup("</pre>"),
                    i_start=Markup("<i>"),
                    i_end=Markup("</i>"),
                )
        self.env.user._bus_send_transient_message(self, msg)
        return case.id if case else False

    def _ecrm_visitor_partner(self):
        """The visitor's own partner when logged in (a portal customer), else empty."""
        operator = self.livechat_operator_id
        for partner in self.with_context(active_test=False).channel_member_ids.partner_id:
            if partner != operator and partner.partner_share and not partner.is_public:
                return partner
        return self.env["res.partner"]

    def _ecrm_visitor_email(self, args):
        """The visitor's email: typed in the command, else the logged-in visitor's,
        else their answer to a chatbot's email question, else the first address
        the visitor wrote in the conversation."""
        for candidate in email_split(args):
            if email_normalize(candidate):
                return email_normalize(candidate)
        visitor = self._ecrm_visitor_partner()
        if visitor.email_normalized:
            return visitor.email_normalized
        answers = self._chatbot_find_customer_values_in_messages({"question_email": "email"})
        if email_normalize(answers.get("email") or ""):
            return email_normalize(answers["email"])
        operators = self.livechat_operator_id | self.env.user.partner_id
        for message in self.message_ids.sorted("id"):
            if message.author_id in operators or message.message_type != "comment":
                continue
            for candidate in email_split(html2plaintext(message.body or "")):
                if email_normalize(candidate):
                    return email_normalize(candidate)
        return False

    def _ecrm_open_case(self, args):
        """The case of this conversation, or an empty recordset when the visitor
        can be neither matched nor reached (no email, not logged in)."""
        Case = self.env["ecrm.case"]
        Case.check_access("create")
        email = self._ecrm_visitor_email(args)
        visitor = self._ecrm_visitor_partner()
        if email and visitor.email_normalized != email:
            visitor = Case._ecrm_find_or_create_partner(
                email=email, name=visitor.name or self.anonymous_name, company=self.env.company
            )
        if not visitor:
            return Case
        subject = " ".join(word for word in args.split() if email_normalize(word) != email).strip()
        messages = self.message_ids.sorted("id")
        operator_messages = messages.filtered(lambda m: m.author_id == self.livechat_operator_id)
        case = Case.create(
            {
                "subject": subject or self.env._("Live chat with %(visitor)s", visitor=visitor.name),
                "channel": "chat",
                "partner_id": visitor.id,
                "user_id": self.env.user.id,
                "livechat_channel_id": self.id,
                "company_id": self.env.company.id,
                # the request started with the conversation
                "date_open": messages[:1].date or self.create_date,
            }
        )
        if operator_messages:
            # sudo: a system stamp; the operator's answer in the chat is the first response
            case.sudo().first_response_date = operator_messages[0].date
        transcript = self._get_channel_history()
        case.message_post(
            body=Markup("<p><b>%s</b></p>%s") % (self.env._("Live chat transcript"), transcript),
            message_type="comment",
            subtype_xmlid="mail.mt_note",
        )
        # the visitor gets the reference, in their language
        self.message_post(
            body=self.with_context(lang=visitor.lang or self.env.lang).env._(
                "Your request is now case %(case)s: we will follow it up by email.", case=case.name
            ),
            message_type="comment",
            subtype_xmlid="mail.mt_comment",
        )
        return case
