# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import http
from odoo.addons.portal.controllers.portal import CustomerPortal
from odoo.addons.website_sale.controllers.main import WebsiteSale
from odoo.exceptions import AccessError, MissingError, UserError
from odoo.http import request
from odoo.tools import email_normalize, plaintext2html

# The hidden field of the case form: people never fill it, form-filling bots do.
HONEYPOT_FIELD = "ecrm_url"


class EcrmWebsiteSale(WebsiteSale):
    @http.route()
    def shop_address_submit(self, *args, **kwargs):
        """Remember that the order was checked out by a guest (the public
        user's cart getting its first address): the order goes to the existing
        customer its email or phone points to when it is confirmed."""
        order_sudo = request.website.sale_get_order()
        anonymous = bool(order_sudo) and order_sudo._is_anonymous_cart()
        response = super().shop_address_submit(*args, **kwargs)
        ecrm_flag_guest(order_sudo, anonymous)
        return response

    @http.route()
    def process_express_checkout(self, billing_address, *args, **kwargs):
        """The same for the express checkout (the wallet's addresses put on
        the public user's cart)."""
        order_sudo = request.website.sale_get_order()
        anonymous = bool(order_sudo) and order_sudo._is_anonymous_cart()
        result = super().process_express_checkout(billing_address, *args, **kwargs)
        ecrm_flag_guest(order_sudo, anonymous)
        return result

    @http.route()
    def shop_payment_confirmation(self, **post):
        order_sudo = request.env["sale.order"].sudo().browse(request.session.get("sale_last_order_id")).exists()
        ecrm_guest_view(order_sudo)
        return super().shop_payment_confirmation(**post)


def ecrm_flag_guest(order_sudo, anonymous):
    """Flag ``order_sudo`` as a guest checkout when it was the public user's
    cart (``anonymous``, before the step) and has got its customer since."""
    if anonymous and not order_sudo._is_anonymous_cart():
        order_sudo.ecrm_guest_checkout = True


def ecrm_guest_view(order_sudo):
    """A guest looking at their order that was put on an existing customer
    sees the contacts by their own names (context key ``ecrm_guest_view``)."""
    if not order_sudo.ecrm_guest_matched:
        return
    viewer = request.env.user.partner_id.commercial_partner_id
    if request.env.user._is_public() or viewer != order_sudo.partner_id.commercial_partner_id:
        request.update_context(ecrm_guest_view=True)


class EcrmWebsiteCase(CustomerPortal):
    @http.route(["/shop/case"], type="http", auth="public", methods=["POST"], website=True, sitemap=False)
    def ecrm_website_case(self, subject=None, description=None, name=None, email=None, phone=None, **post):
        """The "open a case" form of the contact page and of an order's page.

        Limited per visitor address (system parameter
        ``ecrm_website_sale.case_form_rate_limit`` per hour), guarded as
        Odoo's website forms are (the captcha of the ``website_form`` action
        when one is installed) and by a field only bots fill. The customer is
        the logged-in one, the order's (with its access token), else the one
        the email or phone points to (created when none)."""
        if request.env["ecrm.web.form.rate"].sudo()._ecrm_throttle(request.httprequest.remote_addr or "-"):
            return self._ecrm_case_result(error="rate", status=429)
        if post.get(HONEYPOT_FIELD):
            # a bot: answered as a person would be, nothing is created
            return self._ecrm_case_result()
        subject = (subject or "").strip()[:250]
        error, order_sudo = self._ecrm_case_refusal(subject, post)
        partner = None if error else self._ecrm_case_partner(order_sudo, name, email, phone)
        if error or not partner:
            return self._ecrm_case_result(error=error or "email", status=400)
        company = order_sudo.company_id or request.website.company_id
        # sudo: visitors may not create cases through the ORM; the values are
        # theirs only (customer found as above, order checked, text sanitised)
        case = (
            request.env["ecrm.case"]
            .sudo()
            .with_company(company)
            .create(
                {
                    "subject": subject,
                    "description": plaintext2html((description or "")[:20000]),
                    "partner_id": partner.id,
                    "channel": "web",
                    "company_id": company.id,
                    "sale_order_id": order_sudo.id,
                    "acknowledge": True,
                }
            )
        )
        return self._ecrm_case_result(case=case)

    def _ecrm_case_refusal(self, subject, post):
        """``(error, order)`` of a submission: the error code that refuses it
        (else None) and its order (sudo, or empty)."""
        Order = request.env["sale.order"].sudo()
        try:
            if not request.env["ir.http"]._verify_request_recaptcha_token("website_form"):
                return "captcha", Order
        except UserError:
            return "captcha", Order
        if not subject:
            return "subject", Order
        if (order_id := post.get("order_id")) and order_id.isdigit():
            try:
                return None, self._document_check_access("sale.order", int(order_id), post.get("access_token"))
            except (AccessError, MissingError):
                return "order", Order
        return None, Order

    def _ecrm_case_partner(self, order_sudo, name, email, phone):
        """The customer of a submission: the logged-in one, the order's, else
        the one its email or phone points to (created when none); None
        without a valid email."""
        user = request.env.user
        if not user._is_public():
            return user.partner_id
        if order_sudo:
            return order_sudo.partner_id
        email_norm = email_normalize(email or "")
        if not email_norm:
            return None
        return request.env["ecrm.case"]._ecrm_find_or_create_partner(
            email=email_norm,
            phone=(phone or "").strip()[:64] or None,
            name=(name or "").strip()[:128] or None,
            company=request.website.company_id,
        )

    def _ecrm_case_result(self, case=None, error=None, status=200):
        return request.render("ecrm_website_sale.case_form_result", {"case": case, "error": error}, status=status)
