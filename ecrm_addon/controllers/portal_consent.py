from odoo import http
from odoo.addons.portal.controllers.portal import CustomerPortal
from odoo.exceptions import UserError
from odoo.http import request

from ..models.res_partner import CONSENT_LINK_HOURS


class EcrmConsentPortal(CustomerPortal):
    @http.route("/my/consent", type="http", auth="user", website=True, methods=["GET", "POST"])
    def ecrm_consent(self, email_ok=None, phone_ok=None, **post):
        """The customer's own channel consent: always the logged-in user's
        partner, never one given in the request. ``email_ok`` / ``phone_ok``:
        "0" opts out, "1" opts back in (a confirmation link for the email)."""
        partner = request.env.user.partner_id
        done, error = [], False
        if request.httprequest.method == "POST":
            choice = {"0": False, "1": True}
            email_ok, phone_ok = choice.get(email_ok), choice.get(phone_ok)
            try:
                partner._ecrm_set_consent(email_ok=email_ok, phone_ok=phone_ok)
            except UserError as exc:
                error = exc.args[0]
            else:
                if email_ok is not None and partner.email:
                    done.append("email_sent" if email_ok else "email_out")
                if phone_ok is not None and (partner.phone or partner.mobile):
                    done.append("phone_out")
        values = self._prepare_portal_layout_values()
        values.update(
            partner._ecrm_consent_state(),
            done=done,
            error=error,
            link_days=CONSENT_LINK_HOURS // 24,
            page_name="ecrm_consent",
        )
        return request.render("ecrm_addon.portal_my_consent", values)

    @http.route("/my/consent/confirm", type="http", auth="public", website=True, methods=["GET", "POST"], sitemap=False)
    def ecrm_consent_confirm(self, token=None, **post):
        """The link of the confirmation email: shows what it confirms (GET, so a
        mail scanner following links changes nothing) and confirms it (POST)."""
        Partner = request.env["res.partner"]
        checked = Partner._ecrm_consent_check_token(token)
        if not checked:
            return request.render("ecrm_addon.portal_consent_confirm", {"valid": False}, status=403)
        confirmed = request.httprequest.method == "POST" and bool(Partner._ecrm_consent_confirm(token))
        return request.render(
            "ecrm_addon.portal_consent_confirm",
            {"valid": True, "email": checked[1], "token": token, "confirmed": confirmed},
        )
