# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import ast

from odoo.exceptions import AccessError
from odoo.tests import new_test_user, tagged

from .common import EcrmCaseCommon

MAIL = """Return-Path: <{email_from}>
From: {email_from}
To: cases@shop.example
Subject: {subject}
Message-ID: {msg_id}
{extra}MIME-Version: 1.0
Content-Type: text/plain; charset="utf-8"

{body}
"""


@tagged("post_install", "-at_install")
class TestCaseIntake(EcrmCaseCommon):
    def process(self, email_from, subject="My parcel", msg_id="<m1@customer.example>", extra="", body="Where is it?"):
        raw = MAIL.format(email_from=email_from, subject=subject, msg_id=msg_id, extra=extra, body=body)
        return self.env["mail.thread"].message_process("ecrm.case", raw)

    def test_email_matches_existing_partner_case_insensitively(self):
        partners_before = self.env["res.partner"].search_count([])
        case = self.env["ecrm.case"].browse(self.process('"J. Doe" <JANE.DOE@example.COM>'))
        self.assertEqual(case.partner_id, self.customer)
        self.assertEqual(case.channel, "email")
        self.assertEqual(case.subject, "My parcel")
        self.assertTrue(case.name.startswith("CASE/"))
        self.assertEqual(self.env["res.partner"].search_count([]), partners_before)

    def test_unknown_sender_gets_one_partner_for_two_cases(self):
        first = self.env["ecrm.case"].browse(self.process("New Person <new.person@example.org>"))
        second = self.env["ecrm.case"].browse(
            self.process("NEW.PERSON@example.org", subject="Again", msg_id="<m2@customer.example>")
        )
        self.assertTrue(first.partner_id)
        self.assertEqual(first.partner_id.name, "New Person")
        self.assertEqual(second.partner_id, first.partner_id)
        self.assertEqual(self.env["res.partner"].search_count([("email_normalized", "=", "new.person@example.org")]), 1)

    def test_reply_threads_on_the_case(self):
        case = self.env["ecrm.case"].browse(self.process("jane.doe@example.com"))
        reply_id = self.process(
            "jane.doe@example.com",
            subject="Re: My parcel",
            msg_id="<m3@customer.example>",
            extra="In-Reply-To: <m1@customer.example>\n",
            body="Still nothing",
        )
        self.assertEqual(reply_id, case.id)
        self.assertEqual(self.env["ecrm.case"].search_count([("partner_id", "=", self.customer.id)]), 1)
        self.assertTrue(case.message_ids.filtered(lambda m: "Still nothing" in (m.body or "")))

    def test_reply_resumes_a_case_waiting_on_the_customer(self):
        case = self.env["ecrm.case"].browse(self.process("jane.doe@example.com"))
        case.stage_id = self.stage_waiting
        self.process(
            "jane.doe@example.com",
            subject="Re: My parcel",
            msg_id="<m4@customer.example>",
            extra="In-Reply-To: <m1@customer.example>\n",
        )
        self.assertEqual(case.stage_id, self.stage_progress)
        self.assertFalse(case.ecrm_paused_since)

    def test_automatic_mail_opens_no_case(self):
        for number, header in enumerate(
            (
                "Auto-Submitted: auto-replied",
                "Auto-Submitted: auto-generated",
                "X-Autoreply: yes",
                "X-Autorespond: Out of office",
                "Precedence: bulk",
                "Precedence: junk",
                "Precedence: list",
            )
        ):
            with self.subTest(header=header):
                before = self.env["ecrm.case"].search_count([])
                result = self.process(
                    "jane.doe@example.com", subject="Out of office", msg_id=f"<auto{number}@x>", extra=f"{header}\n"
                )
                self.assertFalse(result)
                self.assertEqual(self.env["ecrm.case"].search_count([]), before)

    def test_mail_auto_submitted_no_opens_a_case(self):
        case = self.env["ecrm.case"].browse(self.process("jane.doe@example.com", extra="Auto-Submitted: no\n"))
        self.assertEqual(case.partner_id, self.customer)

    def test_automatic_reply_does_not_resume_a_waiting_case(self):
        case = self.env["ecrm.case"].browse(self.process("jane.doe@example.com"))
        case.stage_id = self.stage_waiting
        logged = self.env["ecrm.interaction"].search_count([("res_model", "=", "ecrm.case"), ("res_id", "=", case.id)])
        self.process(
            "jane.doe@example.com",
            subject="Automatic reply: My parcel",
            msg_id="<ooo@customer.example>",
            extra="In-Reply-To: <m1@customer.example>\nAuto-Submitted: auto-replied\n",
            body="I am out of the office until Monday",
        )
        self.assertEqual(case.stage_id, self.stage_waiting)
        self.assertTrue(case.ecrm_paused_since)
        message = case.message_ids.filtered(lambda m: "out of the office" in (m.body or ""))
        self.assertEqual(len(message), 1)
        self.assertIn("Automatic reply", message.body)
        self.assertEqual(message.subtype_id, self.env.ref("mail.mt_note"))
        self.assertEqual(message.author_id, self.customer)
        self.assertEqual(
            self.env["ecrm.interaction"].search_count([("res_model", "=", "ecrm.case"), ("res_id", "=", case.id)]),
            logged,
        )

    def test_category_alias_sets_the_category(self):
        returns = self.env.ref("ecrm_addon.ecrm_case_category_return")
        returns.alias_name = "returns"
        alias = returns.alias_id
        self.assertEqual(alias.alias_model_id.model, "ecrm.case")
        self.assertEqual(ast.literal_eval(alias.alias_defaults)["category_id"], returns.id)

    def test_find_or_create_partner_reuses_same_email_and_phone(self):
        Case = self.env["ecrm.case"]
        self.assertEqual(Case._ecrm_find_or_create_partner(email=" jane.doe@EXAMPLE.com "), self.customer)
        phone_partner = self.env["res.partner"].create({"name": "Phoner", "phone": "+34 600 111 222"})
        self.assertEqual(Case._ecrm_find_or_create_partner(phone="+34600111222"), phone_partner)
        created = Case._ecrm_find_or_create_partner(email="fresh@example.net", name="Fresh")
        self.assertEqual(Case._ecrm_find_or_create_partner(email="FRESH@example.net"), created)

    def test_document_of_another_customer_is_refused(self):
        other = self.env["res.partner"].create({"name": "Other Buyer"})
        product = self.env["product.product"].create({"name": "Lamp", "list_price": 10})
        order = self.env["sale.order"].create(
            {"partner_id": other.id, "order_line": [(0, 0, {"product_id": product.id})]}
        )
        with self.assertRaisesRegex(Exception, "does not belong"):
            self.new_case(sale_order_id=order.id)

    def test_open_case_action_on_order_prefills_and_counts(self):
        product = self.env["product.product"].create({"name": "Lamp", "list_price": 10})
        order = self.env["sale.order"].create(
            {"partner_id": self.customer.id, "order_line": [(0, 0, {"product_id": product.id})]}
        )
        action = order.with_user(self.agent).action_ecrm_open_case()
        case = self.env["ecrm.case"].with_context(**action["context"]).create({"subject": "Broken lamp"})
        self.assertEqual((case.sale_order_id, case.partner_id), (order, self.customer))
        self.assertEqual(order.with_user(self.agent).ecrm_case_count, 1)
        self.assertEqual(self.env["ecrm.case"].search(order.action_ecrm_view_cases()["domain"]), case)


@tagged("post_install", "-at_install")
class TestCaseAccess(EcrmCaseCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.plain = new_test_user(cls.env, login="ecrm_case_plain", groups="base.group_user")
        cls.other_company = cls.env["res.company"].create({"name": "Other Shop"})
        cls.case = cls.env["ecrm.case"].create({"subject": "Mine", "partner_id": cls.customer.id})
        cls.foreign_case = cls.env["ecrm.case"].create(
            {"subject": "Theirs", "partner_id": cls.customer.id, "company_id": cls.other_company.id}
        )
        cls.portal_jane = new_test_user(cls.env, login="ecrm_portal_jane", groups="base.group_portal")
        cls.portal_jane.partner_id.parent_id = cls.env["res.partner"].create({"name": "Jane Co", "is_company": True})
        cls.customer.parent_id = cls.portal_jane.partner_id.parent_id
        cls.portal_other = new_test_user(cls.env, login="ecrm_portal_other", groups="base.group_portal")

    def test_user_without_ecrm_group_cannot_read_cases(self):
        with self.assertRaises(AccessError):
            self.env["ecrm.case"].with_user(self.plain).search([])

    def test_agent_handles_cases_but_cannot_delete(self):
        case = self.case.with_user(self.agent)
        case.stage_id = self.stage_progress
        with self.assertRaises(AccessError):
            case.unlink()

    def test_agent_cannot_configure_policies(self):
        with self.assertRaises(AccessError):
            self.env["ecrm.escalation.policy"].with_user(self.agent).create({"name": "Mine"})

    def test_company_rule_hides_other_company_cases(self):
        found = self.env["ecrm.case"].with_user(self.agent).search([("subject", "in", ("Mine", "Theirs"))])
        self.assertEqual(found, self.case)
        with self.assertRaises(AccessError):
            self.foreign_case.with_user(self.agent).read(["subject"])

    def test_portal_user_reads_own_company_cases_only(self):
        mine = self.env["ecrm.case"].with_user(self.portal_jane).search([])
        self.assertIn(self.case, mine)
        with self.assertRaises(AccessError):
            self.case.with_user(self.portal_other).read(["subject"])
        self.assertFalse(self.env["ecrm.case"].with_user(self.portal_other).search([]))

    def test_portal_user_cannot_write_cases(self):
        with self.assertRaises(AccessError):
            self.case.with_user(self.portal_jane).write({"priority": "3"})

    def test_portal_customer_message_resumes_waiting_case(self):
        self.case.stage_id = self.stage_waiting
        self.case.with_user(self.portal_jane).message_post(
            body="Here is the photo", message_type="comment", subtype_xmlid="mail.mt_comment"
        )
        self.assertEqual(self.case.stage_id, self.stage_progress)
        self.assertFalse(self.case.first_response_date)
