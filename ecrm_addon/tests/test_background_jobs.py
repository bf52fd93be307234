# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import json
from datetime import timedelta

from freezegun import freeze_time

from odoo import fields
from odoo.exceptions import AccessError
from odoo.tests import TransactionCase, new_test_user, tagged


@tagged("post_install", "-at_install")
class TestBackgroundJobs(TransactionCase):
    """RFM refresh and duplicate scan asked for from the UI run as cron
    triggers, report progress and tell the requester when they are done."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.manager = new_test_user(cls.env, login="ecrm_job_manager", groups="ecrm_addon.group_ecrm_manager")
        cls.user = new_test_user(cls.env, login="ecrm_job_user", groups="ecrm_addon.group_ecrm_user")
        cls.rfm_cron = cls.env.ref("ecrm_addon.ecrm_rfm_cron")
        cls.scan_cron = cls.env.ref("ecrm_addon.ecrm_duplicate_group_cron_scan")
        cls.Request = cls.env["ecrm.job.request"]
        cls.env["res.partner"].create(
            [
                {"name": "Twin One", "email": "twin.job@shop.example"},
                {"name": "Twin Two", "email": "Twin.Job@Shop.example"},
            ]
        )

    def _triggers(self, cron):
        return self.env["ir.cron.trigger"].search_count([("cron_id", "=", cron.id)])

    def _notifications(self, user, since_id):
        """simple_notification messages the bus holds for ``user`` (sent at commit)."""
        self.env.cr.precommit.run()
        channel = json.dumps([self.env.cr.dbname, "res.partner", user.partner_id.id], separators=(",", ":"))
        messages = self.env["bus.bus"].sudo().search([("id", ">", since_id), ("channel", "=", channel)])
        return [
            json.loads(m.message)["payload"] for m in messages if json.loads(m.message)["type"] == "simple_notification"
        ]

    def _last_bus_id(self):
        return self.env["bus.bus"].sudo().search([], limit=1, order="id desc").id or 0

    def test_recompute_button_triggers_the_cron_and_returns_at_once(self):
        before = self._triggers(self.rfm_cron)
        scores_before = self.env["ecrm.rfm.score"].search_count([])
        action = self.env["ecrm.rfm.segment"].with_user(self.manager).action_ecrm_compute_rfm()
        self.assertEqual((action["type"], action["tag"]), ("ir.actions.client", "display_notification"))
        self.assertEqual(self._triggers(self.rfm_cron), before + 1)
        self.assertEqual(self.env["ecrm.rfm.score"].search_count([]), scores_before)  # nothing computed yet
        request = self.Request.search([("user_id", "=", self.manager.id)])
        self.assertEqual((request.job, request.state), ("rfm", "queued"))

    def test_scan_button_triggers_the_cron_and_returns_at_once(self):
        before = self._triggers(self.scan_cron)
        action = self.env["ecrm.duplicate.group"].with_user(self.manager).action_scan()
        self.assertEqual(action["tag"], "display_notification")
        self.assertEqual(self._triggers(self.scan_cron), before + 1)
        self.assertFalse(self.env["ecrm.duplicate.group"].search([("key", "=", "twin.job@shop.example")]))
        self.assertEqual(self.Request.search([("user_id", "=", self.manager.id)]).job, "duplicates")

    def test_clicking_twice_queues_one_request(self):
        Segment = self.env["ecrm.rfm.segment"].with_user(self.manager)
        Segment.action_ecrm_compute_rfm()
        Segment.action_ecrm_compute_rfm()
        self.assertEqual(self.Request.search_count([("user_id", "=", self.manager.id), ("state", "=", "queued")]), 1)

    def test_user_cannot_start_the_scan(self):
        with self.assertRaises(AccessError):
            self.env["ecrm.duplicate.group"].with_user(self.user).action_scan()
        with self.assertRaises(AccessError):
            self.env["ecrm.dashboard"].with_user(self.user).browse(
                self.env.ref("ecrm_addon.ecrm_dashboard_rfm").id
            ).action_ecrm_compute_rfm()

    def test_user_cannot_read_job_requests(self):
        with self.assertRaises(AccessError):
            self.Request.with_user(self.user).search([])

    def test_rfm_cron_record_runs_the_score_cron(self):
        self.assertEqual(self.rfm_cron.model_id.model, "ecrm.rfm.score")
        self.env["ecrm.rfm.segment"].with_user(self.manager).action_ecrm_compute_rfm()
        self.rfm_cron.method_direct_trigger()
        self.assertEqual(self.Request.search([("user_id", "=", self.manager.id)]).state, "done")

    def test_rfm_cron_notifies_the_requester_when_done(self):
        self.env["ecrm.rfm.segment"].with_user(self.manager).action_ecrm_compute_rfm()
        since = self._last_bus_id()
        self.env["ecrm.rfm.score"]._cron_ecrm_compute_rfm()
        request = self.Request.search([("user_id", "=", self.manager.id)])
        self.assertEqual(request.state, "done")
        self.assertTrue(request.date_done)
        notifications = self._notifications(self.manager, since)
        self.assertEqual(len(notifications), 1)
        self.assertEqual(notifications[0]["type"], "success")
        self.assertEqual(notifications[0]["title"], "RFM refresh")
        self.assertFalse(self._notifications(self.user, since))

    def test_duplicate_cron_notifies_the_requester_with_the_groups_to_review(self):
        self.env["ecrm.duplicate.group"].with_user(self.manager).action_scan()
        since = self._last_bus_id()
        self.env["ecrm.duplicate.group"]._cron_ecrm_scan_duplicates()
        self.assertTrue(self.env["ecrm.duplicate.group"].search([("key", "=", "twin.job@shop.example")]))
        to_review = self.env["ecrm.duplicate.group"].with_user(self.manager).search_count([("state", "=", "open")])
        notifications = self._notifications(self.manager, since)
        self.assertEqual(len(notifications), 1)
        self.assertIn(f"{to_review} groups to review", notifications[0]["message"])
        self.assertEqual(self.Request.search([("user_id", "=", self.manager.id)]).state, "done")

    def test_rfm_cron_reports_progress_per_company(self):
        cron, progress = self.rfm_cron._add_progress()
        self.env["ecrm.rfm.score"].with_context(ir_cron_progress_id=progress.id)._cron_ecrm_compute_rfm()
        companies = self.env["res.company"].search_count([])
        self.assertEqual((progress.done, progress.remaining), (companies, 0))

    def test_status_shows_queued_running_then_last_run(self):
        Request = self.Request.with_user(self.manager)
        self.assertEqual(Request._ecrm_status("duplicates"), "Never run")
        self.env["ecrm.duplicate.group"].with_user(self.manager).action_scan()
        self.assertTrue(Request._ecrm_status("duplicates").startswith("Queued"))
        self.Request._ecrm_start("duplicates")
        self.assertEqual(Request._ecrm_status("duplicates"), "Running")
        self.env["ecrm.duplicate.group"]._cron_ecrm_scan_duplicates()
        self.assertTrue(Request._ecrm_status("duplicates").startswith("Last run: "))

    def test_run_that_never_finished_shows_interrupted_and_is_served_next_time(self):
        self.env["ecrm.rfm.segment"].with_user(self.manager).action_ecrm_compute_rfm()
        with freeze_time("2026-11-23 02:00"):
            requests = self.Request._ecrm_start("rfm")  # the cron started, then its worker died
        Request = self.Request.with_user(self.manager)
        with freeze_time("2026-11-23 07:59"):
            self.assertTrue(Request._ecrm_status("rfm").startswith("Running"), Request._ecrm_status("rfm"))
        with freeze_time("2026-11-23 08:01"):
            status = Request._ecrm_status("rfm")
            self.assertTrue(status.startswith("Interrupted (started "), status)
            self.env["ecrm.rfm.score"]._cron_ecrm_compute_rfm()
        self.assertEqual(requests.state, "done")
        self.assertTrue(Request._ecrm_status("rfm").startswith("Last run: "))

    def test_rfm_computed_outside_the_cron_shows_its_last_run(self):
        self.rfm_cron.lastcall = False
        self.Request.search([("job", "=", "rfm")]).unlink()
        self.env["res.company"].search([]).write({"ecrm_rfm_scored_date": False})
        Request = self.Request.with_user(self.manager)
        self.assertEqual(Request._ecrm_status("rfm"), "Never run")
        self.env["res.partner"]._ecrm_compute_rfm()  # as the demo data does on installation
        self.assertTrue(Request._ecrm_status("rfm").startswith("Last run: "))

    def test_request_during_a_run_says_it_runs_after_it(self):
        other = new_test_user(self.env, login="ecrm_job_manager_2", groups="ecrm_addon.group_ecrm_manager")
        self.env["ecrm.duplicate.group"].with_user(other).action_scan()
        self.Request._ecrm_start("duplicates")
        action = self.env["ecrm.duplicate.group"].with_user(self.manager).action_scan()
        self.assertTrue(action["params"]["message"].startswith("Running. Your request runs right after it"))
        self.assertEqual(self.Request.search([("user_id", "=", self.manager.id)]).state, "queued")

    def test_served_requests_are_cleaned_after_30_days(self):
        now = fields.Datetime.now()
        old, recent = self.Request.create(
            [
                {"job": "rfm", "user_id": self.manager.id, "state": "done", "date_done": now - timedelta(days=31)},
                {"job": "rfm", "user_id": self.manager.id, "state": "done", "date_done": now - timedelta(days=2)},
            ]
        )
        self.Request._gc_done_requests()
        self.assertEqual((old.exists(), recent.exists()), (self.Request, recent))
