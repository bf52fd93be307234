# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from urllib.parse import urlencode

from werkzeug.exceptions import Unauthorized

from odoo import http, tools
from odoo.addons.mass_mailing.controllers.main import MassMailController
from odoo.http import request


class EcrmMassMailController(MassMailController):
    """Odoo's subscription page of a logged-in user (``/mailing/my`` and its
    JSON calls without a mailing's token) reads and changes the blacklist entry
    and list subscriptions of the user's current email: a portal user who typed
    someone else's address in /my/account would see them and lift that person's
    opt-out. A portal user gets them only for an address they proved
    (``res.partner._ecrm_consent_email_proven``), else ``/my/consent``.
    Links of mailings (with their token) and internal users are unchanged."""

    def _ecrm_unproven_portal_user(self):
        user = request.env.user
        return user.share and not user._is_public() and not user.partner_id._ecrm_consent_email_proven()

    @http.route()
    def mailing_my(self):
        if self._ecrm_unproven_portal_user():
            return request.redirect("/my/consent")
        return super().mailing_my()

    def _prepare_mailing_subscription_values(self, mailing, document_id, email, hash_token):
        """The unsubscribe page of a mailing link (its token checked by Odoo)
        also links to the whole preference centre of the customer the address
        belongs to, with a signed token (no login)."""
        values = super()._prepare_mailing_subscription_values(mailing, document_id, email, hash_token)
        email_normalized = tools.email_normalize(email or "")
        if hash_token and email_normalized:
            # sudo: the visitor proved the address with the mailing's token
            partner = request.env["res.partner"].sudo()._ecrm_match_candidates(email=email_normalized)[:1]
            if partner:
                query = urlencode({"token": partner._ecrm_preferences_token(email_normalized)})
                values["ecrm_preferences_url"] = f"/my/preferences?{query}"
        return values

    def _check_mailing_email_token(self, mailing_id, document_id, email, hash_token, required_mailing_id=False):
        if not hash_token and self._ecrm_unproven_portal_user():
            raise Unauthorized()
        return super()._check_mailing_email_token(
            mailing_id, document_id, email, hash_token, required_mailing_id=required_mailing_id
        )
