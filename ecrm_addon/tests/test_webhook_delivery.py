# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import hashlib
import hmac
import json
import logging
import socket
from http.server import BaseHTTPRequestHandler

from freezegun import freeze_time

from odoo.exceptions import AccessError
from odoo.tests import new_test_user, tagged

from ..tools import webhook
from .common import EcrmCaseCommon


class _Receiver(BaseHTTPRequestHandler):
    """Records each request (path, headers, body); answers the queued statuses
    (200 when none), a 3xx pointing back at itself."""

    statuses = []
    requests = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        type(self).requests.append((self.path, dict(self.headers), body))
        status = type(self).statuses.pop(0) if type(self).statuses else 200
        self.send_response(status)
        if 300 <= status < 400:
            self.send_header("Location", f"http://127.0.0.1:{self.server.server_port}/elsewhere")
        self.end_headers()

    def log_message(self, *args):
        pass


@tagged("post_install", "-at_install")
class TestWebhookDelivery(EcrmCaseCommon):
    """Escalation webhooks: queued in the escalation's transaction, sent by
    their own cron (signed, to public addresses only, no redirects), retried
    with a growing delay; URL and secret for Settings administrators only."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.level = cls.env["ecrm.escalation.level"].create(
            {"name": "Hook", "sequence": 1, "policy_id": cls.policy.id, "delay_hours": 0}
        )
        cls.admin = new_test_user(
            cls.env, login="ecrm_hook_admin", groups="base.group_system,ecrm_addon.group_ecrm_manager"
        )

    def setUp(self):
        super().setUp()
        _Receiver.statuses[:] = []
        _Receiver.requests[:] = []

    def due_case(self, url):
        """A case whose level (calling ``url``) fired at 2026-11-23 12:00."""
        self.level.webhook_url = url
        with freeze_time("2026-11-20 16:00"):
            case = self.new_case()
        with freeze_time("2026-11-23 12:00"):
            self.env["ecrm.case"]._cron_ecrm_escalate()
        return case, self.env["ecrm.webhook.delivery"].search([("case_id", "=", case.id)])

    def send(self, when="2026-11-23 12:00"):
        with freeze_time(when):
            return self.env["ecrm.webhook.delivery"]._cron_ecrm_send_webhooks()

    # --- outbox -----------------------------------------------------------------

    def test_escalation_queues_the_call_and_wakes_the_send_cron(self):
        url = self.serve_webhook(_Receiver)
        cron = self.env.ref("ecrm_addon.ir_cron_ecrm_send_webhooks")
        triggers = self.env["ir.cron.trigger"].search_count([("cron_id", "=", cron.id)])
        case, delivery = self.due_case(url)
        self.assertEqual(_Receiver.requests, [], "nothing is sent inside the escalation batch")
        self.assertEqual(
            (delivery.state, delivery.level_id, delivery.company_id), ("queued", self.level, case.company_id)
        )
        self.assertEqual(json.loads(delivery.payload)["case"]["reference"], case.name)
        self.assertEqual(self.env["ir.cron.trigger"].search_count([("cron_id", "=", cron.id)]), triggers + 1)
        self.assertNotIn(url, json.dumps(delivery.read()[0], default=str), "the outbox does not keep the URL")

    def test_sent_call_is_signed_with_the_level_secret(self):
        url = self.serve_webhook(_Receiver)
        case, delivery = self.due_case(url)
        self.assertEqual(self.send(), 1)
        self.assertEqual((delivery.state, delivery.attempts, delivery.last_status_code), ("sent", 1, 200))
        [(path, headers, body)] = _Receiver.requests
        self.assertEqual(path, "/hook")
        self.assertEqual(body, delivery.payload.encode())
        # what a receiver does: HMAC-SHA256 of the raw body with the shared secret
        secret = self.level.webhook_secret.encode()
        expected = "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()
        self.assertTrue(hmac.compare_digest(headers["X-Ecrm-Signature"], expected))
        self.assertEqual(headers["Idempotency-Key"], f"ecrm-case-{case.id}-level-{self.level.id}")

    def test_failures_are_retried_with_a_growing_delay_then_given_up(self):
        url = self.serve_webhook(_Receiver)
        _Receiver.statuses[:] = [503] * 20
        _case, delivery = self.due_case(url)
        when = delivery.next_attempt
        waits = []
        with self.assertLogs("odoo.addons.ecrm_addon.models.ecrm_webhook_delivery", logging.INFO) as logs:
            while delivery.state == "queued":
                self.send(when)
                waits.append(int((delivery.next_attempt - when).total_seconds() // 60))
                when = delivery.next_attempt
        self.assertEqual((delivery.state, delivery.attempts, delivery.last_error), ("failed", 8, "http_status"))
        self.assertEqual(waits, [2, 4, 8, 16, 32, 64, 128, 0])
        self.assertEqual(len(_Receiver.requests), 8)
        self.assertTrue(all("503" in line for line in logs.output))
        self.assertIn("given up", logs.output[-1])
        self.assertFalse([line for line in logs.output if url in line or "127.0.0.1" in line], "no URL in the log")

    def test_failed_delivery_is_sent_again_by_an_administrator(self):
        url = self.serve_webhook(_Receiver)
        _Receiver.statuses[:] = [302]
        _case, delivery = self.due_case(url)
        self.send()
        self.assertEqual((delivery.state, delivery.last_error, delivery.last_status_code), ("failed", "redirect", 302))
        self.assertEqual([path for path, _headers, _body in _Receiver.requests], ["/hook"], "redirect not followed")
        with self.assertRaises(AccessError):
            delivery.with_user(self.manager).action_retry()
        with freeze_time("2026-11-23 12:10"):
            delivery.with_user(self.admin).action_retry()
        self.assertEqual((delivery.state, delivery.attempts), ("queued", 0))
        self.send("2026-11-23 12:10")
        self.assertEqual(delivery.state, "sent")

    def test_non_public_receivers_are_refused(self):
        """Without the tests' loopback allow-list, as in production."""
        real = socket.getaddrinfo

        def getaddrinfo(host, port, *args, **kwargs):
            if host == "hooks.shop.example":
                return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port))]
            return real(host, port, *args, **kwargs)

        self.patch(socket, "getaddrinfo", getaddrinfo)
        urls = [
            "http://127.0.0.1:8069/hook",
            "http://10.0.0.8/hook",
            "http://169.254.169.254/latest/meta-data/",
            "http://192.168.1.20/hook",
            "http://[::1]:8069/hook",
            "https://hooks.shop.example/hook",
        ]
        for minute, url in enumerate(urls):
            with self.subTest(url=url):
                self.level.webhook_url = url
                with freeze_time(f"2026-11-20 16:{minute:02}"):
                    case = self.new_case()
                with freeze_time("2026-11-23 13:00"):
                    self.env["ecrm.case"]._cron_ecrm_escalate()
                delivery = self.env["ecrm.webhook.delivery"].search([("case_id", "=", case.id)])
                self.send("2026-11-23 13:00")
                self.assertEqual(
                    (delivery.state, delivery.last_error, delivery.attempts), ("failed", "refused_address", 1)
                )

    def test_level_without_url_any_more_gives_up(self):
        url = self.serve_webhook(_Receiver)
        _case, delivery = self.due_case(url)
        self.level.webhook_url = False
        self.send()
        self.assertEqual((delivery.state, delivery.last_error), ("failed", "no_url"))
        self.assertEqual(_Receiver.requests, [])

    def test_slow_receiver_does_not_hold_the_escalation(self):
        """The escalation batch makes no call at all: with a receiver that
        never answers, the level fires and the case is not locked by a call."""
        with socket.socket() as listener:  # accepts connections, never answers
            listener.bind(("127.0.0.1", 0))
            listener.listen()
            self.serve_webhook(_Receiver)  # allow loopback
            case, delivery = self.due_case(f"http://127.0.0.1:{listener.getsockname()[1]}/hook")
            self.assertEqual((case.escalation_ids.state, delivery.state), ("done", "queued"))
            self.patch(webhook, "DEADLINE", 0.5)
            self.send()
        self.assertEqual((delivery.state, delivery.last_error), ("queued", "timeout"))

    # --- access -----------------------------------------------------------------

    def test_url_and_secret_are_for_settings_administrators_only(self):
        self.level.webhook_url = "https://hooks.example.com/t0ken"
        for user in (self.agent, self.manager):
            level = self.level.with_user(user)
            with self.subTest(user=user.login):
                self.assertNotIn("webhook_url", level.fields_get())
                self.assertNotIn("webhook_secret", level.fields_get())
                with self.assertRaises(AccessError):
                    level.read(["webhook_url"])
                with self.assertRaises(AccessError):
                    level.read(["webhook_secret"])
                self.assertNotIn("webhook_url", level.read()[0])
                with self.assertRaises(AccessError):
                    level.search([("webhook_url", "!=", False)])
        level = self.level.with_user(self.manager)
        with self.assertRaises(AccessError):
            level.write({"webhook_url": "https://evil.example.com/"})
        with self.assertRaises(AccessError):
            level.action_ecrm_new_webhook_secret()
        with self.assertRaises(AccessError):
            level.create({"name": "Mine", "policy_id": self.policy.id, "webhook_url": "https://evil.example.com/"})
        copy = level.copy()
        self.assertFalse(copy.sudo().webhook_url, "a copy does not carry the URL")
        form = self.env["ecrm.escalation.level"].with_user(self.manager).get_views([(False, "form")])
        self.assertNotIn("webhook", form["views"]["form"]["arch"])
        admin_level = self.level.with_user(self.admin)
        self.assertEqual(admin_level.webhook_url, "https://hooks.example.com/t0ken")
        old = admin_level.webhook_secret
        admin_level.action_ecrm_new_webhook_secret()
        self.assertNotEqual(admin_level.webhook_secret, old)

    def test_each_level_gets_its_own_secret(self):
        levels = self.env["ecrm.escalation.level"].create(
            [{"name": f"L{n}", "policy_id": self.policy.id} for n in range(3)]
        )
        secrets = levels.mapped("webhook_secret")
        self.assertEqual(len(set(secrets)), 3)
        self.assertTrue(all(len(secret) == 64 for secret in secrets))

    def test_deliveries_are_read_only_for_managers_and_hidden_from_agents(self):
        url = self.serve_webhook(_Receiver)
        _case, delivery = self.due_case(url)
        self.assertEqual(delivery.with_user(self.manager).state, "queued")
        with self.assertRaises(AccessError):
            delivery.with_user(self.manager).write({"state": "sent"})
        with self.assertRaises(AccessError):
            delivery.with_user(self.manager).unlink()
        with self.assertRaises(AccessError):
            self.env["ecrm.webhook.delivery"].with_user(self.agent).search([])

    def test_deliveries_of_another_company_are_not_visible(self):
        url = self.serve_webhook(_Receiver)
        _case, delivery = self.due_case(url)
        other = self.env["res.company"].create({"name": "Other Shop"})
        stranger = new_test_user(
            self.env,
            login="ecrm_hook_other",
            groups="ecrm_addon.group_ecrm_manager",
            company_id=other.id,
            company_ids=[(6, 0, other.ids)],
        )
        Delivery = self.env["ecrm.webhook.delivery"]
        self.assertIn(delivery, Delivery.with_user(self.manager).search([]))
        self.assertNotIn(delivery, Delivery.with_user(stranger).search([]))
