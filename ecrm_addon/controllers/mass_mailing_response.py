# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import tools
from odoo.addons.mass_mailing.controllers.main import MassMailController
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
