# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import json

from odoo.exceptions import AccessError
from odoo.tests import HttpCase, new_test_user, tagged
from odoo.tools import mute_logger

from .common import EcrmCaseCommon


@tagged("post_install", "-at_install")
class TestCaseSystemFields(EcrmCaseCommon):
    """The SLA stamps, the escalation state and the API key are the system's."""

    def test_agent_cannot_write_system_fields(self):
        case = self.new_case()
        values = {
            "first_response_date": "2026-01-01 10:00:00",
            "response_deadline": "2030-01-01 10:00:00",
            "resolution_deadline": "2030-01-01 10:00:00",
            "escalation_level": 0,
            "api_request_key": f"{self.agent.id}:mine",
        }
        Case = self.env["ecrm.case"].with_user(self.agent)
        for field, value in values.items():
            with self.subTest(field=field), self.assertRaises(AccessError), self.cr.savepoint():
                case.with_user(self.agent).write({field: value})
            # on a new case: the stamps, or another user's idempotency key
            new_value = f"{self.manager.id}:theirs" if field == "api_request_key" else value
            with self.subTest(field=field), self.assertRaises(AccessError), self.cr.savepoint():
                Case.create({"subject": "Fake", "partner_id": self.customer.id, field: new_value})

    def test_api_user_claims_only_their_own_request_keys(self):
        key = f"{self.agent.id}:k"
        case = (
            self.env["ecrm.case"]
            .with_user(self.agent)
            .create({"subject": "From the API", "partner_id": self.customer.id, "api_request_key": key})
        )
        self.assertEqual(case.sudo().api_request_key, key)

    def test_agent_still_moves_the_clock_through_stages(self):
        case = self.new_case().with_user(self.agent)
        case.stage_id = self.stage_waiting
        self.assertTrue(case.ecrm_paused_since)
        case.stage_id = self.stage_progress
        self.assertFalse(case.ecrm_paused_since)


@tagged("post_install", "-at_install")
class TestPortalCaseFields(HttpCase):
    """Portal customers read their cases' subject, stage and messages, not the
    SLA, team or API key."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.portal = new_test_user(
            cls.env, login="rights_portal_rpc", password="rights_portal_rpc1", groups="base.group_portal"
        )
        cls.case = cls.env["ecrm.case"].create(
            {"subject": "My parcel", "partner_id": cls.portal.partner_id.id, "api_request_key": "1:secret"}
        )

    def call_kw(self, model, method, args, kwargs=None):
        response = self.url_open(
            f"/web/dataset/call_kw/{model}/{method}",
            data=json.dumps(
                {
                    "jsonrpc": "2.0",
                    "method": "call",
                    "id": 1,
                    "params": {"model": model, "method": method, "args": args, "kwargs": kwargs or {}},
                }
            ),
            headers={"Content-Type": "application/json"},
        )
        return response.json()

    def test_portal_user_does_not_read_internal_case_fields(self):
        internal = ["api_request_key", "policy_id", "response_deadline", "resolution_deadline", "team_id"]
        for field in internal:
            with self.subTest(field=field), self.assertRaises(AccessError):
                self.case.with_user(self.portal).read([field])
        self.assertEqual(self.case.with_user(self.portal).read(["subject"])[0]["subject"], "My parcel")

    @mute_logger("odoo.http")
    def test_portal_rpc_search_read_leaves_internal_fields_out(self):
        self.authenticate("rights_portal_rpc", "rights_portal_rpc1")
        body = self.call_kw("ecrm.case", "search_read", [[("id", "=", self.case.id)]], {"fields": []})
        [row] = body["result"]
        self.assertEqual(row["subject"], "My parcel")
        self.assertFalse({"api_request_key", "policy_id", "response_deadline", "team_id"} & row.keys())
        self.assertIn("error", self.call_kw("ecrm.case", "read", [[self.case.id], ["api_request_key"]]))
        page = self.url_open(f"/my/cases/{self.case.id}")
        self.assertEqual(page.status_code, 200)
        self.assertIn("My parcel", page.text)
