# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import base64
import http.client
import json
import re
import time
from datetime import timedelta
from http.server import BaseHTTPRequestHandler
from urllib.parse import urlsplit

from freezegun import freeze_time

from odoo import fields
from odoo.exceptions import UserError, ValidationError
from odoo.tests import HttpCase, new_test_user, tagged
from odoo.tests.common import TEST_CURSOR_COOKIE_NAME
from odoo.tools import mute_logger

from ..tools import webhook
from .common import EcrmCaseCommon


class _SlowHook(BaseHTTPRequestHandler):
    """Answers after ``delay`` seconds (longer than the webhook timeout)."""

    delay = 0.0
    calls = 0

    def do_POST(self):
        type(self).calls += 1
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        time.sleep(type(self).delay)
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


@tagged("post_install", "-at_install")
class TestMailGatewayInput(EcrmCaseCommon):
    """What the case alias does with mail it cannot read well: processed safely
    into a case, or an exception (``message_process`` raises) so that the
    fetchmail server keeps the message (POP deletes a message only once
    processed) and nothing is half-created."""

    def counts(self):
        return self.env["ecrm.case"].search_count([]), self.env["res.partner"].search_count([])

    def process(self, raw, model="ecrm.case"):
        return self.env["mail.thread"].message_process(model, raw)

    def test_garbage_without_sender_becomes_a_case_without_customer(self):
        partners = self.env["res.partner"].search_count([])
        case = self.env["ecrm.case"].browse(self.process(b"\x00\xff\xfe not an email \x80\x81"))
        self.assertEqual((case.subject, case.channel), ("(no subject)", "email"))
        self.assertFalse(case.partner_id)
        self.assertEqual(self.env["res.partner"].search_count([]), partners, "no contact made up")

    def test_broken_mime_structure_is_read_as_far_as_possible(self):
        raw = (
            b"From: Broken <broken.mime@example.com>\nTo: cases@shop.example\nSubject: Parcel\n"
            b"Message-ID: <broken1@example.com>\nMIME-Version: 1.0\nContent-Type: multipart/mixed\n\n"
            b"--nobound\nContent-Type: text/plain; charset=x-unknown-9\nContent-Transfer-Encoding: base64\n\n"
            b"!!!notbase64@@@\n--nobound--\n"
        )
        case = self.env["ecrm.case"].browse(self.process(raw))
        self.assertEqual(case.subject, "Parcel")
        self.assertEqual(case.partner_id.email, "broken.mime@example.com")

    @mute_logger("odoo.addons.mail.models.mail_thread")
    def test_unknown_charset_raises_and_creates_nothing(self):
        raw = (
            "From: a@example.com\nTo: cases@shop.example\nSubject: caf\xe9\nMessage-ID: <charset1@example.com>\n"
            "Content-Type: text/plain; charset=x-bogus\nContent-Transfer-Encoding: 8bit\n\ncaf\xe9"
        ).encode("latin-1")
        before = self.counts()
        with self.assertRaises(LookupError):
            self.process(raw)
        self.assertEqual(self.counts(), before)

    @mute_logger("odoo.addons.mail.models.mail_thread")
    def test_mail_for_no_alias_raises_and_creates_nothing(self):
        raw = b"From: a@example.com\nTo: nobody@elsewhere.example\nSubject: x\nMessage-ID: <noroute1@example.com>\n\nx"
        before = self.counts()
        with self.assertRaisesRegex(ValueError, "No possible route"):
            self.process(raw, model=False)
        self.assertEqual(self.counts(), before)

    def test_huge_mail_with_attachment_is_processed(self):
        body = "Lorem ipsum dolor sit amet. " * 40000  # about 1 MB of text
        blob = base64.encodebytes(b"\x01\x02" * (1024 * 1024)).decode()  # a 2 MB attachment
        raw = (
            "From: Big Sender <big.sender@example.com>\nTo: cases@shop.example\nSubject: Photos\n"
            "Message-ID: <huge1@example.com>\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=BB\n\n"
            f"--BB\nContent-Type: text/plain; charset=utf-8\n\n{body}\n"
            "--BB\nContent-Type: application/octet-stream; name=photos.bin\n"
            "Content-Disposition: attachment; filename=photos.bin\nContent-Transfer-Encoding: base64\n\n"
            f"{blob}\n--BB--\n"
        )
        case = self.env["ecrm.case"].browse(self.process(raw))
        self.assertEqual((case.subject, case.partner_id.email), ("Photos", "big.sender@example.com"))
        self.assertEqual(case.message_ids.attachment_ids.mapped("file_size"), [2 * 1024 * 1024])
        # the description holds the start of the text, the chatter the whole message
        self.assertLess(len(case.description), 120_000)
        self.assertIn("Lorem ipsum dolor sit amet.", case.description)
        self.assertIn("the whole message is in the chatter", case.description)
        self.assertGreater(len(case.message_ids[-1].body), 1_000_000)

    def test_script_in_mail_body_is_sanitised(self):
        raw = (
            b"From: x@example.com\nTo: cases@shop.example\nSubject: Html\nMessage-ID: <html1@example.com>\n"
            b"MIME-Version: 1.0\nContent-Type: text/html; charset=utf-8\n\n"
            b"<p>Hello</p><script>alert(1)</script><img src=x onerror=alert(2)>"
        )
        case = self.env["ecrm.case"].browse(self.process(raw))
        self.assertIn("Hello", case.description)
        for dangerous in ("<script", "onerror"):
            self.assertNotIn(dangerous, case.description)
            self.assertNotIn(dangerous, case.message_ids[-1].body)


@tagged("post_install", "-at_install")
class TestConfigurationInput(EcrmCaseCommon):
    def test_negative_sla_targets_are_refused(self):
        with self.assertRaisesRegex(ValidationError, "cannot be negative"):
            self.env["ecrm.escalation.policy"].create(
                {"name": "Bad", "calendar_id": self.calendar.id, "response_hours": -1}
            )

    def test_policy_filter_that_is_not_a_domain_is_refused(self):
        with self.assertRaisesRegex(ValidationError, "not valid"):
            self.env["ecrm.escalation.policy"].create(
                {"name": "Bad", "calendar_id": self.calendar.id, "domain": "[('no_such_field', '=', 1)]"}
            )

    def test_policy_without_calendar_creates_nothing(self):
        company = self.env["res.company"].create({"name": "No Hours Shop"})
        company.resource_calendar_id = False
        before = self.env["ecrm.escalation.policy"].with_context(active_test=False).search_count([])
        with self.assertRaisesRegex(UserError, "needs working hours"):
            self.env["ecrm.escalation.policy"].create(
                [{"name": "Fine", "calendar_id": self.calendar.id}, {"name": "Bad", "company_id": company.id}]
            )
        self.assertEqual(self.env["ecrm.escalation.policy"].with_context(active_test=False).search_count([]), before)

    def test_webhook_url_must_be_http(self):
        with self.assertRaisesRegex(ValidationError, "http"):
            self.env["ecrm.escalation.level"].create(
                {"name": "Hook", "policy_id": self.policy.id, "webhook_url": "file:///etc/passwd"}
            )

    def test_pressure_limits_must_be_positive(self):
        Rule = self.env["ecrm.pressure.rule"]
        for vals in ({"max_count": 0}, {"max_count": -2}, {"period_days": 0}, {"min_interval_hours": -1}):
            with self.subTest(vals=vals), self.assertRaises(ValidationError):
                Rule.create({"name": "Bad", "max_count": 3, **vals})

    def test_webhook_timeout_is_a_delivery_retried_later(self):
        """A receiver slower than the call's deadline: the level has fired (its
        actions kept), the delivery records a timeout and is tried again later."""
        url = self.serve_webhook(_SlowHook)
        # Odoo's test mode raises every outgoing request's timeout to 10 s; the
        # total deadline is what cuts the call short
        self.patch(webhook, "DEADLINE", 1)
        _SlowHook.delay, _SlowHook.calls = 3, 0
        level = self.env["ecrm.escalation.level"].create(
            {
                "name": "Hook",
                "policy_id": self.policy.id,
                "webhook_url": url,
                "notify_user_ids": [(6, 0, self.manager.ids)],
            }
        )
        with freeze_time("2026-11-20 16:00"):
            case = self.new_case()
        with freeze_time("2026-11-23 12:00"):
            self.env["ecrm.case"]._cron_ecrm_escalate()
            # the receiver answers within the 10 s timeout: only the deadline stops the call
            self.env["ecrm.webhook.delivery"]._cron_ecrm_send_webhooks()
        log = case.escalation_ids
        self.assertEqual((log.level_id, log.state), (level, "done"))
        self.assertTrue(case.message_ids.filtered(lambda m: "fired" in (m.body or "")), "actions kept")
        delivery = self.env["ecrm.webhook.delivery"].search([("case_id", "=", case.id)])
        self.assertEqual((delivery.state, delivery.attempts, delivery.last_error), ("queued", 1, "timeout"))
        _SlowHook.delay = 0
        with freeze_time("2026-11-23 12:05"):
            self.env["ecrm.webhook.delivery"]._cron_ecrm_send_webhooks()
        self.assertEqual((delivery.state, delivery.attempts), ("sent", 2))
        self.assertEqual(_SlowHook.calls, 2)


@tagged("post_install", "-at_install")
class TestHttpInput(HttpCase):
    URL = "/ecrm/api/v1/cases"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        agent = new_test_user(cls.env, login="rel_input_agent", groups="ecrm_addon.group_ecrm_user")
        expiration = fields.Datetime.now() + timedelta(days=1)
        cls.key = cls.env["res.users.apikeys"].with_user(agent)._generate(None, "test", expiration)
        cls.jane = new_test_user(
            cls.env, login="rel_input_jane", password="rel_input_jane1", groups="base.group_portal"
        )

    def counts(self):
        return self.env["ecrm.case"].search_count([]), self.env["res.partner"].search_count([])

    def post(self, data, content_type="application/json"):
        headers = {"Content-Type": content_type, "Authorization": f"Bearer {self.key}"}
        return self.url_open(self.URL, data=data, headers=headers)

    def test_bodies_that_are_not_a_json_object_are_400_and_create_nothing(self):
        before = self.counts()
        for raw in (b"[1, 2]", b'"text"', b"\xff\xfe\x00", b" ", b"null"):
            with self.subTest(raw=raw):
                response = self.post(raw)
                self.assertEqual(response.status_code, 400, response.text)
                self.assertIn("body", response.json()["fields"])
        self.assertEqual(self.counts(), before)

    def test_invalid_email_and_phone_are_400_and_create_nothing(self):
        before = self.counts()
        for payload, field in (
            ({"subject": "s", "email": "not an email"}, "email"),
            ({"subject": "s", "email": "a@"}, "email"),
            ({"subject": "s", "phone": "call me maybe"}, "phone"),
            ({"subject": "s", "phone": "1"}, "phone"),
        ):
            with self.subTest(payload=payload):
                response = self.post(json.dumps(payload))
                self.assertEqual(response.status_code, 400, response.text)
                self.assertIn(field, response.json()["fields"])
        self.assertEqual(self.counts(), before)

    def test_oversized_payload_is_413_and_creates_nothing(self):
        before = self.counts()
        body = json.dumps({"subject": "Big", "email": "big.api@example.com", "description": "a" * (1024 * 1024)})
        response = self.post(body)
        self.assertEqual(response.status_code, 413)
        self.assertEqual(response.json()["error"], "payload too large")
        self.assertEqual(self.counts(), before)

    def test_chunked_body_over_the_limit_is_413_without_waiting_for_the_rest(self):
        """A chunked body has no length to check: the API reads one byte past
        the limit and answers, it neither reads nor waits for the rest."""
        before = self.counts()
        base = urlsplit(self.base_url())
        connection = http.client.HTTPConnection(base.hostname, base.port, timeout=20)
        self.addCleanup(connection.close)
        connection.putrequest("POST", self.URL)
        for header, value in (
            ("Authorization", f"Bearer {self.key}"),
            ("Content-Type", "application/json"),
            ("Transfer-Encoding", "chunked"),
            ("Cookie", f"{TEST_CURSOR_COOKIE_NAME}={self.opener.cookies.get(TEST_CURSOR_COOKIE_NAME, '')}"),
        ):
            connection.putheader(header, value)
        connection.endheaders()
        chunk = b" " * (1024 * 1024 + 1)
        # one chunk over the limit, and no last chunk: the body never ends
        connection.send(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        response = connection.getresponse()
        self.assertEqual(response.status, 413)
        self.assertEqual(json.loads(response.read())["error"], "payload too large")
        self.assertEqual(self.counts(), before)

    def test_api_description_loses_script_and_event_handlers(self):
        response = self.post(
            json.dumps(
                {
                    "subject": "<b>Subject</b>",
                    "email": "html.api@example.com",
                    "description": '<p onclick="steal()">ok</p><img src=x onerror=alert(1)><script>x()</script>'
                    '<a href="javascript:alert(1)">link</a>',
                }
            )
        )
        self.assertEqual(response.status_code, 201, response.text)
        case = self.env["ecrm.case"].browse(response.json()["id"])
        for dangerous in ("<script", "onerror", "onclick", "javascript:"):
            self.assertNotIn(dangerous, case.description)
        self.assertIn("ok", case.description)

    def test_portal_subject_and_description_are_escaped(self):
        self.authenticate("rel_input_jane", "rel_input_jane1")
        page = self.url_open("/my/cases/new")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
        self.url_open(
            "/my/cases/new",
            data={
                "csrf_token": token,
                "subject": "<script>alert('subject')</script>",
                "description": "<img src=x onerror=alert(1)>",
            },
        )
        case = self.env["ecrm.case"].search([("partner_id", "=", self.jane.partner_id.id)])
        self.assertEqual(len(case), 1)
        self.assertNotIn("<img", case.description)
        listing = self.url_open("/my/cases").text
        detail = self.url_open(f"/my/cases/{case.id}").text
        for html in (listing, detail):
            self.assertNotIn("<script>alert('subject')</script>", html)
            self.assertNotIn("<img src=x onerror", html)

    def test_portal_case_without_subject_creates_nothing(self):
        self.authenticate("rel_input_jane", "rel_input_jane1")
        page = self.url_open("/my/cases/new")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
        before = self.counts()
        response = self.url_open("/my/cases/new", data={"csrf_token": token, "subject": "   "}, allow_redirects=False)
        self.assertIn("error=subject", response.headers.get("Location", ""))
        self.assertEqual(self.counts(), before)
