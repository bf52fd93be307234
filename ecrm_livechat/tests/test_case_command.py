# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from datetime import datetime

from freezegun import freeze_time

from odoo import Command
from odoo.exceptions import AccessError
from odoo.tests import TransactionCase, new_test_user, tagged


@tagged("post_install", "-at_install")
class TestCaseCommand(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.operator = new_test_user(
            cls.env,
            login="ecrm_chat_operator",
            name="Olga Operator",
            groups="im_livechat.im_livechat_group_user,ecrm_addon.group_ecrm_user",
        )
        cls.customer = cls.env["res.partner"].create({"name": "Ana García", "email": "ana@shop.es", "lang": "en_US"})
        cls.guest = cls.env["mail.guest"].create({"name": "Visitor 7"})

    def _conversation(self, visitor_text=None, visitor_partner=None):
        """A live chat between the operator and a visitor (a guest, or a
        logged-in partner) who wrote ``visitor_text``, answered by the operator."""
        channel = self.env["discuss.channel"].create(
            {
                "name": "Visitor 7 Olga",
                "channel_type": "livechat",
                "anonymous_name": "Visitor 7",
                "livechat_operator_id": self.operator.partner_id.id,
                "channel_member_ids": [Command.create({"partner_id": self.operator.partner_id.id})],
            }
        )
        visitor = {"partner_id": visitor_partner.id} if visitor_partner else {"guest_id": self.guest.id}
        self.env["discuss.channel.member"].create({"channel_id": channel.id, **visitor})
        with freeze_time("2026-11-23 09:00"):
            self.env["mail.message"].create(
                {
                    "model": "discuss.channel",
                    "res_id": channel.id,
                    "message_type": "comment",
                    "body": visitor_text or "My chair arrived broken",
                    "author_id": visitor_partner.id if visitor_partner else False,
                    "author_guest_id": False if visitor_partner else self.guest.id,
                }
            )
        with freeze_time("2026-11-23 09:02"):
            channel.with_user(self.operator).message_post(
                body="Sorry to hear that, let me check", message_type="comment", subtype_xmlid="mail.mt_comment"
            )
        return channel.with_user(self.operator)

    def _command(self, channel, body):
        with freeze_time("2026-11-23 09:05"):
            case_id = channel.execute_command_case(body=body)
        return self.env["ecrm.case"].browse(case_id)

    def test_case_lands_on_the_existing_customer_from_the_email_the_visitor_wrote(self):
        partners = self.env["res.partner"].search_count([])
        channel = self._conversation("It is broken, my email is ANA@Shop.es")
        case = self._command(channel, "/case Broken chair")
        self.assertEqual(case.partner_id, self.customer)
        self.assertEqual(self.env["res.partner"].search_count([]), partners, "no partner created")
        self.assertEqual((case.subject, case.channel, case.user_id), ("Broken chair", "chat", self.operator))
        self.assertEqual(case.livechat_channel_id, channel)

    def test_transcript_goes_to_the_case_chatter_as_a_note(self):
        case = self._command(self._conversation("ana@shop.es here, my chair is broken"), "/case Broken chair")
        note = case.message_ids.filtered(lambda m: "Live chat transcript" in m.body)
        self.assertEqual(len(note), 1)
        self.assertIn("my chair is broken", note.body)
        self.assertIn("Sorry to hear that", note.body)
        self.assertTrue(note.subtype_id.internal, "the transcript is not mailed to the customer")

    def test_the_chat_sets_the_opening_and_the_first_response(self):
        case = self._command(self._conversation("ana@shop.es"), "/case Broken chair")
        self.assertEqual(case.date_open, datetime(2026, 11, 23, 9, 0))
        self.assertEqual(case.sudo().first_response_date, datetime(2026, 11, 23, 9, 2))

    def test_email_typed_in_the_command_is_used_and_left_out_of_the_subject(self):
        case = self._command(self._conversation(), "/case Refund please Ana@shop.es")
        self.assertEqual(case.partner_id, self.customer)
        self.assertEqual(case.subject, "Refund please")

    def test_unknown_email_creates_the_customer(self):
        case = self._command(self._conversation("new.one@example.com"), "/case")
        self.assertEqual(case.partner_id.email, "new.one@example.com")
        self.assertEqual(case.subject, "Live chat with Visitor 7")

    def test_logged_in_visitor_is_the_customer(self):
        case = self._command(self._conversation(visitor_partner=self.customer), "/case Broken chair")
        self.assertEqual(case.partner_id, self.customer)

    def test_visitor_gets_the_case_reference_in_the_channel(self):
        channel = self._conversation("ana@shop.es")
        case = self._command(channel, "/case Broken chair")
        self.assertIn(case.name, channel.message_ids[0].body)

    def test_second_command_points_to_the_case_already_open(self):
        channel = self._conversation("ana@shop.es")
        case = self._command(channel, "/case Broken chair")
        self.assertEqual(self._command(channel, "/case Again"), case)
        self.assertEqual(self.env["ecrm.case"].search_count([("livechat_channel_id", "=", channel.id)]), 1)

    def test_visitor_without_email_gets_no_case(self):
        case = self._command(self._conversation("no address here"), "/case Broken chair")
        self.assertFalse(case)
        self.assertFalse(self.env["ecrm.case"].search([("subject", "=", "Broken chair")]))

    def test_case_opening_shows_on_the_customer_timeline_as_chat(self):
        case = self._command(self._conversation("ana@shop.es"), "/case Broken chair")
        log = self.env["ecrm.interaction"].search([("res_model", "=", "ecrm.case"), ("res_id", "=", case.id)])
        self.assertEqual((log.channel, log.partner_id), ("chat", self.customer))

    def test_operator_without_ecrm_rights_cannot_open_cases(self):
        operator = new_test_user(self.env, login="chat_only", groups="im_livechat.im_livechat_group_user")
        channel = self._conversation("ana@shop.es")
        channel.sudo().channel_member_ids = [Command.create({"partner_id": operator.partner_id.id})]
        with self.assertRaises(AccessError):
            channel.with_user(operator).execute_command_case(body="/case Broken chair")

    def test_spanish_visitor_reads_the_reference_in_spanish(self):
        self.env["res.lang"]._activate_lang("es_ES")
        self.env["ir.module.module"]._load_module_terms(["ecrm_livechat"], ["es_ES"], overwrite=True)
        self.customer.lang = "es_ES"
        channel = self._conversation("ana@shop.es")
        case = self._command(channel, "/case Silla rota")
        self.assertIn(f"Su solicitud es ahora el caso {case.name}", channel.message_ids[0].body)
