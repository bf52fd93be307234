# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import json
from http.server import BaseHTTPRequestHandler
from unittest.mock import patch

from freezegun import freeze_time

from odoo import Command
from odoo.tests import tagged

from ..models.ecrm_escalation_level import EcrmEscalationLevel
from .common import EcrmCaseCommon


class _Hook(BaseHTTPRequestHandler):
    """Local webhook receiver: answers the queued statuses, records the bodies."""

    statuses = []
    bodies = []
    keys = []

    def do_POST(self):
        length = int(self.headers.get("Content-Length", 0))
        type(self).bodies.append(json.loads(self.rfile.read(length)))
        type(self).keys.append(self.headers.get("Idempotency-Key"))
        status = type(self).statuses.pop(0) if type(self).statuses else 200
        self.send_response(status)
        self.end_headers()

    def log_message(self, *args):
        pass


@tagged("post_install", "-at_install")
class TestCaseEscalation(EcrmCaseCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.watcher = cls.manager
        cls.level_warn = cls.env["ecrm.escalation.level"].create(
            {
                "name": "Warning",
                "sequence": 1,
                "policy_id": cls.policy.id,
                "watch": "response",
                "delay_hours": -1,
                "notify_user_ids": [cls.watcher.id],
            }
        )
        cls.level_late = cls.env["ecrm.escalation.level"].create(
            {
                "name": "Late",
                "sequence": 2,
                "policy_id": cls.policy.id,
                "watch": "response",
                "delay_hours": 0,
                "notify_assignee": True,
                "raise_priority": True,
                "reassign_user_id": cls.manager.id,
            }
        )

    def escalate(self, when):
        with freeze_time(when):
            return self.env["ecrm.case"]._cron_ecrm_escalate()

    def todo_count(self, case, user):
        return self.env["mail.activity"].search_count(
            [("res_model", "=", "ecrm.case"), ("res_id", "=", case.id), ("user_id", "=", user.id)]
        )

    def test_next_escalation_is_first_due_level(self):
        with freeze_time("2026-11-20 16:00"):
            case = self.new_case()
        # response due Monday 12:00; the warning one working hour before
        self.assertEqual(case.next_escalation_at, self.dt("2026-11-23 11:00"))

    def test_nothing_fires_before_due(self):
        with freeze_time("2026-11-20 16:00"):
            case = self.new_case()
        self.escalate("2026-11-23 10:59")
        self.assertFalse(case.escalation_ids)

    def test_each_level_fires_once_across_runs(self):
        with freeze_time("2026-11-20 16:00"):
            case = self.new_case(user_id=self.agent.id)
        self.escalate("2026-11-23 11:00")
        self.assertEqual(case.escalation_ids.level_id, self.level_warn)
        self.assertEqual(case.escalation_level, 1)
        self.assertEqual(case.next_escalation_at, self.dt("2026-11-23 12:00"))
        self.escalate("2026-11-23 12:00")
        self.escalate("2026-11-23 12:05")
        self.assertEqual(len(case.escalation_ids), 2)
        self.assertEqual(case.escalation_level, 2)
        self.assertEqual(self.todo_count(case, self.watcher), 1)
        self.assertEqual(self.todo_count(case, self.agent), 1)
        self.assertEqual(case.user_id, self.manager)
        self.assertEqual(case.priority, "2")
        self.assertFalse(case.next_escalation_at)
        logged = case.message_ids.filtered(lambda m: "fired" in (m.body or ""))
        self.assertEqual(len(logged), 2)

    def test_subject_in_the_to_do_note_is_text_not_html(self):
        with freeze_time("2026-11-20 16:00"):
            case = self.new_case(subject="<b>Broken</b> <img src=x onerror=alert(1)>")
        self.escalate("2026-11-23 11:00")
        activity = self.env["mail.activity"].search([("res_model", "=", "ecrm.case"), ("res_id", "=", case.id)])
        self.assertEqual(len(activity), 1)
        self.assertNotIn("<b>", activity.note)
        self.assertNotIn("<img", activity.note)
        self.assertIn("&lt;b&gt;Broken&lt;/b&gt;", activity.note)

    def test_late_run_fires_every_due_level_once(self):
        with freeze_time("2026-11-20 16:00"):
            case = self.new_case()
        self.escalate("2026-11-25 09:00")
        self.assertEqual(case.escalation_ids.level_id, self.level_warn | self.level_late)

    def test_row_of_another_worker_prevents_second_fire(self):
        with freeze_time("2026-11-20 16:00"):
            case = self.new_case()
        # another worker fired the warning and committed after this one computed the due list
        self.env["ecrm.case.escalation"].create({"case_id": case.id, "level_id": self.level_warn.id, "rank": 1})
        case.invalidate_recordset()
        self.env.cr.execute("UPDATE ecrm_case SET next_escalation_at = %s WHERE id = %s", ["2026-11-23 11:00", case.id])
        case.invalidate_recordset()
        self.escalate("2026-11-23 11:30")
        self.assertEqual(len(case.escalation_ids), 1)
        self.assertEqual(self.todo_count(case, self.watcher), 0)

    def test_concurrent_fire_row_wins_over_stale_view(self):
        with freeze_time("2026-11-20 16:00"):
            case = self.new_case()
        self.assertFalse(case.escalation_ids)  # this worker's (cached) view: nothing fired
        # the other worker inserts its row meanwhile
        self.env.cr.execute(
            "INSERT INTO ecrm_case_escalation (case_id, level_id, rank, fired_at, state, attempts)"
            " VALUES (%s, %s, 1, now(), 'done', 1)",
            [case.id, self.level_warn.id],
        )
        case._ecrm_escalate(self.dt("2026-11-23 11:30"))
        self.assertEqual(len(case.escalation_ids), 1)
        self.assertEqual(self.todo_count(case, self.watcher), 0)

    def test_first_response_stops_response_levels(self):
        with freeze_time("2026-11-20 16:00"):
            case = self.new_case()
        with freeze_time("2026-11-23 10:00"):
            case.with_user(self.agent).message_post(
                body="We are on it", message_type="comment", subtype_xmlid="mail.mt_comment"
            )
        self.assertEqual(case.first_response_date, self.dt("2026-11-23 10:00"))
        self.assertFalse(case.next_escalation_at)
        self.escalate("2026-11-24 10:00")
        self.assertFalse(case.escalation_ids)

    def test_internal_note_is_not_a_first_response(self):
        case = self.new_case()
        case.with_user(self.agent).message_post(body="Note", message_type="comment", subtype_xmlid="mail.mt_note")
        self.assertFalse(case.first_response_date)

    def test_customer_message_is_not_a_first_response(self):
        case = self.new_case()
        case.message_post(
            body="Any news?", author_id=self.customer.id, message_type="comment", subtype_xmlid="mail.mt_comment"
        )
        self.assertFalse(case.first_response_date)

    def test_first_response_logs_answer_interaction(self):
        case = self.new_case()
        case.with_user(self.agent).message_post(body="Hi", message_type="comment", subtype_xmlid="mail.mt_comment")
        touches = self.env["ecrm.interaction"].search([("res_model", "=", "ecrm.case"), ("res_id", "=", case.id)])
        self.assertEqual(sorted(touches.mapped("direction")), ["inbound", "outbound"])

    def test_resolution_level_stops_when_closed(self):
        level = self.env["ecrm.escalation.level"].create(
            {"name": "Unresolved", "policy_id": self.policy.id, "watch": "resolution", "notify_team_leader": True}
        )
        with freeze_time("2026-11-20 16:00"):
            case = self.new_case()
            case.first_response_date = self.dt("2026-11-20 16:30")
        self.assertEqual(case.next_escalation_at, level._ecrm_due_at(case))
        case.stage_id = self.stage_solved
        self.assertFalse(case.next_escalation_at)

    def test_customer_email_template_is_sent(self):
        template = self.env["mail.template"].create(
            {
                "name": "Sorry",
                "model_id": self.env["ir.model"]._get_id("ecrm.case"),
                "subject": "About {{ object.name }}",
                "body_html": "<p>We are late on your case, sorry.</p>",
            }
        )
        self.level_warn.mail_template_id = template
        with freeze_time("2026-11-20 16:00"):
            case = self.new_case()
        self.escalate("2026-11-23 11:00")
        sent = case.message_ids.filtered(lambda m: m.subject == f"About {case.name}")
        self.assertEqual(len(sent), 1)
        self.assertIn(self.customer, sent.partner_ids | case.message_partner_ids)

    def send_webhooks(self, when):
        with freeze_time(when):
            return self.env["ecrm.webhook.delivery"]._cron_ecrm_send_webhooks()

    def test_webhook_failure_is_retried_from_the_outbox(self):
        """The level fires (and stays fired) without calling the webhook; the
        outbox's cron calls it and retries a 500 after a delay, with the same
        key and body."""
        url = self.serve_webhook(_Hook)
        _Hook.statuses[:] = [500]
        _Hook.bodies[:] = []
        _Hook.keys[:] = []
        self.level_warn.webhook_url = url
        with freeze_time("2026-11-20 16:00"):
            case = self.new_case()
        self.escalate("2026-11-23 11:00")
        self.assertEqual(case.escalation_ids.state, "done")
        self.assertEqual(case.escalation_level, 1)
        self.assertEqual(self.todo_count(case, self.watcher), 1)
        self.assertEqual(_Hook.bodies, [], "no call inside the escalation batch")
        delivery = self.env["ecrm.webhook.delivery"].search([("case_id", "=", case.id)])
        self.assertEqual((delivery.state, delivery.attempts), ("queued", 0))
        self.send_webhooks("2026-11-23 11:00")
        self.assertEqual((delivery.state, delivery.attempts, delivery.last_status_code), ("queued", 1, 500))
        self.assertEqual(delivery.next_attempt, self.dt("2026-11-23 11:02"))
        self.send_webhooks("2026-11-23 11:01")
        self.assertEqual(delivery.attempts, 1, "not due yet")
        self.send_webhooks("2026-11-23 11:02")
        self.assertEqual((delivery.state, delivery.attempts, delivery.last_status_code), ("sent", 2, 200))
        self.assertFalse(delivery.last_error)
        self.escalate("2026-11-23 11:05")
        self.assertEqual(case.escalation_ids.attempts, 1, "the level is not fired again")
        self.assertEqual([body["case"]["reference"] for body in _Hook.bodies], [case.name, case.name])
        # a repeated call carries the same key, so that the receiver can drop it
        key = f"ecrm-case-{case.id}-level-{self.level_warn.id}"
        self.assertEqual(_Hook.keys, [key, key])
        self.assertEqual([body["idempotency_key"] for body in _Hook.bodies], [key, key])

    def test_failure_mid_batch_leaves_only_that_case_for_next_run(self):
        with freeze_time("2026-11-20 16:00"):
            cases = self.new_case() | self.new_case() | self.new_case()
        broken = cases[1]
        calls = []
        fire = EcrmEscalationLevel._ecrm_fire

        def fire_once_broken(level, case):
            calls.append(case.id)
            if case == broken and calls.count(case.id) == 1:
                raise RuntimeError("mail server down")
            return fire(level, case)

        with patch.object(EcrmEscalationLevel, "_ecrm_fire", autospec=True, side_effect=fire_once_broken):
            with freeze_time("2026-11-23 11:00"):
                self.env["ecrm.case"]._cron_ecrm_escalate(batch_size=1)
            states = {case: case.escalation_ids.state for case in cases}
            self.assertEqual(states, {cases[0]: "done", broken: "failed", cases[2]: "done"})
            self.escalate("2026-11-23 11:05")
        self.assertEqual(set(cases.escalation_ids.mapped("state")), {"done"})
        self.assertEqual(sorted(calls), sorted([*cases.ids, broken.id]))

    def test_failing_case_of_a_batch_is_retried_alone(self):
        """A level fires once for the batch; when that fails, the batch is
        rolled back and its cases fire one at a time: only the failing one is
        left 'failed' (for the next run), the others are done once."""
        with freeze_time("2026-11-20 16:00"):
            cases = self.new_case() | self.new_case() | self.new_case()
        broken = cases[1]
        calls, down = [], [True]
        fire = EcrmEscalationLevel._ecrm_fire

        def fire_broken(level, batch):
            calls.append(batch.ids)
            if broken in batch and down[0]:
                raise RuntimeError("mail server down")
            return fire(level, batch)

        with patch.object(EcrmEscalationLevel, "_ecrm_fire", autospec=True, side_effect=fire_broken):
            self.escalate("2026-11-23 11:00")
            states = {case: case.escalation_ids.state for case in cases}
            self.assertEqual(states, {cases[0]: "done", broken: "failed", cases[2]: "done"})
            self.assertEqual(calls, [cases.ids, cases[0].ids, broken.ids, cases[2].ids])
            self.assertEqual([self.todo_count(case, self.watcher) for case in cases], [1, 0, 1])
            down[0] = False
            self.escalate("2026-11-23 11:05")
        self.assertEqual(calls[-1], broken.ids)
        self.assertEqual(set(cases.escalation_ids.mapped("state")), {"done"})
        self.assertEqual([self.todo_count(case, self.watcher) for case in cases], [1, 1, 1])
        for case in cases:
            self.assertEqual(len(case.message_ids.filtered(lambda m: "fired" in (m.body or ""))), 1)

    def test_fired_note_of_a_batch_is_the_note_odoo_logs_on_each_case(self):
        """The note of the first case is logged by Odoo's ``_message_log_batch``,
        the others copy its row: each case gets one note, equal to Odoo's in
        every stored column but its own id and document, and shown by the
        case's chatter even when the chatter was read before the run."""
        self.level_warn.notify_user_ids = [Command.clear()]  # no notification (it would reload the chatter)
        with freeze_time("2026-11-20 16:00"):
            cases = self.new_case() | self.new_case() | self.new_case()
        self.assertFalse(cases.message_ids.filtered(lambda m: "fired" in (m.body or "")))  # read: in cache
        self.escalate("2026-11-23 11:00")
        notes = cases.message_ids.filtered(lambda m: "Escalation level Warning fired" in (m.body or ""))
        self.assertEqual(sorted(notes.mapped("res_id")), sorted(cases.ids), "one note per case")
        Message = self.env["mail.message"]
        columns = [
            name
            for name, field in Message._fields.items()
            if field.store and field.column_type and name not in ("id", "res_id")
        ]
        with freeze_time("2026-11-23 11:00"):
            other = self.new_case()
            odoo_note = other._message_log_batch(
                {other.id: notes[0].body},
                author_id=self.env.user.partner_id.id,
                email_from=self.env.user.partner_id.email_formatted,
                message_type="notification",
            )
        (notes | odoo_note).invalidate_recordset()
        expected = {name: odoo_note[name] for name in columns if name != "message_id"}
        for note in notes:
            self.assertEqual({name: note[name] for name in expected}, expected, note.res_id)
            self.assertEqual(note.message_id, notes[0].message_id, "one message id for the batch, as Odoo's")
            self.assertEqual(note.subtype_id, self.env.ref("mail.mt_note"))
            self.assertEqual(note.author_id, self.env.user.partner_id)

    def test_cron_reports_its_progress_by_batch(self):
        """Due cases counted once: each batch reports what it did and what is left."""
        with freeze_time("2026-11-20 16:00"):
            self.new_case() | self.new_case() | self.new_case()
        reported = []
        notify = type(self.env["ir.cron"])._notify_progress

        def spy(cron, *, done, remaining, deactivate=False):
            reported.append((done, remaining))
            return notify(cron, done=done, remaining=remaining, deactivate=deactivate)

        cron = type(self.env["ir.cron"])
        with patch.object(cron, "_notify_progress", autospec=True, side_effect=spy), freeze_time("2026-11-23 11:00"):
            self.assertEqual(self.env["ecrm.case"]._cron_ecrm_escalate(batch_size=2), 3)
        self.assertEqual(reported, [(2, 1), (3, 0)])

    def test_cron_reads_only_due_cases(self):
        with freeze_time("2026-11-20 16:00"):
            due = self.new_case()
        with freeze_time("2026-11-23 10:30"):
            later = self.new_case()
        done = self.escalate("2026-11-23 11:00")
        self.assertEqual(done, 1)
        self.assertTrue(due.escalation_ids)
        self.assertFalse(later.escalation_ids)

    def test_batch_of_due_cases_costs_a_bounded_number_of_queries(self):
        """The due levels of a batch are claimed in one statement and each
        level's actions run once for all its cases: 30 due cases cost the
        same number of queries as 10. Left out: what Odoo does per record
        (notifying users, reassigning, emailing from a template) and raising
        the priority (the case's policy and deadlines are computed again, a
        calendar lookup per case)."""
        self.level_warn.write({"delay_hours": 0, "notify_user_ids": [Command.clear()]})
        self.level_warn.sudo().webhook_url = "https://example.com/hook"
        self.level_late.write({"notify_assignee": False, "reassign_user_id": False, "raise_priority": False})
        batches = {}
        # response due 4 working hours after opening: Monday 12:00, 13:00 and 14:00
        for size, opened in ((3, "2026-11-20 16:00"), (10, "2026-11-23 09:00"), (30, "2026-11-23 10:00")):
            with freeze_time(opened):
                batches[size] = self.env["ecrm.case"].create(
                    [{"subject": f"Parcel {n}", "partner_id": self.customer.id} for n in range(size)]
                )
        counts = {}
        for size, when in ((3, "2026-11-23 12:00"), (10, "2026-11-23 13:00"), (30, "2026-11-23 14:00")):
            self.env.flush_all()
            self.env.invalidate_all()
            before = self.env.cr.sql_log_count
            fired = self.escalate(when)
            self.env.flush_all()
            counts[size] = self.env.cr.sql_log_count - before
            self.assertEqual(fired, size)
            cases = batches[size]
            self.assertEqual(set(cases.mapped("escalation_level")), {2})
            for case in cases:
                logged = case.message_ids.filtered(lambda m: "fired" in (m.body or ""))
                self.assertEqual(len(logged), 2)
        self.assertEqual(self.env["ecrm.webhook.delivery"].search_count([("case_id", "in", batches[30].ids)]), 30)
        self.assertEqual(counts[10], counts[30], f"queries per batch: {counts}")
