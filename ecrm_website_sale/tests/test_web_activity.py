# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from datetime import datetime

from freezegun import freeze_time

from odoo import Command
from odoo.tests import TransactionCase, new_test_user, tagged

from .common import ShopCommon


@tagged("post_install", "-at_install")
class TestWebActivity(ShopCommon, TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_shop()
        cls.website.cart_abandoned_delay = 1.0
        cls.Interaction = cls.env["ecrm.interaction"]
        cls.other_product = cls.env["product.product"].create({"name": "Trail Sock", "is_published": True})
        cls.category = cls.env["product.public.category"].create({"name": "Running"})

    def cart(self, partner, date):
        return self.env["sale.order"].create(
            {
                "partner_id": partner.id,
                "website_id": self.website.id,
                "date_order": date,
                "order_line": [Command.create({"product_id": self.product.id})],
            }
        )

    def visitor(self, partner):
        return self.env["website.visitor"].create({"access_token": str(partner.id), "website_id": self.website.id})

    def track(self, visitor, when, product=None, url=None):
        self.env["website.track"].create(
            {"visitor_id": visitor.id, "visit_datetime": when, "product_id": product and product.id, "url": url}
        )

    def logged(self, event, partner=None):
        domain = [("web_event", "=", event)]
        if partner:
            domain.append(("commercial_partner_id", "=", partner.id))
        return self.Interaction.search(domain, order="date, id")

    def test_abandoned_cart_logged_once(self):
        with freeze_time("2026-03-10 12:00:00"):
            cart = self.cart(self.customer, datetime(2026, 3, 10, 9, 0))
            recent = self.cart(self.customer, datetime(2026, 3, 10, 11, 30))  # within the website's delay
            public = self.cart(self.website.user_id.partner_id, datetime(2026, 3, 10, 9, 0))
            self.Interaction._cron_ecrm_log_web_activity()
            self.Interaction._cron_ecrm_log_web_activity()
            rows = self.logged("cart").filtered(lambda r: r.res_id in (cart | recent | public).ids)
            self.assertEqual(rows.mapped("res_id"), cart.ids)
            self.assertEqual(rows.partner_id, self.customer)
            self.assertEqual(
                (rows.channel, rows.direction, rows.category, rows.date),
                ("web", "inbound", "sales", datetime(2026, 3, 10, 9, 0)),
            )
        with freeze_time("2026-03-10 13:00:00"):
            self.Interaction._cron_ecrm_log_web_activity()
            rows = self.logged("cart").filtered(lambda r: r.res_id in (cart | recent | public).ids)
            self.assertEqual(rows.mapped("res_id"), (cart | recent).ids)

    def test_product_views_one_row_per_customer_product_and_day(self):
        contact = self.env["res.partner"].create({"name": "Jane at work", "parent_id": self.customer.id})
        mine, theirs = self.visitor(self.customer), self.visitor(contact)
        self.track(mine, datetime(2026, 3, 10, 9, 0), self.product)
        self.track(mine, datetime(2026, 3, 10, 15, 0), self.product)
        self.track(theirs, datetime(2026, 3, 10, 16, 0), self.product)
        self.track(mine, datetime(2026, 3, 11, 8, 0), self.product)
        self.track(mine, datetime(2026, 3, 10, 9, 30), self.other_product)
        with freeze_time("2026-03-11 12:00:00"):
            self.Interaction._cron_ecrm_log_web_activity()
            self.Interaction._cron_ecrm_log_web_activity()
        rows = self.logged("product", self.customer)
        self.assertEqual(
            [(r.res_id, r.date) for r in rows],
            [
                (self.product.id, datetime(2026, 3, 10, 9, 0)),
                (self.other_product.id, datetime(2026, 3, 10, 9, 30)),
                (self.product.id, datetime(2026, 3, 11, 8, 0)),
            ],
        )
        self.assertEqual(set(rows.mapped("channel")), {"web"})
        self.assertIn("Trail Shoe", rows[0].name)

    def test_category_views_of_identified_visitors(self):
        self.track(
            self.visitor(self.customer), datetime(2026, 3, 10, 9, 0), url=f"/shop/category/running-{self.category.id}"
        )
        with freeze_time("2026-03-10 12:00:00"):
            self.Interaction._cron_ecrm_log_web_activity()
        rows = self.logged("category", self.customer)
        self.assertEqual((rows.res_model, rows.res_id), ("product.public.category", self.category.id))

    def test_internal_users_browsing_are_not_customers(self):
        employee = new_test_user(self.env, login="ecrm_shop_employee", groups="base.group_user")
        self.track(self.visitor(employee.partner_id), datetime(2026, 3, 10, 9, 0), self.product)
        with freeze_time("2026-03-10 12:00:00"):
            self.Interaction._cron_ecrm_log_web_activity()
        self.assertFalse(self.logged("product", employee.partner_id))

    def test_wishlist_adds_when_the_wishlist_is_installed(self):
        if "product.wishlist" not in self.env:
            self.skipTest("website_sale_wishlist is not installed")
        with freeze_time("2026-03-10 09:00:00"):
            self.env["product.wishlist"].create(
                {"partner_id": self.customer.id, "product_id": self.product.id, "website_id": self.website.id}
            )
        with freeze_time("2026-03-10 12:00:00"):
            self.Interaction._cron_ecrm_log_web_activity()
        self.assertEqual(self.logged("wishlist", self.customer).res_id, self.product.id)

    def test_purge_keeps_the_retention_period(self):
        self.env.company.ecrm_web_retention_days = 90
        old, kept, other = self.Interaction._log(
            [
                {"partner_id": self.customer.id, "name": "Old view", "date": datetime(2025, 12, 1), "channel": "web"},
                {"partner_id": self.customer.id, "name": "Recent", "date": datetime(2026, 3, 1), "channel": "web"},
                {"partner_id": self.customer.id, "name": "Old call", "date": datetime(2025, 12, 1), "channel": "phone"},
            ]
        )
        (old | kept).web_event = "product"
        with freeze_time("2026-03-10 12:00:00"):
            self.Interaction._cron_ecrm_purge_web_activity()
        self.assertFalse(old.exists())
        self.assertTrue(kept.exists())
        self.assertTrue(other.exists())
