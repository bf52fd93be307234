# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import http
from odoo.addons.portal.controllers.portal import CustomerPortal
from odoo.exceptions import UserError
from odoo.http import request

from ..models.res_partner_consent import CONSENT_LINK_HOURS, CONSENT_RESEND_MINUTES


class EcrmConsentPortal(CustomerPortal):
    @http.route("/my/consent", type="http", auth="user", website=True, methods=["GET", "POST"])
    def ecrm_consent(self, email_ok=None, phone_ok=None, **post):
        """The customer's own channel consent: always the logged-in user's
        partner, never one given in the request. ``email_ok`` / ``phone_ok``:
        "0" opts out, "1" opts back in (a confirmation link for the email)."""
        partner = request.env.user.partner_id
        messages, error = [], False
        if request.httprequest.method == "POST":
            choice = {"0": False, "1": True}
            email_ok, phone_ok = choice.get(email_ok), choice.get(phone_ok)
            try:
                sent = partner._ecrm_set_consent(email_ok=email_ok, phone_ok=phone_ok)
            except UserError as exc:
                error = exc.args[0]
            else:
                messages = self._ecrm_consent_messages(partner, email_ok, phone_ok, sent)
        values = self._prepare_portal_layout_values()
        values.update(
            partner._ecrm_consent_state(),
            messages=messages,
            error=error,
            phone_note=partner._ecrm_consent_phone_opt_in_message(),
            page_name="ecrm_consent",
        )
        return request.render("ecrm_addon.portal_my_consent", values)

    def _ecrm_consent_messages(self, partner, email_ok, phone_ok, sent):
        """What a click on /my/consent did, the same whatever the state of the address."""
        env = request.env
        messages = []
        email = partner.email_normalized
        if email and email_ok and sent is False:
            messages.append(
                env._(
                    "A link was sent a few minutes ago: follow it, or ask again in %(minutes)s minutes.",
                    minutes=CONSENT_RESEND_MINUTES,
                )
            )
        elif email and email_ok:
            messages.append(
                env._(
                    "We sent a link to %(email)s: follow it within %(days)s days to receive our newsletters "
                    "and offers again.",
                    email=email,
                    days=CONSENT_LINK_HOURS // 24,
                )
            )
        elif email and email_ok is False:
            messages.append(env._("Done: %(email)s will receive no more newsletters or offers.", email=email))
        if phone_ok is False and (partner.phone or partner.mobile):
            messages.append(env._("Done: your numbers will receive no more SMS or calls."))
        return messages

    @http.route("/my/consent/confirm", type="http", auth="public", website=True, methods=["GET", "POST"], sitemap=False)
    def ecrm_consent_confirm(self, token=None, **post):
        """The link of the confirmation email: shows what it confirms (GET, so a
        mail scanner following links changes nothing) and confirms it (POST)."""
        Partner = request.env["res.partner"]
        checked = Partner._ecrm_consent_check_token_lists(token)
        if not checked:
            return request.render("ecrm_addon.portal_consent_confirm", {"valid": False}, status=403)
        _partner, email, lists, email_optin = checked
        # a link of the preference centre may subscribe to topics (and not lift the opt-out)
        topics = ", ".join(lists.mapped("name"))
        if request.httprequest.method == "POST" and Partner._ecrm_consent_confirm(token):
            if email_optin:
                message = request.env._(
                    "Thank you: %(email)s will receive our newsletters and offers again. Each of them has a link "
                    "to stop them.",
                    email=email,
                )
            else:
                message = request.env._("Thank you: %(email)s now receives %(topics)s.", email=email, topics=topics)
            return request.render("ecrm_addon.portal_consent_confirm", {"valid": True, "done": message})
        if email_optin:
            question = request.env._("Receive our newsletters and offers at %(email)s again?", email=email)
        else:
            question = request.env._("Receive %(topics)s at %(email)s?", email=email, topics=topics)
        return request.render(
            "ecrm_addon.portal_consent_confirm", {"valid": True, "question": question, "token": token}
        )
