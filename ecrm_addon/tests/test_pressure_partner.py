# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from datetime import timedelta

from freezegun import freeze_time

from odoo.addons.ecrm_addon.tools.scoring import decayed_weight
from odoo.exceptions import AccessError, ValidationError
from odoo.tests import new_test_user, tagged

from .test_pressure_engine import NOW, PressureCase


@tagged("post_install", "-at_install")
class TestPressureProfile(PressureCase):
    def test_weighted_pressure_decays_with_half_life(self):
        self.company.ecrm_pressure_half_life_days = 10
        self._touch(self.alice, NOW - timedelta(days=10))
        self._touch(self.alice, NOW - timedelta(days=20), channel="phone")
        self._touch(self.alice, NOW - timedelta(days=1), direction="inbound")
        weights = self.env["ecrm.interaction"]._channel_weights()
        expected = decayed_weight(weights["email"], 10, 10) + decayed_weight(weights["phone"], 20, 10)
        with freeze_time(NOW):
            self.alice.invalidate_recordset(["ecrm_pressure"])
            self.assertAlmostEqual(self.alice.ecrm_pressure, expected, places=6)

    def test_contact_shows_commercial_partner_pressure(self):
        shop = self.env["res.partner"].create({"name": "Pressure Shop", "is_company": True})
        contact = self.env["res.partner"].create({"name": "Buyer", "parent_id": shop.id})
        self._touch(contact, NOW)
        with freeze_time(NOW):
            self.assertAlmostEqual(shop.ecrm_pressure, 1.0, places=6)
            self.assertAlmostEqual(contact.ecrm_pressure, 1.0, places=6)

    def test_search_on_pressure(self):
        self._touch(self.alice, NOW)
        self._touch(self.alice, NOW)
        self._touch(self.bob, NOW)
        with freeze_time(NOW):
            partners = self.alice | self.bob | self.carol
            self.assertEqual(
                self.env["res.partner"].search([("id", "in", partners.ids), ("ecrm_pressure", ">", 1.5)]), self.alice
            )
            self.assertEqual(
                self.env["res.partner"].search([("id", "in", partners.ids), ("ecrm_pressure", "<", 1.5)]),
                self.bob | self.carol,
            )

    def test_report_sorts_customers_by_pressure(self):
        self._touch(self.bob, NOW)
        self._touch(self.alice, NOW)
        self._touch(self.alice, NOW)
        with freeze_time(NOW):  # touches of now: full weight
            rows = self.env["ecrm.pressure.report"].search(
                [("partner_id", "in", (self.alice | self.bob).ids)], order="pressure desc"
            )
            self.assertEqual(rows.mapped("partner_id").ids, [self.alice.id, self.bob.id])
            self.assertAlmostEqual(rows[0].pressure, 2.0, places=6)
            self.assertEqual(rows[0].touch_count, 2)
        with freeze_time(NOW + timedelta(days=31)):  # past the 30-day count, still under pressure
            self.env.invalidate_all()
            rows = self.env["ecrm.pressure.report"].search([("partner_id", "=", self.alice.id)])
            self.assertEqual(rows.touch_count, 0)
            self.assertAlmostEqual(rows.pressure, rows.partner_id.ecrm_pressure, delta=0.005)  # shown to 2 digits

    def test_blocked_until_on_profile(self):
        rule = self.Rule.create({"name": "Gap", "max_count": 5, "min_interval_hours": 24})
        self._touch(self.alice, NOW - timedelta(hours=1))
        with freeze_time(NOW):
            self.assertEqual(self.alice.ecrm_pressure_email_rule_id, rule)
            self.assertEqual(self.alice.ecrm_pressure_email_blocked_until, NOW + timedelta(hours=23))
            self.assertFalse(self.alice.ecrm_pressure_sms_blocked_until)

    def test_half_life_must_be_positive(self):
        with self.assertRaisesRegex(ValidationError, "half-life"):
            self.company.ecrm_pressure_half_life_days = 0

    def test_plain_user_cannot_read_pressure(self):
        plain = new_test_user(self.env, login="ecrm_pp_plain", groups="base.group_user")
        with self.assertRaises(AccessError):
            self.alice.with_user(plain).read(["ecrm_pressure"])
        with self.assertRaises(AccessError):
            self.env["ecrm.pressure.report"].with_user(plain).search([])
