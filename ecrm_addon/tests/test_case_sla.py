# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from unittest.mock import patch

from freezegun import freeze_time

from odoo import Command
from odoo.exceptions import UserError
from odoo.tests import Form, tagged
from odoo.tools import SQL

from .common import EcrmCaseCommon

# 2026-11-20 is a Friday, 2026-11-23 the Monday after.


@tagged("post_install", "-at_install")
class TestCaseDeadlines(EcrmCaseCommon):
    def test_reference_comes_from_sequence_and_subject_stays(self):
        case = self.new_case()
        self.assertTrue(case.name.startswith("CASE/"), case.name)
        self.assertEqual(case.subject, "Parcel missing")

    def test_friday_afternoon_case_is_due_monday_noon(self):
        with freeze_time("2026-11-20 16:00"):
            case = self.new_case()
        self.assertEqual(case.policy_id, self.policy)
        self.assertEqual(case.response_deadline, self.dt("2026-11-23 12:00"))
        # 16 working hours: Friday 1 h, Monday 8 h, Tuesday 7 h
        self.assertEqual(case.resolution_deadline, self.dt("2026-11-24 16:00"))

    def test_public_holiday_pushes_deadline_a_day(self):
        self.env["resource.calendar.leaves"].create(
            {
                "name": "Shop holiday",
                "calendar_id": self.calendar.id,
                "date_from": self.dt("2026-11-23 00:00"),
                "date_to": self.dt("2026-11-23 23:59"),
            }
        )
        with freeze_time("2026-11-20 16:00"):
            case = self.new_case()
        self.assertEqual(case.response_deadline, self.dt("2026-11-24 12:00"))

    def test_batch_plans_equal_plan_hours_and_read_the_calendar_once(self):
        """The plans of one batch (``memo``) walk working time read once and land
        where Odoo's ``plan_hours`` does: forward and backward, over nights,
        weekends and a public holiday, and beyond the time read (left to it)."""
        with freeze_time("2026-11-19 09:00"):  # dated data and check alike: the same on any day
            self.env["resource.calendar.leaves"].create(
                {
                    "name": "Shop holiday",
                    "calendar_id": self.calendar.id,
                    "date_from": self.dt("2026-11-25 00:00"),
                    "date_to": self.dt("2026-11-25 23:59"),
                }
            )
            starts = [self.dt(moment) for moment in ("2026-11-20 16:00", "2026-11-21 10:00", "2026-11-23 08:30")]
            hours = [0.5, 1, 4, 8, 16, 24.25, 40, 300, -1, -3.5, -16, -200]
            memo = {}
            for start in starts:
                for amount in hours:
                    with self.subTest(start=start, hours=amount):
                        planned = self.policy._ecrm_plan(start, amount, memo=memo)
                        self.assertEqual(planned, self.policy._ecrm_plan(start, amount))
            self.env.flush_all()
            memo = {}
            self.policy._ecrm_plan(starts[0], 4, memo=memo)
            with self.assertQueryCount(0):
                for amount in (8, 16, 24.25, -3.5):
                    self.policy._ecrm_plan(starts[1], amount, memo=memo)

    def test_new_cases_plan_deadlines_and_levels_on_working_time_read_once(self):
        """The deadlines and escalation levels of cases created together walk
        the calendar's working time read once (not once for the deadlines and
        again for the levels), and land where Odoo's ``plan_hours`` does: over
        the weekend, a public holiday, before and after the deadlines."""
        self.policy.level_ids = [
            Command.create({"name": "Warn", "sequence": 1, "watch": "response", "delay_percent": -25}),
            Command.create({"name": "Late", "sequence": 2, "watch": "response", "delay_hours": 3}),
            Command.create({"name": "Overdue", "sequence": 3, "watch": "resolution", "delay_hours": 8}),
        ]
        Calendar = type(self.env["resource.calendar"])
        reads = []

        def work_intervals_batch(calendar, *args, **kwargs):
            reads.append(calendar.id)
            return original(calendar, *args, **kwargs)

        original = Calendar._work_intervals_batch
        with freeze_time("2026-11-20 15:30"):  # a Friday; the Monday after is a holiday
            self.env["resource.calendar.leaves"].create(
                {
                    "name": "Shop holiday",
                    "calendar_id": self.calendar.id,
                    "date_from": self.dt("2026-11-23 00:00"),
                    "date_to": self.dt("2026-11-23 23:59"),
                }
            )
            self.env.flush_all()
            with patch.object(Calendar, "_work_intervals_batch", work_intervals_batch):
                cases = self.env["ecrm.case"].create(
                    [
                        {"subject": "Friday", "partner_id": self.customer.id},
                        {
                            "subject": "Saturday",
                            "partner_id": self.customer.id,
                            "date_open": self.dt("2026-11-21 10:00"),
                        },
                    ]
                )
                self.env.flush_all()
            self.assertEqual(reads.count(self.calendar.id), 1, "the working time is read once for the batch")
            friday, saturday = cases
            self.assertEqual(friday.response_deadline, self.dt("2026-11-24 11:30"))  # Friday 1.5 h, Tuesday 2.5 h
            self.assertEqual(saturday.response_deadline, self.dt("2026-11-24 13:00"))
            for case in cases:
                self.assertEqual(case.response_deadline, self.policy._ecrm_plan(case.date_open, 4))
                self.assertEqual(case.resolution_deadline, self.policy._ecrm_plan(case.date_open, 16))
                # each level where plan_hours puts it, without the batch's working time
                due = [level._ecrm_due_at(case) for level in self.policy.level_ids]
                self.assertEqual(
                    due,
                    [
                        self.policy._ecrm_plan(case.response_deadline, -1),
                        self.policy._ecrm_plan(case.response_deadline, 3),
                        self.policy._ecrm_plan(case.resolution_deadline, 8),
                    ],
                )
                self.assertEqual(case.next_escalation_at, min(due))
            self.assertEqual(friday.next_escalation_at, self.dt("2026-11-24 10:30"))

    def test_new_case_is_inserted_with_its_computed_fields(self):
        """A new case's stored computes (customer company, email, SLA policy,
        deadlines, escalation, rating) and the portal token of its
        acknowledgement are in its insert, with the values a recompute gives:
        no update of the row follows it, nor of its interaction log rows."""
        self.policy.level_ids = [Command.create({"name": "Warn", "watch": "response", "delay_percent": -25})]
        self.company.email = "help@shop.example"  # a sender: the acknowledgement goes out
        acme = self.env["res.partner"].create({"name": "Acme", "is_company": True})
        ann = self.env["res.partner"].create({"name": "Ann", "email": "ann@acme.example", "parent_id": acme.id})
        names = [
            "commercial_partner_id",
            "email_from",
            "is_closed",
            "policy_id",
            "response_deadline",
            "resolution_deadline",
            "escalation_level",
            "next_escalation_at",
            "rating_last_value",
            "access_token",
        ]
        Cursor = type(self.env.cr)
        execute = Cursor.execute
        updates = []

        def spy(cr, query, params=None, log_exceptions=True):
            if (query.code if isinstance(query, SQL) else str(query)).split()[:2] in (
                ["UPDATE", '"ecrm_case"'],
                ["UPDATE", '"ecrm_interaction"'],
            ):
                updates.append(query)
            return execute(cr, query, params, log_exceptions)

        with freeze_time("2026-11-20 15:30"):  # a Friday
            self.env.flush_all()
            with patch.object(Cursor, "execute", spy):
                case = self.new_case(partner_id=ann.id, acknowledge=True)
                self.env.flush_all()
            self.assertEqual(updates, [])
            self.env.invalidate_all()
            inserted = {name: case[name] for name in names}
            self.assertEqual(
                [inserted[name] for name in names[:-1]],
                [
                    acme,
                    "ann@acme.example",
                    False,
                    self.policy,
                    self.dt("2026-11-23 11:30"),
                    self.dt("2026-11-24 15:30"),
                    0,
                    self.dt("2026-11-23 10:30"),
                    0,
                ],
            )
            self.assertIn(f"access_token={case.access_token}", case.message_ids[0].body, "the acknowledgement's link")
            for name in names[:-1]:
                self.env.add_to_compute(case._fields[name], case)
            self.assertEqual({name: case[name] for name in names}, inserted)
            log = self.env["ecrm.interaction"].search([("res_model", "=", case._name), ("res_id", "=", case.id)])
            self.assertEqual(
                log.mapped("name"),
                [f"Case acknowledged: {case.name} Parcel missing", f"Case opened: {case.name} Parcel missing"],
            )
            self.assertEqual(log.commercial_partner_id, acme)

    def test_case_created_waiting_or_closed_has_nothing_to_escalate(self):
        """Computed before the insert, the next escalation of a case created in
        a waiting or closed stage is still cleared by its paused clock or its
        closing, as a recompute gives."""
        self.policy.level_ids = [Command.create({"name": "Late", "watch": "response", "delay_hours": 1})]
        with freeze_time("2026-11-23 09:00"):
            waiting, solved, new = self.env["ecrm.case"].create(
                [
                    {"subject": "Waiting", "partner_id": self.customer.id, "stage_id": self.stage_waiting.id},
                    {"subject": "Solved", "partner_id": self.customer.id, "stage_id": self.stage_solved.id},
                    {"subject": "New", "partner_id": self.customer.id},
                ]
            )
            self.env.flush_all()
            self.env.invalidate_all()
            self.assertEqual(waiting.ecrm_paused_since, self.dt("2026-11-23 09:00"))
            self.assertEqual(solved.date_closed, self.dt("2026-11-23 09:00"))
            self.assertEqual(
                [case.next_escalation_at for case in (waiting, solved, new)],
                [False, False, self.dt("2026-11-23 14:00")],
            )

    def test_waiting_on_customer_adds_paused_time_back(self):
        with freeze_time("2026-11-23 09:00"):
            case = self.new_case()
        self.assertEqual(case.response_deadline, self.dt("2026-11-23 13:00"))
        with freeze_time("2026-11-23 10:00"):
            case.stage_id = self.stage_waiting
        self.assertFalse(case.next_escalation_at, "nothing escalates while the customer is awaited")
        with freeze_time("2026-11-23 12:30"):
            case.stage_id = self.stage_progress
        self.assertAlmostEqual(case.ecrm_paused_hours, 2.5)
        self.assertEqual(case.response_deadline, self.dt("2026-11-23 15:30"))

    def test_two_pauses_accumulate_and_skip_the_night(self):
        with freeze_time("2026-11-23 09:00"):
            case = self.new_case()
        with freeze_time("2026-11-23 16:00"):
            case.stage_id = self.stage_waiting
        with freeze_time("2026-11-24 10:00"):  # 1 h Monday + 1 h Tuesday of working time
            case.stage_id = self.stage_progress
        with freeze_time("2026-11-24 11:00"):
            case.stage_id = self.stage_waiting
        with freeze_time("2026-11-24 12:00"):
            case.stage_id = self.stage_progress
        self.assertAlmostEqual(case.ecrm_paused_hours, 3.0)
        self.assertEqual(case.response_deadline, self.dt("2026-11-23 16:00"))

    def test_priority_change_recomputes_from_the_opening_not_now(self):
        urgent = self.env["ecrm.escalation.policy"].create(
            {"name": "Urgent", "sequence": 1, "priority": "3", "calendar_id": self.calendar.id, "response_hours": 1}
        )
        with freeze_time("2026-11-23 09:00"):
            case = self.new_case(priority="1")
        self.assertEqual(case.response_deadline, self.dt("2026-11-23 13:00"))
        with freeze_time("2026-11-23 11:00"):
            case.priority = "3"
        self.assertEqual(case.policy_id, urgent)
        self.assertEqual(case.response_deadline, self.dt("2026-11-23 10:00"))

    def test_priority_change_keeps_paused_time(self):
        urgent = self.env["ecrm.escalation.policy"].create(
            {"name": "Urgent", "sequence": 1, "priority": "3", "calendar_id": self.calendar.id, "response_hours": 2}
        )
        with freeze_time("2026-11-23 09:00"):
            case = self.new_case()
        with freeze_time("2026-11-23 09:30"):
            case.stage_id = self.stage_waiting
        with freeze_time("2026-11-23 10:30"):
            case.stage_id = self.stage_progress
            case.priority = "3"
        self.assertEqual(case.policy_id, urgent)
        self.assertEqual(case.response_deadline, self.dt("2026-11-23 12:00"))

    def test_policy_coverage_by_channel_and_category(self):
        returns = self.env.ref("ecrm_addon.ecrm_case_category_return")
        policy = self.env["ecrm.escalation.policy"].create(
            {
                "name": "Email returns",
                "sequence": 1,
                "channel": "email",
                "category_ids": [returns.id],
                "calendar_id": self.calendar.id,
                "response_hours": 2,
            }
        )
        self.assertEqual(self.new_case(channel="email", category_id=returns.id).policy_id, policy)
        self.assertEqual(self.new_case(channel="phone", category_id=returns.id).policy_id, self.policy)

    def test_policy_domain_coverage(self):
        policy = self.env["ecrm.escalation.policy"].create(
            {
                "name": "Jane",
                "sequence": 1,
                "domain": f"[('partner_id', '=', {self.customer.id})]",
                "calendar_id": self.calendar.id,
                "response_hours": 2,
            }
        )
        other = self.env["res.partner"].create({"name": "Other"})
        self.assertEqual(self.new_case().policy_id, policy)
        self.assertEqual(self.new_case(partner_id=other.id).policy_id, self.policy)

    def test_policy_defaults_to_company_calendar(self):
        policy = self.env["ecrm.escalation.policy"].create({"name": "Plain", "response_hours": 1})
        self.assertEqual(policy.calendar_id, self.env.company.resource_calendar_id)

    def test_policy_without_any_calendar_is_refused_clearly(self):
        company = self.env["res.company"].create({"name": "No Hours Co"})
        company.resource_calendar_id = False
        with self.assertRaisesRegex(UserError, "needs working hours"):
            self.env["ecrm.escalation.policy"].create({"name": "Broken", "company_id": company.id})

    def test_closing_keeps_deadlines_and_stamps_date(self):
        with freeze_time("2026-11-23 09:00"):
            case = self.new_case()
        with freeze_time("2026-11-23 10:00"):
            case.stage_id = self.stage_solved
        self.assertEqual(case.date_closed, self.dt("2026-11-23 10:00"))
        self.assertEqual(case.response_deadline, self.dt("2026-11-23 13:00"))
        self.assertFalse(case.next_escalation_at)

    def test_backend_phone_case_typed_by_agent(self):
        form = Form(self.env["ecrm.case"].with_user(self.agent))
        form.subject = "Called about a refund"
        form.partner_id = self.customer
        case = form.save()
        self.assertEqual(case.channel, "phone")
        self.assertEqual(case.stage_id, self.stage_new)
        self.assertIn(self.customer, case.message_partner_ids)
        touches = self.env["ecrm.interaction"].search([("res_model", "=", "ecrm.case"), ("res_id", "=", case.id)])
        self.assertEqual(touches.mapped("channel"), ["phone"])
        self.assertEqual(touches.mapped("direction"), ["inbound"])
