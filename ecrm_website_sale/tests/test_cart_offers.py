# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import Command, fields
from odoo.tests import TransactionCase, new_test_user, tagged

from .common import ShopCommon


@tagged("post_install", "-at_install")
class TestCartOffers(ShopCommon, TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_shop()
        Product = cls.env["product.product"]
        cls.offer = Product.create({"name": "Running Vest", "list_price": 30.0, "is_published": True})
        cls.sock = Product.create({"name": "Trail Sock", "list_price": 5.0, "is_published": True})
        cls.accessory = Product.create({"name": "Shoe Spray", "list_price": 7.0, "is_published": True})
        cls.sock.accessory_product_ids = cls.accessory
        cls.portal_user = new_test_user(
            cls.env, login="ecrm_shop_jane", groups="base.group_portal", partner_id=cls.customer.id
        )
        cls.cart = cls.env["sale.order"].create(
            {
                "partner_id": cls.customer.id,
                "website_id": cls.website.id,
                "order_line": [Command.create({"product_id": cls.sock.id})],
            }
        )

    def add_rule(self):
        # bought the shoe (the past order) -> offer the vest
        self.env["ecrm.product.rule"].create(
            {
                "company_id": self.env.company.id,
                "date": fields.Date.today(),
                "product_id": self.product.id,
                "recommended_product_id": self.offer.id,
                "order_count": 3,
                "support": 10.0,
                "confidence": 75.0,
                "lift": 2.0,
            }
        )

    def suggested(self, user):
        # the cart as the shop's controllers hold it: sudo, for the visitor
        return self.cart.with_user(user).sudo()._cart_accessories()

    def test_logged_in_customer_gets_the_products_to_offer(self):
        self.add_rule()
        self.assertEqual(self.suggested(self.portal_user), [self.offer])

    def test_accessories_without_a_rule(self):
        self.assertEqual(self.suggested(self.portal_user), [self.accessory])

    def test_anonymous_cart_gets_the_accessories(self):
        self.add_rule()
        self.assertEqual(self.suggested(self.website.user_id), [self.accessory])

    def test_offer_already_in_the_cart_is_not_offered_again(self):
        self.add_rule()
        self.cart.order_line = [Command.create({"product_id": self.offer.id})]
        self.assertEqual(self.suggested(self.portal_user), [self.accessory])
