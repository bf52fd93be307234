# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import http, tools
from odoo.addons.mass_mailing.controllers.main import MassMailController
from odoo.addons.mass_mailing_sms.controllers.main import MailingSMSController
from odoo.http import request


class EcrmMassMailResponseController(MassMailController):
    """An unsubscribe through a mailing's link (from its lists or, for other
    recipients, into the blocklist) is a response of the customer to that
    mailing: its traces to that address are marked and folded into the log."""

    def _ecrm_mark_unsubscribed(self, mailing, document_id, email):
        email = tools.email_normalize(email)
        if not (mailing and email):
            return
        domain = [("mass_mailing_id", "=", mailing.id), ("email", "=", email)]
        if document_id:
            domain.append(("res_id", "=", int(document_id)))
        # sudo: the public visitor holds the mailing's signed link, checked by Odoo before
        request.env["mailing.trace"].sudo().set_ecrm_unsubscribed(domain=domain)

    def _mailing_unsubscribe_from_list(self, mailing, document_id, email, hash_token):
        response = super()._mailing_unsubscribe_from_list(mailing, document_id, email, hash_token)
        self._ecrm_mark_unsubscribed(mailing, document_id, email)
        return response

    def _mailing_unsubscribe_from_document(self, mailing, document_id, email, hash_token):
        response = super()._mailing_unsubscribe_from_document(mailing, document_id, email, hash_token)
        self._ecrm_mark_unsubscribed(mailing, document_id, email)
        return response


class EcrmMailingSmsResponseController(MailingSMSController):
    """The same for an SMS: the recipient who confirms their number on the
    unsubscribe page of the SMS's link (opted out of the mailing's lists, or
    into the phone blacklist) responded to that mailing."""

    @http.route()
    def blacklist_number(self, mailing_id, trace_code, **post):
        response = super().blacklist_number(mailing_id, trace_code, **post)
        # Odoo renders its page lazily: without an error in its values, the
        # number matched the trace of the link's code and was unsubscribed
        qcontext = getattr(response, "qcontext", None)
        if qcontext is not None and not qcontext.get("unsubscribe_error"):
            # sudo: the public visitor holds the SMS's link (its trace code), checked by Odoo before
            request.env["mailing.trace"].sudo().set_ecrm_unsubscribed(
                domain=[
                    ("trace_type", "=", "sms"),
                    ("mass_mailing_id", "=", mailing_id),
                    ("sms_code", "=", trace_code),
                ]
            )
        return response
