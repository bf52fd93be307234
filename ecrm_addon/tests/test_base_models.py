# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from itertools import product

from odoo.exceptions import AccessError, ValidationError
from odoo.tests import TransactionCase, new_test_user, tagged


@tagged("post_install", "-at_install")
class TestInteractionLog(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.customer = cls.env["res.partner"].create({"name": "Log Customer", "email": "log@example.com"})
        cls.user = new_test_user(cls.env, login="ecrm_log_user", groups="ecrm_addon.group_ecrm_user")
        cls.plain = new_test_user(cls.env, login="ecrm_log_plain", groups="base.group_user")

    def test_log_uses_channel_weight_and_editable_table(self):
        weights = self.env["ecrm.pressure.weight"]
        weights.search([("company_id", "=", self.env.company.id), ("channel", "=", "phone")]).weight = 7.5
        rows = self.env["ecrm.interaction"]._log(
            [
                {"partner_id": self.customer.id, "name": "Call", "channel": "phone"},
                {"partner_id": self.customer.id, "name": "Visit", "channel": "meeting"},
                {"partner_id": self.customer.id, "name": "Mail", "channel": "email", "weight": 0.5},
            ]
        )
        self.assertEqual(rows.mapped("weight"), [7.5, 5.0, 0.5])

    def test_log_skips_rows_without_customer(self):
        rows = self.env["ecrm.interaction"]._log([{"partner_id": False, "name": "Nobody"}])
        self.assertFalse(rows)

    def test_log_rolls_up_to_commercial_partner(self):
        company = self.env["res.partner"].create({"name": "Log Co", "is_company": True})
        contact = self.env["res.partner"].create({"name": "Log Contact", "parent_id": company.id})
        row = self.env["ecrm.interaction"]._log([{"partner_id": contact.id, "name": "Hello"}])
        self.assertEqual(row.commercial_partner_id, company)

    def test_user_reads_log_plain_user_does_not(self):
        self.env["ecrm.interaction"]._log([{"partner_id": self.customer.id, "name": "Seen"}])
        self.assertTrue(
            self.env["ecrm.interaction"].with_user(self.user).search([("partner_id", "=", self.customer.id)])
        )
        with self.assertRaises(AccessError):
            self.env["ecrm.interaction"].with_user(self.plain).search([])


@tagged("post_install", "-at_install")
class TestRfmSegments(TransactionCase):
    def test_shipped_segments_cover_every_score(self):
        segments = self.env["ecrm.rfm.segment"].search([])
        self.assertEqual(len(segments), 11)
        for r, f, m in product(range(1, 6), repeat=3):
            match = segments.filtered(
                lambda s, r=r, f=f, m=m: s.r_min <= r <= s.r_max and s.f_min <= f <= s.f_max and s.m_min <= m <= s.m_max
            )
            self.assertTrue(match, f"no segment for R{r} F{f} M{m}")

    def test_range_outside_scores_is_refused(self):
        with self.assertRaisesRegex(ValidationError, "within 1..5"):
            self.env["ecrm.rfm.segment"].create({"name": "Bad", "code": "bad", "r_min": 4, "r_max": 2})
