# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import http
from odoo.addons.sale.controllers.portal import CustomerPortal
from odoo.http import request

from .main import ecrm_guest_view


class EcrmSalePortal(CustomerPortal):
    @http.route()
    def portal_order_page(self, order_id, report_type=None, access_token=None, **kw):
        ecrm_guest_view(request.env["sale.order"].sudo().browse(order_id).exists())
        return super().portal_order_page(order_id, report_type=report_type, access_token=access_token, **kw)
