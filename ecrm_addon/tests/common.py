# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import ipaddress
import threading
from datetime import datetime
from http.server import ThreadingHTTPServer

from odoo import Command
from odoo.tests import TransactionCase, new_test_user

from ..tools import webhook

LOOPBACK = (ipaddress.ip_network("127.0.0.0/8"),)


def allow_loopback_webhooks(test):
    """Let webhooks reach a test's receiver on loopback (refused otherwise)
    until ``test`` ends: the test-only allow-list of tools/webhook.py."""
    test.patch(webhook, "TEST_ALLOWED_NETWORKS", LOOPBACK)


class EcrmCaseCommon(TransactionCase):
    """A 9-17 Monday-Friday calendar (UTC), a default SLA policy and users."""

    def serve_webhook(self, handler):
        """A local HTTP server on loopback answering with ``handler``, stopped
        when the test ends, which webhooks may reach meanwhile; returns its URL."""
        allow_loopback_webhooks(self)
        server = ThreadingHTTPServer(("127.0.0.1", 0), handler)  # a slow answer does not hold the next
        server.daemon_threads = True
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        self.addCleanup(thread.join)
        self.addCleanup(server.server_close)
        self.addCleanup(server.shutdown)
        return f"http://127.0.0.1:{server.server_port}/hook"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=False, mail_notrack=True))
        cls.company = cls.env.company
        cls.calendar = cls.env["resource.calendar"].create(
            {
                "name": "Shop 9-17",
                "tz": "UTC",
                "company_id": cls.company.id,
                "attendance_ids": [
                    Command.create(
                        {
                            "name": f"Day {day}",
                            "dayofweek": str(day),
                            "hour_from": 9,
                            "hour_to": 17,
                            "day_period": "morning",
                        }
                    )
                    for day in range(5)
                ],
            }
        )
        # Shipped data or other features may have policies: start from none,
        # and with no case of the database (demo shop) under one.
        cls.env["ecrm.escalation.policy"].search([]).active = False
        cls.env["ecrm.case"].search([("policy_id", "!=", False)]).policy_id = False
        cls.policy = cls.env["ecrm.escalation.policy"].create(
            {
                "name": "Default",
                "sequence": 50,
                "calendar_id": cls.calendar.id,
                "response_hours": 4,
                "resolution_hours": 16,
            }
        )
        cls.agent = new_test_user(
            cls.env, login="ecrm_case_agent", groups="ecrm_addon.group_ecrm_user", email="agent@shop.example"
        )
        cls.manager = new_test_user(
            cls.env, login="ecrm_case_manager", groups="ecrm_addon.group_ecrm_manager", email="boss@shop.example"
        )
        cls.customer = cls.env["res.partner"].create({"name": "Jane Doe", "email": "Jane.Doe@Example.com"})
        cls.stage_new = cls.env.ref("ecrm_addon.ecrm_case_stage_new")
        cls.stage_progress = cls.env.ref("ecrm_addon.ecrm_case_stage_in_progress")
        cls.stage_waiting = cls.env.ref("ecrm_addon.ecrm_case_stage_waiting")
        cls.stage_solved = cls.env.ref("ecrm_addon.ecrm_case_stage_solved")

    @staticmethod
    def dt(text):
        return datetime.strptime(text, "%Y-%m-%d %H:%M")

    def new_case(self, **vals):
        return self.env["ecrm.case"].create({"subject": "Parcel missing", "partner_id": self.customer.id, **vals})
