# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from datetime import timedelta

from odoo import Command, fields
from odoo.tests import HttpCase, new_test_user, tagged


@tagged("post_install", "-at_install")
class TestShopTours(HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.website = cls.env.ref("website.default_website")
        cls.product = cls.env["product.product"].create(
            {"name": "Tour Trail Shoe", "list_price": 80.0, "is_published": True, "type": "consu"}
        )
        cls.customer = cls.env["res.partner"].create(
            {"name": "Tour Jane", "email": "tour.jane@shop.example", "street": "1 Hidden Lane", "city": "Madrid"}
        )
        # a cart the customer left two days ago, logged by the web activity job
        cls.cart = cls.env["sale.order"].create(
            {
                "name": "TOUR/CART/001",
                "partner_id": cls.customer.id,
                "website_id": cls.website.id,
                "date_order": fields.Datetime.now() - timedelta(days=2),
                "order_line": [Command.create({"product_id": cls.product.id})],
            }
        )
        cls.env["ecrm.interaction"]._cron_ecrm_log_web_activity()

    def test_guest_checkout_lands_on_the_customer_360(self):
        self.start_tour("/shop", "ecrm_shop_guest_checkout")
        order = self.env["sale.order"].search([("ecrm_guest_checkout", "=", True)], order="id desc", limit=1)
        self.assertEqual(order.partner_id.email, "tour.jane@shop.example")
        # the payment confirms the order (as the public user who paid)
        order.name = "TOUR/SHOP/001"
        public = self.website.user_id
        order.with_user(public).sudo().with_context(send_email=True).action_confirm()
        self.assertEqual(order.partner_id, self.customer)
        new_test_user(
            self.env,
            login="ecrm_shop_agent",
            groups="ecrm_addon.group_ecrm_user,base.group_partner_manager,sales_team.group_sale_salesman_all_leads",
        )
        self.start_tour(f"/odoo/contacts/{self.customer.id}", "ecrm_shop_agent_360", login="ecrm_shop_agent")
