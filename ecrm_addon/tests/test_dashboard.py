# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import json
from datetime import datetime

from freezegun import freeze_time

from odoo.exceptions import AccessError
from odoo.tests import new_test_user, tagged

from .common import EcrmCaseCommon

NOW = "2026-11-23 12:00"


@tagged("post_install", "-at_install")
class TestDashboard(EcrmCaseCommon):
    """The e-CRM overview: tiles with figures and links, as the user's groups
    and companies allow, at a cost that does not grow with the data."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.marketer = new_test_user(
            cls.env,
            login="ecrm_dash_marketer",
            groups="ecrm_addon.group_ecrm_user,mass_mailing.group_mass_mailing_user",
        )
        cls.plain = new_test_user(cls.env, login="ecrm_dash_plain", groups="base.group_user")
        cls.other_company = cls.env["res.company"].create({"name": "Other Shop"})
        cls.Dashboard = cls.env["ecrm.dashboard"]
        kinds = ("cases", "rfm", "duplicates", "pressure")
        cls.tiles = {kind: cls.env.ref(f"ecrm_addon.ecrm_dashboard_{kind}") for kind in kinds}
        # Other data of the database (demo shop) must not disturb the counts.
        cls.env["ecrm.case"].search([]).write({"company_id": cls.other_company.id})
        cls.env["ecrm.rfm.score"].search([]).unlink()

    def _figures(self, kind, user):
        with freeze_time(NOW):
            tile = self.tiles[kind].with_user(user)
            return json.loads(tile.kanban_dashboard)

    def _cases(self):
        with freeze_time("2026-11-16 09:00"):  # a week ago: deadlines long past
            late, answered_late, late_mine = (
                self.new_case(subject="Late"),
                self.new_case(subject="Late answered"),
                self.new_case(subject="Late mine", user_id=self.agent.id),
            )
            answered_late.first_response_date = datetime(2026, 11, 16, 10, 0)
            solved_in_time = self.new_case(subject="Solved in time")
            solved_in_time.stage_id = self.stage_solved
        with freeze_time("2026-11-23 11:00"):
            fresh = self.new_case(subject="Fresh", user_id=self.agent.id)
            late.stage_id = self.stage_progress
        return late, answered_late, late_mine, solved_in_time, fresh

    def test_landing_of_the_ecrm_menu_is_the_overview(self):
        root = self.env.ref("ecrm_addon.ecrm_menu_root")
        menus = self.env["ir.ui.menu"].with_user(self.agent).search([("parent_id", "=", root.id)], order="sequence")
        self.assertEqual(menus[0], self.env.ref("ecrm_addon.ecrm_dashboard_menu"))
        self.assertEqual(menus[0].action, self.env.ref("ecrm_addon.ecrm_dashboard_action"))

    def test_overview_kanban_opens_for_an_agent(self):
        views = self.Dashboard.with_user(self.agent).get_views([(False, "kanban")])
        self.assertIn("action_open_overdue_cases", views["views"]["kanban"]["arch"])
        self.assertNotIn("action_scan_duplicates", views["views"]["kanban"]["arch"])  # manager button
        manager_arch = self.Dashboard.with_user(self.manager).get_views([(False, "kanban")])["views"]["kanban"]["arch"]
        self.assertIn("action_scan_duplicates", manager_arch)

    def test_cases_tile_counts_open_overdue_and_mine(self):
        self._cases()
        figures = self._figures("cases", self.agent)
        self.assertEqual((figures["open"], figures["overdue"], figures["mine"]), (4, 3, 2))

    def test_cases_tile_sla_compliance_of_the_last_30_days(self):
        self._cases()
        figures = self._figures("cases", self.agent)
        # decided resolution targets: solved in time (met), three open past deadline (breached)
        self.assertEqual((figures["sla_cases"], figures["sla"]), (4, 25))

    def test_overdue_link_opens_exactly_the_overdue_cases(self):
        late, answered_late, late_mine, _solved, _fresh = self._cases()
        with freeze_time(NOW):
            action = self.tiles["cases"].with_user(self.agent).action_open_overdue_cases()
            found = self.env["ecrm.case"].with_user(self.agent).search(action["domain"])
        self.assertEqual(found, late | answered_late | late_mine)
        self.assertEqual(action["res_model"], "ecrm.case")

    def test_cases_of_another_company_are_not_counted(self):
        self._cases()
        self.env["ecrm.case"].create(
            {"subject": "Elsewhere", "partner_id": self.customer.id, "company_id": self.other_company.id}
        )
        self.assertEqual(self._figures("cases", self.agent)["open"], 4)

    def test_rfm_tile_counts_customers_and_revenue_per_segment(self):
        champions = self.env.ref("ecrm_addon.ecrm_rfm_segment_champions")
        lost = self.env.ref("ecrm_addon.ecrm_rfm_segment_lost")
        partners = self.env["res.partner"].create([{"name": f"RFM dash {n}"} for n in range(4)])
        Score = self.env["ecrm.rfm.score"]
        rows = [(champions, 900, self.company), (champions, 600, self.company), (lost, 50, self.company)]
        rows.append((lost, 0, self.other_company))
        Score.create(
            [
                {"partner_id": partner.id, "company_id": company.id, "segment_id": segment.id, "monetary": amount}
                for partner, (segment, amount, company) in zip(partners, rows, strict=True)
            ]
        )
        figures = self._figures("rfm", self.agent)
        rows = {row["name"]: row["customers"] for row in figures["segments"]}
        self.assertEqual(rows, {"Champions": 2, "Lost": 1})
        self.assertEqual(figures["customers"], 3)
        self.assertIn("1,550.00", figures["revenue"])
        graph = json.loads(self.tiles["rfm"].with_user(self.agent).kanban_dashboard_graph)
        self.assertEqual([v["value"] for v in graph[0]["values"]], [2, 1])
        self.assertEqual(figures["status"], "")  # the job state is the managers' business

    def test_rfm_tile_shows_the_refresh_state_to_managers(self):
        self.tiles["rfm"].with_user(self.manager).action_ecrm_compute_rfm()
        self.assertTrue(self._figures("rfm", self.manager)["status"].startswith("Queued"))

    def test_duplicates_tile_counts_groups_to_review(self):
        self.env["ecrm.duplicate.group"].search([]).unlink()
        self.env["res.partner"].create(
            [{"name": "Dup A", "email": "dup.dash@shop.example"}, {"name": "Dup B", "email": "DUP.dash@shop.example"}]
        )
        self.env["ecrm.duplicate.group"]._ecrm_scan()
        open_groups = self.env["ecrm.duplicate.group"].search_count([("state", "=", "open")])
        self.assertGreaterEqual(open_groups, 1)
        self.assertEqual(self._figures("duplicates", self.agent)["to_review"], open_groups)
        action = self.tiles["duplicates"].with_user(self.agent).action_open_duplicates()
        self.assertEqual((action["res_model"], action["context"]), ("ecrm.duplicate.group", {"search_default_open": 1}))

    def test_pressure_tile_counts_exclusions_per_recent_mailing(self):
        # start from no exclusion (the demo's newsletter has some of its own)
        self.env["mailing.trace"].search([("failure_type", "=", "ecrm_pressure")]).unlink()
        mailing = self.env["mailing.mailing"].create(
            {"subject": "Dash sale", "mailing_model_id": self.env["ir.model"]._get_id("res.partner")}
        )
        with freeze_time("2026-11-20 10:00"):
            self.env["mailing.trace"].create(
                [
                    {
                        "mass_mailing_id": mailing.id,
                        "model": "res.partner",
                        "res_id": self.customer.id,
                        "email": f"dash{n}@shop.example",
                        "trace_status": "cancel",
                        "failure_type": "ecrm_pressure",
                    }
                    for n in range(3)
                ]
            )
        figures = self._figures("pressure", self.marketer)
        self.assertEqual(figures["excluded"], 3)
        self.assertEqual(figures["mailings"], [{"name": "Dash sale", "excluded": 3}])

    def test_pressure_tile_hidden_from_agents_without_mailing_rights(self):
        seen = self.Dashboard.with_user(self.agent).search([])
        self.assertNotIn(self.tiles["pressure"], seen)
        self.assertIn(self.tiles["cases"], seen)
        self.assertIn(self.tiles["pressure"], self.Dashboard.with_user(self.marketer).search([]))

    def test_user_without_ecrm_group_cannot_open_the_overview(self):
        with self.assertRaises(AccessError):
            self.Dashboard.with_user(self.plain).search([])

    def test_overview_costs_the_same_queries_for_few_and_many_records(self):
        tiles = self.Dashboard.with_user(self.marketer).search([])
        self._cases()
        with freeze_time(NOW):
            tiles.mapped("kanban_dashboard")  # warm the caches (access rules, fields)
        self.env.invalidate_all()
        start = self.env.cr.sql_log_count
        with freeze_time(NOW):
            tiles.mapped("kanban_dashboard")
        few = self.env.cr.sql_log_count - start
        segment = self.env.ref("ecrm_addon.ecrm_rfm_segment_champions")
        partners = self.env["res.partner"].create([{"name": f"Many {n}"} for n in range(60)])
        self.env["ecrm.rfm.score"].create(
            [{"partner_id": p.id, "company_id": self.company.id, "segment_id": segment.id} for p in partners]
        )
        with freeze_time("2026-11-16 09:00"):
            self.env["ecrm.case"].create([{"subject": f"Many {n}", "partner_id": p.id} for n, p in enumerate(partners)])
        self.env.flush_all()
        self.env.invalidate_all()
        with self.assertQueryCount(few), freeze_time(NOW):
            tiles.mapped("kanban_dashboard")
        self.assertEqual(self._figures("cases", self.marketer)["open"], 64)
