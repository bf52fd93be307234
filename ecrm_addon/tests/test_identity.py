# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import json
import re
from datetime import datetime, timedelta

from freezegun import freeze_time

from odoo import fields
from odoo.tests import HttpCase, TransactionCase, new_test_user, tagged

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

    def test_keys_of_loose_identifiers_read_the_country_for_a_phone_only(self):
        """The company's country reads national phone numbers: an email or a
        VAT number alone is normalised without reading it."""
        Partner = self.env["res.partner"]
        self.env.invalidate_all()
        with self.assertQueryCount(0):
            keys = Partner._ecrm_identity_keys(email="ANA@Shop.ES", vat="es b-123.456.78")
        self.assertEqual(keys, {"ecrm_email_key": "ana@shop.es", "ecrm_vat_key": "ESB12345678"})
        self.env.invalidate_all()
        self.assertEqual(Partner._ecrm_identity_keys(phone="600 12 34 56"), {"ecrm_phone_key": "+34600123456"})

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

    def test_gateway_unknown_sender_is_kept_as_typed_and_creates_no_partner(self):
        count = self.env["res.partner"].search_count([])
        self._process("Nobody <Nobody@Else.example.com>", "gw3")
        message = self.customer.message_ids[:1]
        self.assertFalse(message.author_id)
        self.assertEqual(message.email_from, '"Nobody" <Nobody@Else.example.com>')
        self.assertEqual(self.env["res.partner"].search_count([]), count)

    def test_gateway_follower_keeps_priority_over_most_active_profile(self):
        follower, active = self.env["res.partner"].create(
            [{"name": "Ana follower", "email": "ana.f@shop.es"}, {"name": "Ana active", "email": "ana.f@shop.es"}]
        )
        self.env["ecrm.interaction"]._log([{"partner_id": active.id, "name": "Order question", "channel": "email"}])
        self.customer.message_subscribe(partner_ids=follower.ids)
        self._process("ANA.F@shop.es", "gw4")
        self.assertEqual(self.customer.message_ids[:1].author_id, follower)


@tagged("post_install", "-at_install")
class TestIdentityImport(TransactionCase):
    """A contacts import (``load()`` as the import dialog calls it) lands rows
    without an id on the existing customer their email, phone or tax ID point to."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env.company.country_id = cls.env.ref("base.es")
        Partner = cls.env["res.partner"]
        cls.ana = Partner.create({"name": "Ana", "email": "ana@shop.es", "city": "Madrid"})
        cls.luis = Partner.create({"name": "Luis", "phone": "+34 600 111 222"})
        cls.shop = Partner.create({"name": "Shop SL", "is_company": True, "vat": "ESB91827364"})
        cls.tag = cls.env["res.partner.category"].create({"name": "Newsletter"})

    def _load(self, fields, rows):
        result = self.env["res.partner"].with_context(import_file=True).load(fields, rows)
        self.assertFalse([m for m in result["messages"] if m["type"] == "error"], result["messages"])
        return result

    def _count(self):
        return self.env["res.partner"].with_context(active_test=False).search_count([])

    def test_import_row_with_same_email_in_other_case_lands_on_customer(self):
        count = self._count()
        result = self._load(["name", "email", "phone"], [["Ana García", "  Ana <ANA@Shop.ES> ", "611 22 33 44"]])
        self.assertEqual(result["ids"], self.ana.ids)
        self.assertEqual(self._count(), count)
        # the typed name stays, the empty phone is filled
        self.assertEqual((self.ana.name, self.ana.phone), ("Ana", "611 22 33 44"))

    def test_import_national_phone_lands_on_international_one(self):
        result = self._load(["name", "phone", "email"], [["L. Pérez", "600 11 12 22", "luis@shop.es"]])
        self.assertEqual(result["ids"], self.luis.ids)
        self.assertEqual((self.luis.phone, self.luis.email), ("+34 600 111 222", "luis@shop.es"))

    def test_import_vat_lands_on_company(self):
        result = self._load(["name", "vat", "street"], [["SHOP S.L.", "es b-9182.7364", "Calle Mayor 1"]])
        self.assertEqual(result["ids"], self.shop.ids)
        self.assertEqual((self.shop.name, self.shop.street), ("Shop SL", "Calle Mayor 1"))

    def test_import_never_overwrites_typed_data(self):
        self._load(
            ["name", "email", "city", "street", "category_id"],
            [["Ana", "ana@shop.es", "Sevilla", "Gran Vía 2", "Newsletter"]],
        )
        self.assertEqual((self.ana.city, self.ana.street, self.ana.category_id), ("Madrid", "Gran Vía 2", self.tag))

    def test_import_unknown_row_is_created(self):
        count = self._count()
        result = self._load(["name", "email", "phone"], [["Nuevo", "nuevo@shop.es", "622 00 00 01"]])
        partner = self.env["res.partner"].browse(result["ids"])
        self.assertEqual(self._count(), count + 1)
        self.assertEqual((partner.email, partner.ecrm_phone_key), ("nuevo@shop.es", "+34622000001"))
        self.assertFalse([m for m in result["messages"] if m.get("ecrm_match")])

    def test_import_bad_input_is_created_as_typed_without_key(self):
        result = self._load(
            ["name", "email", "phone", "vat"], [["Bad", "ana@shop.es, other@shop.es", "call me", "n/a"]]
        )
        partner = self.env["res.partner"].browse(result["ids"])
        self.assertNotEqual(partner, self.ana)
        self.assertEqual((partner.email, partner.phone, partner.vat), ("ana@shop.es, other@shop.es", "call me", "n/a"))
        self.assertFalse(partner.ecrm_email_key or partner.ecrm_phone_key or partner.ecrm_vat_key)

    def test_import_new_contact_sharing_its_company_phone_is_created(self):
        self.shop.phone = "+34 911 22 33 44"
        result = self._load(
            ["name", "parent_id/.id", "phone", "email"], [["Marta", str(self.shop.id), "911 22 33 44", "marta@shop.es"]]
        )
        contact = self.env["res.partner"].browse(result["ids"])
        self.assertNotEqual(contact, self.shop)
        self.assertEqual((contact.parent_id, contact.email), (self.shop, "marta@shop.es"))

    def test_import_row_with_external_id_is_not_matched(self):
        result = self._load(["id", "name", "email"], [["ecrm_test_ana_copy", "Ana copy", "ana@shop.es"]])
        self.assertNotEqual(result["ids"], self.ana.ids)
        self.assertEqual(self.env.ref("__import__.ecrm_test_ana_copy").email, "ana@shop.es")

    def test_import_row_matching_two_customers_merges_nothing(self):
        # the email is Ana's, the phone Luis's: the row lands on the more active
        # customer, and Luis's phone is not copied onto Ana
        self.env["ecrm.interaction"]._log([{"partner_id": self.ana.id, "name": "Visit", "channel": "meeting"}])
        result = self._load(["name", "email", "phone", "street"], [["Mix", "ana@shop.es", "600111222", "Calle 3"]])
        self.assertEqual(result["ids"], self.ana.ids)
        self.assertEqual(len((self.ana | self.luis).exists()), 2)
        self.assertEqual((self.ana.phone, self.ana.street), (False, "Calle 3"))
        self.assertEqual((self.luis.name, self.luis.email), ("Luis", False))

    def test_import_message_lists_matched_rows_and_chatter_records_it(self):
        result = self._load(
            ["name", "email", "phone"],
            [["Ana García", "ANA@shop.es", "611 22 33 44"], ["Nuevo", "nuevo2@shop.es", False]],
        )
        messages = [m for m in result["messages"] if m.get("ecrm_match")]
        self.assertEqual(len(messages), 1)
        self.assertEqual(messages[0]["type"], "info")
        self.assertIn("Rows matched to existing customers by email, phone or tax ID: 1.", messages[0]["message"])
        self.assertIn(f"Ana García → Ana (#{self.ana.id}, same email)", messages[0]["message"])
        note = self.ana.message_ids.filtered(lambda m: "Matched by an import" in (m.body or ""))
        self.assertEqual(len(note), 1)
        self.assertIn("Phone", note.body)

    def test_two_rows_on_one_customer_fill_each_field_once(self):
        self._load(
            ["name", "email", "street"], [["Ana 1", "ana@shop.es", "Calle 1"], ["Ana 2", "ana@shop.es", "Calle 2"]]
        )
        self.assertEqual(self.ana.street, "Calle 1")

    def test_import_dialog_test_reports_matches_and_import_lands_rows(self):
        count = self._count()
        importer = self.env["base_import.import"].create(
            {
                "res_model": "res.partner",
                "file": b"name,email,phone\nAna G,ANA@SHOP.ES,611 22 33 44\nNew Row,new.row@shop.es,\n",
                "file_type": "text/csv",
                "file_name": "contacts.csv",
            }
        )
        options = {"has_headers": True, "separator": ",", "quoting": '"', "encoding": "utf-8"}
        fields = ["name", "email", "phone"]
        test = importer.execute_import(fields, fields, dict(options), dryrun=True)
        self.assertTrue([m for m in test["messages"] if m.get("ecrm_match") and "Ana G" in m["message"]])
        self.assertEqual(self._count(), count)
        done = importer.execute_import(fields, fields, dict(options))
        # the dialog stops at any message: the real import answers without it
        self.assertEqual(done["messages"], [])
        self.assertEqual(done["ids"][0], self.ana.id)
        self.assertEqual(self._count(), count + 1)
        self.assertEqual(self.ana.phone, "611 22 33 44")

    def test_import_of_orders_with_customer_email_reuses_partner(self):
        count = self._count()
        result = (
            self.env["sale.order"]
            .with_context(import_file=True, name_create_enabled_fields={"partner_id": True})
            .load(["partner_id"], [["Ana García <ANA@Shop.es>"], ["Somebody <somebody.new@shop.es>"]])
        )
        orders = self.env["sale.order"].browse(result["ids"])
        self.assertEqual(orders[0].partner_id, self.ana)
        self.assertEqual(orders[1].partner_id.email, "somebody.new@shop.es")
        self.assertEqual(self._count(), count + 1)


@tagged("post_install", "-at_install")
class TestIdentityInboundHttp(HttpCase):
    """The API and the portal, end to end: the API matches the sender's
    identifiers; the portal uses the logged-in customer's own partner."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env.company.country_id = cls.env.ref("base.es")
        cls.agent = new_test_user(cls.env, login="ecrm_identity_agent", groups="ecrm_addon.group_ecrm_user")
        tomorrow = fields.Datetime.now() + timedelta(days=1)
        cls.key = cls.env["res.users.apikeys"].with_user(cls.agent)._generate(None, "identity", tomorrow)
        cls.customer = cls.env["res.partner"].create({"name": "Eva", "phone": "+34 600 987 002"})
        cls.portal = new_test_user(
            cls.env,
            login="ecrm_identity_portal",
            password="ecrm_identity_portal1",
            groups="base.group_portal",
            email="marta@shop.es",
        )
        # an older profile with the same email and more activity: the portal ignores it
        cls.other_marta = cls.env["res.partner"].create({"name": "Marta (shop)", "email": "MARTA@shop.es"})
        cls.env["ecrm.interaction"]._log([{"partner_id": cls.other_marta.id, "name": "Visit", "channel": "meeting"}])

    def _count(self):
        return self.env["res.partner"].with_context(active_test=False).search_count([])

    def test_api_case_with_national_phone_lands_on_customer(self):
        count = self._count()
        response = self.url_open(
            "/ecrm/api/v1/cases",
            data=json.dumps({"subject": "Call back", "phone": "600 98 70 02"}),
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {self.key}"},
        )
        self.assertEqual(response.status_code, 201, response.text)
        self.assertEqual(response.json()["partner_id"], self.customer.id)
        self.assertEqual(self._count(), count)

    def test_portal_case_uses_the_customer_own_partner(self):
        count = self._count()
        self.authenticate("ecrm_identity_portal", "ecrm_identity_portal1")
        page = self.url_open("/my/cases/new")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
        self.url_open("/my/cases/new", data={"csrf_token": token, "subject": "Identity portal case"})
        case = self.env["ecrm.case"].search([("subject", "=", "Identity portal case")])
        self.assertEqual(case.partner_id, self.portal.partner_id)
        self.assertEqual(self._count(), count)
