# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import json
from datetime import timedelta

from freezegun import freeze_time

from odoo import fields
from odoo.tests import Form, HttpCase, new_test_user, tagged

from .common import EcrmCaseCommon
from .test_case_intake import MAIL

MONDAY_8 = "2026-11-30 08:00:00"  # before the 9-17 (UTC) day: the response is due at 13:00 UTC

BOUNCE = """Return-Path: <>
From: Mail Delivery System <MAILER-DAEMON@mx.example.com>
To: cases@shop.example
Subject: Undelivered Mail Returned to Sender
Message-ID: <bounce1@mx.example.com>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="b1"

--b1
Content-Type: text/plain

The mail could not be delivered.
--b1--
"""


class AcknowledgeCommon(EcrmCaseCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.template = cls.env.ref("ecrm_addon.ecrm_case_mail_template_acknowledge")
        cls.customer.tz = "Europe/Madrid"
        cls.company.email = "help@shop.example"

    def process(self, raw=None, **kw):
        values = {
            "email_from": "jane.doe@example.com",
            "subject": "My parcel",
            "msg_id": "<ack1@customer.example>",
            "extra": "",
            "body": "Where is it?",
            **kw,
        }
        return self.env["mail.thread"].message_process("ecrm.case", raw or MAIL.format(**values))

    def acks(self, case):
        """The acknowledgements posted on ``case``."""
        return case.message_ids.filtered(lambda m: m.message_type == "auto_comment" and case.name in (m.subject or ""))

    def mails_to(self, partner):
        return self.env["mail.mail"].search([("recipient_ids", "in", partner.ids)])

    def assert_posted_as_the_composer_posts(self, case, template):
        """``_ecrm_post_template`` posts what Odoo's composer posted before
        (``message_post_with_source``), with the same options: the message and
        its email, field by field, as the API user would post them."""
        case = case.with_user(self.agent).with_context(mail_notify_author=True)
        options = case._ecrm_customer_template_options()
        with freeze_time(MONDAY_8):
            composed = case.message_post_with_source(template, **options)
            direct = case._ecrm_post_template(template, **options)
        message_fields = [
            "subject",
            "body",
            "partner_ids",
            "author_id",
            "email_from",
            "reply_to",
            "message_type",
            "subtype_id",
            "record_name",
            "email_layout_xmlid",
            "email_add_signature",
            "mail_server_id",
            "record_company_id",
            "record_alias_domain_id",
            "model",
            "res_id",
            "date",
        ]
        [composed_values], [direct_values] = composed.read(message_fields), direct.read(message_fields)
        composed_values.pop("id"), direct_values.pop("id")
        self.assertEqual(direct_values, composed_values)
        self.assertEqual(direct.attachment_ids.mapped("name"), composed.attachment_ids.mapped("name"))
        self.assertEqual(direct.attachment_ids.mapped("raw"), composed.attachment_ids.mapped("raw"))
        # copies of their own, attached to the case
        self.assertFalse(direct.attachment_ids & composed.attachment_ids)
        self.assertEqual(direct.attachment_ids.mapped("res_model"), composed.attachment_ids.mapped("res_model"))
        mail_fields = [
            "subject",
            "body_html",
            "email_from",
            "reply_to",
            "recipient_ids",
            "email_to",
            "auto_delete",
            "is_notification",
            "state",
            "scheduled_date",
            "mail_server_id",
            "headers",
        ]

        def mails(message):
            found = self.env["mail.mail"].search([("mail_message_id", "=", message.id)])
            values = [{key: value for key, value in row.items() if key != "id"} for row in found.read(mail_fields)]
            return sorted(values, key=lambda row: row["recipient_ids"])

        self.assertTrue(mails(direct))
        self.assertEqual(mails(direct), mails(composed))
        return direct


@tagged("post_install", "-at_install")
class TestCaseAcknowledge(AcknowledgeCommon):
    def test_mail_case_is_acknowledged_in_english_in_the_customer_time_zone(self):
        with freeze_time(MONDAY_8):
            case = self.env["ecrm.case"].browse(self.process())
            self.assertEqual(case.response_deadline, self.dt("2026-11-30 13:00"))
            ack = self.acks(case)
            self.assertEqual(len(ack), 1)
            # after the customer's mail in the chatter
            mail = case.message_ids.filtered(lambda m: m.message_type == "email")
            self.assertGreater(ack.id, mail.id)
            self.assertEqual(ack.subject, f"{case.name}: My parcel")
            self.assertEqual(ack.partner_ids, self.customer)
            self.assertEqual(ack.author_id, case.company_id.partner_id)
            # 13:00 UTC is 14:00 in Madrid
            body = ack.body.replace("\u202f", " ")  # Babel's narrow space before PM, in recent versions
            self.assertIn("Monday, November 30, 2026, 2:00 PM (Europe/Madrid)", body)
            self.assertIn("We have received your request", ack.body)
            self.assertIn(f"/my/cases/{case.id}?access_token={case.access_token}", ack.body)
            self.assertTrue(case.access_token)
            self.assertTrue(self.mails_to(self.customer))
            # an automatic email: no first response, the clock runs on
            self.assertFalse(case.first_response_date)
            log = self.env["ecrm.interaction"].search(
                [("res_model", "=", "ecrm.case"), ("res_id", "=", case.id), ("direction", "=", "outbound")]
            )
            self.assertEqual((log.category, log.channel), ("service", "email"))
            self.assertIn("Case acknowledged", log.name)

    def test_acknowledgement_is_what_the_composer_posted(self):
        case = self.new_case()
        direct = self.assert_posted_as_the_composer_posts(case, self.template)
        self.assertIn("We have received your request", direct.body)

    def test_template_attachments_and_addresses_are_posted_as_the_composer_posted(self):
        """A shop's edited template: a file attached and a copy to an address."""
        template = self.template.copy({"email_cc": "manager@shop.example"})
        template.attachment_ids = self.env["ir.attachment"].create(
            {"name": "returns.txt", "raw": b"Returns policy", "res_model": template._name, "res_id": template.id}
        )
        direct = self.assert_posted_as_the_composer_posts(self.new_case(), template)
        self.assertEqual(direct.attachment_ids.mapped("raw"), [b"Returns policy"])
        emails = sorted(direct.partner_ids.mapped("email_normalized"))
        self.assertEqual(emails, ["jane.doe@example.com", "manager@shop.example"])
        self.assertEqual(template.attachment_ids.res_model, "mail.template", "the template keeps its own file")

    def test_template_body_is_compiled_once_and_again_once_edited(self):
        """The body is compiled at the first acknowledgement only (Odoo compiles
        an inline template at each rendering, twice); an edited body is new
        source, compiled and used at once."""
        IrQweb = type(self.env["ir.qweb"])
        generate_code = IrQweb._generate_code
        compiled = []

        def spy(qweb, template):
            compiled.append(template)
            return generate_code(qweb, template)

        self.patch(IrQweb, "_generate_code", spy)
        self.env.registry.clear_cache("templates")
        self.assertIn("We have received your request", self.acks(self.new_case(acknowledge=True)).body)
        self.assertTrue(compiled)
        compiled.clear()
        self.assertIn("We have received your request", self.acks(self.new_case(acknowledge=True)).body)
        self.assertEqual(compiled, [], "nothing compiled for the second acknowledgement")
        self.template.body_html = self.template.body_html.replace("We have received", "We received")
        self.assertIn("We received your request", self.acks(self.new_case(acknowledge=True)).body)
        self.assertTrue(compiled)

    def test_shop_without_sender_address_still_opens_the_case(self):
        self.company.email = False
        self.patch(type(self.env["ir.mail_server"]), "_get_default_from_address", lambda self: False)
        case = self.env["ecrm.case"].browse(self.process())
        self.assertEqual(case.partner_id, self.customer)
        self.assertFalse(self.acks(case))

    def test_case_without_sla_says_as_soon_as_possible(self):
        self.policy.active = False
        case = self.new_case(acknowledge=True)
        self.assertFalse(case.policy_id)
        self.assertIn("We will answer you as soon as possible.", self.acks(case).body)

    def test_backend_case_is_acknowledged_only_when_the_agent_asks(self):
        with Form(self.env["ecrm.case"].with_user(self.agent)) as form:
            form.subject = "Called about a refund"
            form.partner_id = self.customer
        self.assertFalse(self.acks(form.record))
        with Form(self.env["ecrm.case"].with_user(self.agent)) as form:
            form.subject = "Called about a return"
            form.partner_id = self.customer
            form.acknowledge = True
        self.assertEqual(len(self.acks(form.record)), 1)

    def test_reply_on_a_case_is_not_acknowledged_again(self):
        case = self.env["ecrm.case"].browse(self.process())
        self.process(
            subject="Re: My parcel",
            msg_id="<ack2@customer.example>",
            extra="In-Reply-To: <ack1@customer.example>\n",
        )
        self.assertEqual(len(self.acks(case)), 1)

    def test_automatic_reply_gets_no_acknowledgement(self):
        mails_before = self.mails_to(self.customer)
        result = self.process(extra="Auto-Submitted: auto-replied\n")
        self.assertFalse(result)
        self.assertFalse(self.env["ecrm.case"].search([("partner_id", "=", self.customer.id)]))
        self.assertEqual(self.mails_to(self.customer), mails_before)
        # even a case created by hand in a gateway run for automatic mail is not acknowledged
        case = self.new_case(acknowledge=True)
        case_auto = (
            self.env["ecrm.case"]
            .with_context(ecrm_auto_submitted=True)
            .create({"subject": "Out of office", "partner_id": self.customer.id, "acknowledge": True})
        )
        self.assertEqual(len(self.acks(case)), 1)
        self.assertFalse(self.acks(case_auto))

    def test_bounce_opens_no_case_and_gets_no_acknowledgement(self):
        cases_before = self.env["ecrm.case"].search_count([])
        self.process(raw=BOUNCE)
        self.assertEqual(self.env["ecrm.case"].search_count([]), cases_before)
        self.assertFalse(self.env["mail.mail"].search([("email_to", "ilike", "mailer-daemon")]))
        daemon = self.env["res.partner"].create({"name": "Mail Delivery", "email": "MAILER-DAEMON@mx.example.com"})
        case = self.new_case(partner_id=daemon.id, acknowledge=True)
        self.assertFalse(self.acks(case))
        self.assertFalse(self.mails_to(daemon))

    def test_blacklisted_address_gets_no_acknowledgement(self):
        self.env["mail.blacklist"]._add("jane.doe@example.com")
        case = self.env["ecrm.case"].browse(self.process())
        self.assertTrue(case)
        self.assertFalse(self.acks(case))
        self.assertFalse(self.mails_to(self.customer))
        self.assertFalse(
            self.env["ecrm.interaction"].search(
                [("res_model", "=", "ecrm.case"), ("res_id", "=", case.id), ("direction", "=", "outbound")]
            )
        )


@tagged("post_install", "-at_install")
class TestCaseAcknowledgeSpanish(AcknowledgeCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["res.lang"]._activate_lang("es_ES")
        cls.env["ir.module.module"]._load_module_terms(["ecrm_addon"], ["es_ES"], overwrite=True)
        cls.customer.lang = "es_ES"

    def test_spanish_customer_gets_the_acknowledgement_in_spanish(self):
        with freeze_time(MONDAY_8):
            case = self.new_case(acknowledge=True)
            body = self.acks(case).body
            self.assertIn("Hemos recibido su solicitud", body)
            self.assertIn("lunes, 30 de noviembre de 2026, 14:00 (Europe/Madrid)", body)
            self.assertNotIn("We have received", body)

    def test_spanish_acknowledgement_is_what_the_composer_posted(self):
        direct = self.assert_posted_as_the_composer_posts(self.new_case(), self.template)
        self.assertIn("Hemos recibido su solicitud", direct.body)
        mail = self.env["mail.mail"].search([("mail_message_id", "=", direct.id)])
        self.assertIn("Hemos recibido su solicitud", mail.body_html)

    def test_spanish_customer_without_sla_is_told_as_soon_as_possible(self):
        self.policy.active = False
        case = self.new_case(acknowledge=True)
        self.assertIn("Le responderemos lo antes posible.", self.acks(case).body)


@tagged("post_install", "-at_install")
class TestCaseStageTemplates(AcknowledgeCommon):
    def move(self, case, stage):
        """Move ``case`` in a transaction of its own, as an agent does (Odoo
        tracks no change made in the transaction that created the record)."""
        self.env.flush_all()
        self.env.cr.precommit.run()
        case.with_context(mail_notrack=False).stage_id = stage
        self.env.flush_all()
        self.env.cr.precommit.run()  # the tracking, and its stage email

    def stage_mails(self, case, template):
        return case.message_ids.filtered(lambda m: m.message_type == "auto_comment" and m.body and template in m.body)

    def test_shipped_stages_carry_customer_templates(self):
        self.assertEqual(self.stage_waiting.template_id, self.env.ref("ecrm_addon.ecrm_case_mail_template_waiting"))
        self.assertEqual(self.stage_solved.template_id, self.env.ref("ecrm_addon.ecrm_case_mail_template_solved"))
        self.assertFalse(self.stage_progress.template_id)

    def test_waiting_stage_emails_the_customer(self):
        case = self.new_case()
        self.move(case, self.stage_progress)
        self.assertFalse(self.stage_mails(case, "we need an answer from you"))
        self.move(case, self.stage_waiting)
        sent = self.stage_mails(case, "we need an answer from you")
        self.assertEqual(len(sent), 1)
        self.assertEqual(sent.partner_ids, self.customer)
        self.assertFalse(case.first_response_date)
        self.assertTrue(
            self.env["ecrm.interaction"].search(
                [("res_id", "=", case.id), ("res_model", "=", "ecrm.case"), ("name", "like", "Waiting on customer")]
            )
        )

    def test_solved_stage_emails_the_customer(self):
        case = self.new_case()
        self.move(case, self.stage_solved)
        self.assertEqual(len(self.stage_mails(case, "is solved")), 1)

    def assert_no_stage_email(self, case, partner):
        self.assertFalse(self.stage_mails(case, "we need an answer from you"))
        self.assertFalse(self.mails_to(partner))
        self.assertFalse(
            self.env["ecrm.interaction"].search(
                [("res_model", "=", "ecrm.case"), ("res_id", "=", case.id), ("direction", "=", "outbound")]
            )
        )

    def test_blacklisted_customer_gets_no_stage_email(self):
        self.env["mail.blacklist"]._add(self.customer.email)
        case = self.new_case()
        self.move(case, self.stage_waiting)
        self.assertEqual(case.stage_id, self.stage_waiting)
        self.assert_no_stage_email(case, self.customer)

    def test_mail_server_address_gets_no_stage_email(self):
        daemon = self.env["res.partner"].create({"name": "Mail Delivery", "email": "MAILER-DAEMON@mx.example.com"})
        case = self.new_case(partner_id=daemon.id)
        self.move(case, self.stage_waiting)
        self.assert_no_stage_email(case, daemon)

    def test_stage_reached_while_an_automatic_mail_is_processed_sends_nothing(self):
        """A case moved while the gateway processes an out-of-office or a bounce
        (an automated action on incoming mail, say) emails nobody: neither the
        stage template nor the rating request would reach a person."""
        case = self.new_case()
        self.move(case.with_context(ecrm_auto_submitted=True), self.stage_waiting)
        self.assert_no_stage_email(case, self.customer)
        self.move(case.with_context(ecrm_auto_submitted=True), self.stage_solved)
        self.assertFalse(self.stage_mails(case, "is solved"))
        self.assertFalse(case.message_ids.filtered(lambda m: m.body and "/rate/" in m.body))
        self.assertFalse(self.mails_to(self.customer))
        # the same move by an agent emails the customer
        self.move(case, self.stage_waiting)
        self.assertEqual(len(self.stage_mails(case, "we need an answer from you")), 1)


@tagged("post_install", "-at_install")
class TestCaseAcknowledgeChannels(HttpCase):
    URL = "/ecrm/api/v1/cases"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        agent = new_test_user(cls.env, login="ecrm_ack_api", groups="ecrm_addon.group_ecrm_user")
        tomorrow = fields.Datetime.now() + timedelta(days=1)
        cls.key = cls.env["res.users.apikeys"].with_user(agent)._generate(None, "test", tomorrow)
        cls.portal = new_test_user(
            cls.env, login="ecrm_ack_portal", password="ecrm_ack_portal1", groups="base.group_portal"
        )
        cls.portal.partner_id.email = "ack.portal@example.com"
        cls.env.company.email = "help@shop.example"

    def post(self, body):
        headers = {"Content-Type": "application/json", "Authorization": f"Bearer {self.key}"}
        response = self.url_open(self.URL, data=json.dumps(body), headers=headers)
        self.assertEqual(response.status_code, 201, response.text)
        return self.env["ecrm.case"].browse(response.json()["id"])

    def acks(self, case):
        return case.message_ids.filtered(lambda m: m.message_type == "auto_comment")

    def test_api_case_is_acknowledged_unless_the_client_opts_out(self):
        case = self.post({"subject": "Broken lamp", "email": "ack.api@example.com"})
        self.assertEqual(len(self.acks(case)), 1)
        self.assertEqual(self.acks(case).partner_ids, case.partner_id)
        quiet = self.post({"subject": "Broken chair", "email": "ack.api@example.com", "acknowledge": False})
        self.assertFalse(self.acks(quiet))

    def test_portal_case_is_acknowledged_from_the_shop(self):
        self.authenticate("ecrm_ack_portal", "ecrm_ack_portal1")
        page = self.url_open("/my/cases/new")
        token = page.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
        self.url_open("/my/cases/new", data={"csrf_token": token, "subject": "Lamp broken", "description": "Broken"})
        case = self.env["ecrm.case"].search([("partner_id", "=", self.portal.partner_id.id)])
        ack = self.acks(case)
        self.assertEqual(len(ack), 1)
        self.assertEqual(ack.partner_ids, self.portal.partner_id)
        self.assertEqual(ack.author_id, case.company_id.partner_id)
        self.assertTrue(self.env["mail.mail"].search([("recipient_ids", "in", self.portal.partner_id.ids)]))
