from odoo import http
from odoo.addons.portal.controllers.portal import CustomerPortal
from odoo.http import request


class EcrmConsentPortal(CustomerPortal):
    @http.route("/my/consent", type="http", auth="user", website=True, methods=["GET", "POST"])
    def ecrm_consent(self, **post):
        """The customer's own channel consent: always the logged-in user's
        partner, never one given in the request."""
        partner = request.env.user.partner_id
        saved = False
        if request.httprequest.method == "POST":
            partner._ecrm_set_consent(email_ok=bool(post.get("email_ok")), phone_ok=bool(post.get("phone_ok")))
            saved = True
        values = self._prepare_portal_layout_values()
        values.update(partner._ecrm_consent_state(), saved=saved, page_name="ecrm_consent")
        return request.render("ecrm_addon.portal_my_consent", values)
