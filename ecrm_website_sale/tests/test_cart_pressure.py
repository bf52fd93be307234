# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from datetime import datetime

from freezegun import freeze_time

from odoo import Command
from odoo.tests import TransactionCase, tagged

from .common import ShopCommon


@tagged("post_install", "-at_install")
class TestCartPressure(ShopCommon, TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_shop()
        cls.website.write({"cart_abandoned_delay": 1.0, "send_abandoned_cart_email": True})
        cls.env["ecrm.pressure.rule"].search([]).active = False
        cls.rule = cls.env["ecrm.pressure.rule"].create(
            {
                "name": "One email a month",
                "channel": "email",
                "category": "marketing",
                "max_count": 1,
                "period_days": 30,
                "min_interval_hours": 0,
            }
        )
        cls.bob = cls.env["res.partner"].create({"name": "Bob Runner", "email": "bob@shop.example"})

    def cart(self, partner):
        return self.env["sale.order"].create(
            {
                "partner_id": partner.id,
                "website_id": self.website.id,
                "date_order": datetime(2026, 3, 10, 8, 0),
                "order_line": [Command.create({"product_id": self.product.id})],
            }
        )

    def mailed(self, order):
        return self.env["mail.mail"].search([("model", "=", "sale.order"), ("res_id", "=", order.id)])

    def marketing(self, partner, date):
        self.env["ecrm.interaction"]._log(
            [
                {
                    "partner_id": partner.id,
                    "name": "Newsletter",
                    "date": date,
                    "channel": "email",
                    "direction": "outbound",
                    "category": "marketing",
                }
            ]
        )

    def test_blocked_reminder_is_excluded_and_the_other_sent_and_logged(self):
        self.env.company.ecrm_cart_recovery_defer_days = 0
        self.marketing(self.customer, datetime(2026, 3, 9, 10, 0))
        with freeze_time("2026-03-10 12:00:00"):
            jane, bob = self.cart(self.customer), self.cart(self.bob)
            self.env["website"]._send_abandoned_cart_email()
        self.assertFalse(self.mailed(jane))
        self.assertTrue(jane.cart_recovery_email_sent)
        self.assertIn(self.rule.name, jane.message_ids[0].body)
        self.assertTrue(self.mailed(bob))
        logged = self.env["ecrm.interaction"].search([("res_model", "=", "sale.order"), ("res_id", "=", bob.id)])
        self.assertEqual((logged.category, logged.direction, logged.channel), ("marketing", "outbound", "email"))

    def test_blocked_reminder_is_deferred_until_the_rule_frees(self):
        self.env.company.ecrm_cart_recovery_defer_days = 40
        self.marketing(self.customer, datetime(2026, 3, 9, 10, 0))
        with freeze_time("2026-03-10 12:00:00"):
            jane = self.cart(self.customer)
            self.env["website"]._send_abandoned_cart_email()
            self.assertFalse(self.mailed(jane))
            self.assertFalse(jane.cart_recovery_email_sent)
        with freeze_time("2026-04-09 12:00:00"):
            self.env["website"]._send_abandoned_cart_email()
            self.assertTrue(self.mailed(jane))
            self.assertTrue(jane.cart_recovery_email_sent)

    def test_reminders_count_for_the_rules(self):
        with freeze_time("2026-03-10 12:00:00"):
            first = self.cart(self.bob)
            self.env["website"]._send_abandoned_cart_email()
        self.assertTrue(self.mailed(first))
        with freeze_time("2026-03-12 12:00:00"):
            second = self.env["sale.order"].create(
                {
                    "partner_id": self.bob.id,
                    "website_id": self.website.id,
                    "date_order": datetime(2026, 3, 12, 8, 0),
                    "order_line": [Command.create({"product_id": self.product.id})],
                }
            )
            self.env.company.ecrm_cart_recovery_defer_days = 0
            self.env["website"]._send_abandoned_cart_email()
        self.assertFalse(self.mailed(second))
