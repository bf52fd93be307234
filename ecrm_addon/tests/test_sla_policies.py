# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import importlib.util
from pathlib import Path

from freezegun import freeze_time

from odoo.exceptions import AccessError
from odoo.tests import TransactionCase, new_test_user, tagged

from .common import EcrmCaseCommon

URGENT_DOMAIN = "['|', ('priority', '=', '3'), ('ecrm_segment_id.code', '=', 'champions')]"


def _migration(name):
    path = Path(__file__).parents[1] / "migrations" / "18.0.1.2.0" / name
    spec = importlib.util.spec_from_file_location(f"ecrm_migration_18_0_1_2_0_{name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@tagged("post_install", "-at_install")
class TestShippedSlaPolicies(TransactionCase):
    """A fresh install ships two active SLA policies per company, in the
    company's working hours; companies created later get theirs."""

    def assertShipped(self, company):
        standard, urgent = company._ecrm_sla_policy("standard"), company._ecrm_sla_policy("urgent")
        self.assertTrue(standard.active and urgent.active)
        self.assertEqual((standard | urgent).company_id, company)
        self.assertEqual((standard | urgent).calendar_id, company.resource_calendar_id)
        self.assertEqual((standard.response_hours, standard.resolution_hours), (8, 40))
        self.assertEqual((urgent.response_hours, urgent.resolution_hours), (2, 8))
        self.assertEqual(urgent.domain, URGENT_DOMAIN)
        self.assertLess(urgent.sequence, standard.sequence)
        for policy in standard | urgent:
            for watch in ("response", "resolution"):
                levels = policy.level_ids.filtered(lambda lvl, watch=watch: lvl.watch == watch)
                self.assertEqual([(lvl.delay_percent, lvl.delay_hours) for lvl in levels], [(-25, 0), (0, 0), (0, 8)])
                self.assertEqual(
                    [(lvl.notify_assignee, lvl.notify_team_leader, lvl.raise_priority) for lvl in levels],
                    [(True, False, False), (False, True, False), (False, False, True)],
                )
        return standard, urgent

    def test_every_company_has_the_two_policies_after_install(self):
        for company in self.env["res.company"].search([]):
            self.assertShipped(company)

    def test_a_new_company_gets_its_own_policies_in_its_languages(self):
        self.env["res.lang"]._activate_lang("es_ES")
        company = self.env["res.company"].create({"name": "Shop opened later"})
        standard, urgent = self.assertShipped(company)
        self.assertEqual(standard.with_context(lang="es_ES").name, "Estándar")
        self.assertEqual(urgent.with_context(lang="es_ES").name, "Urgente o Campeones")
        self.assertEqual(
            urgent.level_ids[0].with_context(lang="es_ES").name, "Respuesta: avisar al responsable al 75 %"
        )
        company._ecrm_create_sla_policies()  # once only
        self.assertEqual(self.env["ecrm.escalation.policy"].search_count([("company_id", "=", company.id)]), 2)

    def test_demo_cases_are_routed_and_escalated_under_the_shipped_policies(self):
        late = self.env.ref("ecrm_addon.demo_case_late", raise_if_not_found=False)
        if not late:
            self.skipTest("database installed without demo data")
        company = late.company_id
        self.assertEqual(late.policy_id, company._ecrm_sla_policy("urgent"))
        self.assertTrue(late.escalation_ids.filtered(lambda log: log.state == "done"), "levels fired")
        solved = self.env.ref("ecrm_addon.demo_case_invoice")
        self.assertEqual(solved.policy_id, company._ecrm_sla_policy("standard"))
        self.env.cr.execute(
            "SELECT ecrm_response_work_hours IS NOT NULL AND ecrm_resolution_work_hours IS NOT NULL "
            "FROM ecrm_case WHERE id = %s",
            [solved.id],
        )
        self.assertTrue(self.env.cr.fetchone()[0], "working-hour SLA times stamped")
        returned = self.env.ref("ecrm_addon.demo_case_return")
        self.assertEqual(returned.team_id, self.env.ref("sales_team.team_sales_department"))

    def test_upgrade_ships_them_only_to_companies_without_policies(self):
        Policy = self.env["ecrm.escalation.policy"]
        configured, bare = self.env["res.company"].create([{"name": "Configured shop"}, {"name": "Bare shop"}])
        # as 18.0.1.1.0 left them: no shipped policy
        Policy.search([("company_id", "in", (configured | bare).ids)]).unlink()
        own = Policy.create({"name": "Our own", "company_id": configured.id, "response_hours": 1})
        _migration("post-sla-policies.py").migrate(self.env.cr, "18.0.1.1.0")
        self.assertEqual(Policy.search([("company_id", "=", configured.id)]), own)
        self.assertShipped(bare)


@tagged("post_install", "-at_install")
class TestShippedSlaPolicyRules(EcrmCaseCommon):
    """What the shipped policies cover and when their levels fire (in the
    shop's 9-17 calendar)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.policy.active = False
        cls.standard = cls.company._ecrm_sla_policy("standard")
        cls.urgent = cls.company._ecrm_sla_policy("urgent")
        (cls.standard | cls.urgent).write({"active": True, "calendar_id": cls.calendar.id})
        cls.leader = new_test_user(cls.env, login="ecrm_sla_leader", groups="ecrm_addon.group_ecrm_user")
        cls.team = cls.env["crm.team"].create({"name": "Service", "user_id": cls.leader.id})
        cls.champion = cls.env["res.partner"].create({"name": "Top buyer", "email": "top.sla@example.com"})
        cls.env["ecrm.rfm.score"].create(
            {
                "partner_id": cls.champion.id,
                "company_id": cls.company.id,
                "segment_id": cls.env.ref("ecrm_addon.ecrm_rfm_segment_champions").id,
            }
        )

    def todo_users(self, case):
        return self.env["mail.activity"].search([("res_model", "=", "ecrm.case"), ("res_id", "=", case.id)]).user_id

    def test_urgent_policy_covers_urgent_cases_and_champions(self):
        with freeze_time("2026-11-23 09:00"):
            urgent = self.new_case(priority="3")
            champion = self.new_case(partner_id=self.champion.id)
            standard = self.new_case()
        self.assertEqual(urgent.policy_id, self.urgent)
        self.assertEqual(champion.policy_id, self.urgent)
        self.assertEqual(standard.policy_id, self.standard)
        self.assertEqual(champion.response_deadline, self.dt("2026-11-23 11:00"))
        self.assertEqual(champion.resolution_deadline, self.dt("2026-11-23 17:00"))
        self.assertEqual(standard.response_deadline, self.dt("2026-11-23 17:00"))
        self.assertEqual(standard.resolution_deadline, self.dt("2026-11-27 17:00"))

    def test_standard_levels_warn_at_75_percent_then_leader_then_priority(self):
        with freeze_time("2026-11-23 09:00"):
            case = self.new_case(user_id=self.agent.id, team_id=self.team.id)
        self.assertEqual(case.next_escalation_at, self.dt("2026-11-23 15:00"))  # 6 of the 8 working hours
        with freeze_time("2026-11-23 15:01"):
            self.env["ecrm.case"]._cron_ecrm_escalate()
        self.assertEqual(self.todo_users(case), self.agent)
        with freeze_time("2026-11-23 17:01"):
            self.env["ecrm.case"]._cron_ecrm_escalate()
        self.assertEqual(self.todo_users(case), self.agent | self.leader)
        self.assertEqual(case.priority, "1")
        with freeze_time("2026-11-24 17:01"):  # 8 working hours after the breach
            self.env["ecrm.case"]._cron_ecrm_escalate()
        self.assertEqual(case.priority, "2")
        self.assertEqual(case.escalation_level, 3)

    def test_warning_follows_the_target_when_the_shop_edits_it(self):
        self.standard.response_hours = 4
        with freeze_time("2026-11-23 09:00"):
            case = self.new_case()
        self.assertEqual(case.next_escalation_at, self.dt("2026-11-23 12:00"))  # 75 % of 4 h


@tagged("post_install", "-at_install")
class TestSlaWorkHours(EcrmCaseCommon):
    """Times to first response and resolution in the policy's working hours,
    time waiting on the customer left out, stamped on the case and reported."""

    def report(self, case):
        self.env.flush_all()
        self.env["ecrm.case.report"].invalidate_model()
        return self.env["ecrm.case.report"].search([("case_id", "=", case.id)])

    def answer(self, case, when):
        with freeze_time(when):
            case.with_user(self.agent).message_post(
                body="We are on it", message_type="comment", subtype_xmlid="mail.mt_comment"
            )

    def test_weekend_is_not_counted_in_the_time_to_first_response(self):
        with freeze_time("2026-11-20 16:00"):  # a Friday
            case = self.new_case()
        self.answer(case, "2026-11-23 10:00")
        self.assertAlmostEqual(case.ecrm_response_work_hours, 2.0)
        row = self.report(case)
        self.assertAlmostEqual(row.work_hours_to_first_response, 2.0)
        self.assertAlmostEqual(row.hours_to_first_response, 66.0)  # clock hours
        self.assertFalse(row.work_hours_to_resolution)

    def test_time_waiting_on_the_customer_is_left_out_of_the_resolution(self):
        with freeze_time("2026-11-23 09:00"):
            case = self.new_case()
        self.answer(case, "2026-11-23 10:00")
        with freeze_time("2026-11-23 10:00"):
            case.stage_id = self.stage_waiting
        with freeze_time("2026-11-23 14:00"):
            case.stage_id = self.stage_progress
        with freeze_time("2026-11-24 11:00"):
            case.stage_id = self.stage_solved
        self.assertAlmostEqual(case.ecrm_response_work_hours, 1.0)
        self.assertAlmostEqual(case.ecrm_resolution_work_hours, 6.0)  # 10 working hours, 4 paused
        self.assertAlmostEqual(self.report(case).work_hours_to_resolution, 6.0)
        with freeze_time("2026-11-24 12:00"):
            case.stage_id = self.stage_progress  # reopened: no resolution time any more
        self.assertFalse(self.report(case).work_hours_to_resolution)

    def test_pause_before_the_first_response_is_left_out(self):
        with freeze_time("2026-11-23 09:00"):
            case = self.new_case()
        with freeze_time("2026-11-23 10:00"):
            case.stage_id = self.stage_waiting
        self.answer(case, "2026-11-23 13:00")  # answered while waiting
        self.assertAlmostEqual(case.ecrm_response_work_hours, 1.0)

    def test_agents_cannot_write_the_working_hours(self):
        case = self.new_case()
        with self.assertRaises(AccessError):
            case.with_user(self.agent).write({"ecrm_resolution_work_hours": 1.0})

    def test_migration_fills_the_working_hours_of_existing_cases(self):
        with freeze_time("2026-11-20 16:00"):
            cases = self.new_case() | self.new_case() | self.new_case()
        cases[:2].sudo().first_response_date = self.dt("2026-11-23 10:00")
        with freeze_time("2026-11-23 12:00"):
            cases[0].stage_id = self.stage_solved
        self.env.flush_all()
        self.env.cr.execute(
            """UPDATE ecrm_case SET ecrm_response_work_hours = NULL, ecrm_resolution_work_hours = NULL
                WHERE id = ANY(%s)""",
            [cases.ids],
        )  # as 18.0.1.1.0 left them
        _migration("post-sla-work-hours.py").migrate(self.env.cr, "18.0.1.1.0", batch_size=2)
        self.env.cr.execute(
            "SELECT ecrm_response_work_hours, ecrm_resolution_work_hours FROM ecrm_case WHERE id = ANY(%s) ORDER BY id",
            [cases.ids],
        )
        self.assertEqual(self.env.cr.fetchall(), [(2.0, 4.0), (2.0, None), (None, None)])
