from datetime import datetime

from freezegun import freeze_time

from odoo.tests import TransactionCase, tagged

RAW_EMAIL = """Return-Path: <{email_from}>
To: {to}
From: {email_from}
Subject: {subject}
Message-ID: <{msg_id}@shop.example.com>
Date: Mon, 23 Nov 2026 08:00:00 +0000
Content-Type: text/plain; charset="utf-8"
MIME-Version: 1.0

Hello, where is my parcel?
"""


@tagged("post_install", "-at_install")
class TestIdentityKeys(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.spain = cls.env.ref("base.es")
        cls.france = cls.env.ref("base.fr")
        cls.env.company.country_id = cls.spain

    def test_email_key_is_lower_case_without_name(self):
        partner = self.env["res.partner"].create({"name": "Ana", "email": "Ana <ANA@Shop.ES>"})
        self.assertEqual(partner.ecrm_email_key, "ana@shop.es")

    def test_phone_key_is_e164_in_partner_country(self):
        partner = self.env["res.partner"].create(
            {"name": "Luc", "phone": "06 12 34 56 78", "country_id": self.france.id}
        )
        self.assertEqual(partner.ecrm_phone_key, "+33612345678")

    def test_phone_key_falls_back_to_company_country_then_mobile(self):
        partner = self.env["res.partner"].create({"name": "Ana", "phone": "call me", "mobile": "600 12 34 56"})
        self.assertEqual(partner.ecrm_phone_key, "+34600123456")

    def test_phone_forms_give_the_same_key(self):
        partners = self.env["res.partner"].create(
            [
                {"name": "A", "phone": "+34 600 123 456"},
                {"name": "B", "phone": "0034600123456"},
                {"name": "C", "phone": "600 12 34 56", "country_id": self.spain.id},
            ]
        )
        self.assertEqual(set(partners.mapped("ecrm_phone_key")), {"+34600123456"})

    def test_vat_key_removes_separators_keeps_prefix(self):
        partner = self.env["res.partner"].create({"name": "Shop SL", "is_company": True})
        # the VAT check of base_vat is not installed; the raw value is stored as typed
        partner.vat = "es b-123.456.78"
        self.assertEqual(partner.ecrm_vat_key, "ESB12345678")

    def test_keys_follow_writes(self):
        partner = self.env["res.partner"].create({"name": "Ana", "email": "ana@shop.es", "phone": "600123456"})
        partner.write({"email": "ana.new@shop.es", "country_id": self.france.id, "phone": "0612345678"})
        self.assertEqual((partner.ecrm_email_key, partner.ecrm_phone_key), ("ana.new@shop.es", "+33612345678"))

    def test_keys_set_on_import(self):
        result = self.env["res.partner"].load(
            ["name", "email", "phone"], [["Imported", "IMPORTED@Shop.es", "+34 611 22 33 44"]]
        )
        partner = self.env["res.partner"].browse(result["ids"])
        self.assertEqual((partner.ecrm_email_key, partner.ecrm_phone_key), ("imported@shop.es", "+34611223344"))

    def test_bad_input_is_stored_as_typed_without_key(self):
        partner = self.env["res.partner"].create(
            {
                "name": "Bad",
                "email": "a@shop.es, b@shop.es",
                "phone": "not a phone",
                "vat": "n/a",
            }
        )
        self.assertEqual(partner.email, "a@shop.es, b@shop.es")
        self.assertFalse(partner.ecrm_email_key or partner.ecrm_phone_key or partner.ecrm_vat_key)
        self.assertFalse(self.env["res.partner"]._ecrm_match(email=partner.email, phone=partner.phone, vat="n/a"))


@tagged("post_install", "-at_install")
class TestIdentityMatch(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env.company.country_id = cls.env.ref("base.es")
        cls.company = cls.env["res.partner"].create({"name": "Shop SL", "is_company": True, "vat": "ESB99887766"})
        cls.ana = cls.env["res.partner"].create(
            {"name": "Ana", "email": "ana@shop.es", "phone": "+34 600 987 001", "parent_id": cls.company.id}
        )

    def test_match_by_email_returns_commercial_partner(self):
        self.assertEqual(self.env["res.partner"]._ecrm_match(email="Ana <ANA@Shop.ES>"), self.company)

    def test_match_by_national_phone(self):
        self.assertEqual(self.env["res.partner"]._ecrm_match(phone="600 98 70 01"), self.company)

    def test_match_by_vat(self):
        self.assertEqual(self.env["res.partner"]._ecrm_match(vat="es-b 998.877.66"), self.company)

    def test_no_match_is_empty(self):
        self.assertFalse(self.env["res.partner"]._ecrm_match(email="nobody@shop.es", phone="611000000"))
        self.assertFalse(self.env["res.partner"]._ecrm_match())

    def test_match_prefers_most_recently_active_customer(self):
        with freeze_time("2026-01-01"):
            older = self.env["res.partner"].create({"name": "Ana twin", "email": "twin@shop.es"})
            newer = self.env["res.partner"].create({"name": "Ana twin 2", "email": "twin@shop.es"})
        with freeze_time("2026-06-01"):
            # the older profile is the one the customer still uses
            self.env["ecrm.interaction"]._log(
                [{"partner_id": older.id, "name": "Call", "channel": "phone", "date": datetime(2026, 6, 1)}]
            )
        self.assertEqual(self.env["res.partner"]._ecrm_match(email="twin@shop.es"), older)
        self.assertNotEqual(older, newer)

    def test_match_prefers_latest_order(self):
        with freeze_time("2026-01-01"):
            first = self.env["res.partner"].create({"name": "Buyer", "email": "buyer@shop.es"})
            second = self.env["res.partner"].create({"name": "Buyer again", "email": "buyer@shop.es"})
        self.env["sale.order"].create({"partner_id": first.id, "state": "sale", "date_order": datetime(2026, 5, 1)})
        self.assertEqual(self.env["res.partner"]._ecrm_match(email="buyer@shop.es"), first)
        self.assertTrue(second)

    def test_find_or_create_reuses_partner_by_key(self):
        count = self.env["res.partner"].search_count([])
        partner = self.env["res.partner"].find_or_create("Ana García <ANA@shop.es>")
        self.assertEqual(partner, self.ana)
        self.assertEqual(self.env["res.partner"].search_count([]), count)

    def test_find_or_create_still_creates_unknown(self):
        partner = self.env["res.partner"].find_or_create("New One <new.one@shop.es>")
        self.assertEqual((partner.name, partner.email), ("New One", "new.one@shop.es"))


@tagged("post_install", "-at_install")
class TestIdentityMailGateway(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.customer = cls.env["res.partner"].create({"name": "Ana", "email": "ana@shop.es"})

    def _process(self, email_from, msg_id):
        raw = RAW_EMAIL.format(email_from=email_from, to="shop@example.com", subject="Parcel", msg_id=msg_id)
        return self.env["mail.thread"].message_process("res.partner", raw, thread_id=self.customer.id)

    def test_gateway_email_lands_on_existing_partner(self):
        count = self.env["res.partner"].search_count([])
        self._process('"Ana" <ANA@Shop.ES>', "gw1")
        message = self.customer.message_ids[:1]
        self.assertEqual(message.author_id, self.customer)
        self.assertEqual(self.env["res.partner"].search_count([]), count)

    def test_gateway_picks_most_recently_active_of_two_profiles(self):
        with freeze_time("2025-01-01"):
            stale = self.env["res.partner"].create({"name": "Ana old", "email": "ana.twin@shop.es"})
            active = self.env["res.partner"].create({"name": "Ana active", "email": "ana.twin@shop.es"})
        self.env["ecrm.interaction"]._log([{"partner_id": active.id, "name": "Order question", "channel": "email"}])
        self._process("Ana <Ana.Twin@shop.es>", "gw2")
        self.assertEqual(self.customer.message_ids[:1].author_id, active)
        self.assertNotEqual(stale, active)
