# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import http
from odoo.addons.portal.controllers.portal import CustomerPortal
from odoo.addons.portal.controllers.portal import pager as portal_pager
from odoo.exceptions import AccessError, MissingError
from odoo.http import request
from odoo.tools import plaintext2html


class EcrmCasePortal(CustomerPortal):
    def _prepare_home_portal_values(self, counters):
        values = super()._prepare_home_portal_values(counters)
        if "ecrm_case_count" in counters:
            Case = request.env["ecrm.case"]
            values["ecrm_case_count"] = Case.search_count(self._ecrm_case_domain()) if Case.has_access("read") else 0
        return values

    def _ecrm_case_domain(self):
        return [("commercial_partner_id", "=", request.env.user.partner_id.commercial_partner_id.id)]

    def _ecrm_customer_orders(self):
        """The confirmed orders of the customer's company (portal rules apply too)."""
        commercial = request.env.user.partner_id.commercial_partner_id
        return request.env["sale.order"].search(
            [("partner_id", "child_of", commercial.id), ("state", "=", "sale")], order="date_order desc", limit=100
        )

    @http.route(["/my/cases", "/my/cases/page/<int:page>"], type="http", auth="user", website=True)
    def portal_my_cases(self, page=1, **kw):
        Case = request.env["ecrm.case"]
        domain = self._ecrm_case_domain()
        pager = portal_pager(url="/my/cases", total=Case.search_count(domain), page=page, step=self._items_per_page)
        cases = Case.search(domain, order="id desc", limit=self._items_per_page, offset=pager["offset"])
        request.session["my_cases_history"] = cases.ids[:100]
        values = self._prepare_portal_layout_values()
        values.update({"cases": cases, "page_name": "ecrm_case", "pager": pager, "default_url": "/my/cases"})
        return request.render("ecrm_addon.portal_my_cases", values)

    @http.route(["/my/cases/<int:case_id>"], type="http", auth="public", website=True)
    def portal_my_case(self, case_id, access_token=None, **kw):
        try:
            case_sudo = self._document_check_access("ecrm.case", case_id, access_token)
        except (AccessError, MissingError):
            return request.not_found()
        values = self._get_page_view_values(
            case_sudo, access_token, {"case": case_sudo, "page_name": "ecrm_case"}, "my_cases_history", False
        )
        return request.render("ecrm_addon.portal_my_case", values)

    @http.route(["/my/cases/new"], type="http", auth="user", methods=["GET"], website=True)
    def portal_new_case(self, **kw):
        values = self._prepare_portal_layout_values()
        values.update(
            {
                "page_name": "ecrm_case_new",
                "orders": self._ecrm_customer_orders(),
                # sudo: the portal only reads the active categories' names
                "categories": request.env["ecrm.case.category"].sudo().search([]),
                "error": kw.get("error"),
            }
        )
        return request.render("ecrm_addon.portal_new_case", values)

    @http.route(["/my/cases/new"], type="http", auth="user", methods=["POST"], website=True)
    def portal_new_case_submit(self, subject=None, description=None, order_id=None, category_id=None, **kw):
        subject = (subject or "").strip()[:250]
        if not subject:
            return request.redirect("/my/cases/new?error=subject")
        partner = request.env.user.partner_id
        vals = {
            "subject": subject,
            "description": plaintext2html(description or ""),
            "partner_id": partner.id,
            "channel": "portal",
            "company_id": request.env.company.id,
            "acknowledge": True,
        }
        if order_id and order_id.isdigit():
            order = self._ecrm_customer_orders().filtered(lambda o: o.id == int(order_id))
            if not order:
                return request.redirect("/my/cases/new?error=order")
            vals.update({"sale_order_id": order.id, "company_id": order.company_id.id})
        if category_id and category_id.isdigit():
            category = request.env["ecrm.case.category"].sudo().browse(int(category_id)).exists()
            vals["category_id"] = category.id
        # sudo: portal customers may not create cases through the ORM; the values
        # above are theirs only (own partner, own order checked, text sanitised).
        case = request.env["ecrm.case"].sudo().create(vals)
        return request.redirect(f"/my/cases/{case.id}")
