# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import json
from collections import Counter
from itertools import pairwise
from unittest.mock import patch

from freezegun import freeze_time

from odoo import Command
from odoo.exceptions import AccessError
from odoo.tests import new_test_user, tagged

from .common import EcrmCaseCommon

MONDAY_10 = "2026-11-23 10:00"  # a Monday: the shop's 9-17 calendar works


@tagged("post_install", "-at_install")
class TestCaseRouting(EcrmCaseCommon):
    """New cases go to a team by the routing rules (category, channel, RFM
    segment, company) and to a member of the team working now."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.members = [
            new_test_user(cls.env, login=f"ecrm_route_member_{n}", groups="ecrm_addon.group_ecrm_user")
            for n in range(3)
        ]
        cls.team = cls.env["crm.team"].create(
            {
                "name": "Returns desk",
                "company_id": cls.company.id,
                "ecrm_assignment": "round_robin",
                "member_ids": [Command.set([user.id for user in cls.members])],
            }
        )
        cls.vip_team = cls.env["crm.team"].create({"name": "VIP desk", "company_id": cls.company.id})
        cls.chat_team = cls.env["crm.team"].create({"name": "Chat desk", "company_id": cls.company.id})
        cls.resources = cls.env["resource.resource"].create(
            [
                {"name": user.name, "user_id": user.id, "calendar_id": cls.calendar.id, "company_id": cls.company.id}
                for user in cls.members
            ]
        )
        cls.champions = cls.env.ref("ecrm_addon.ecrm_rfm_segment_champions")
        cls.category_return = cls.env.ref("ecrm_addon.ecrm_case_category_return")
        Rule = cls.env["ecrm.case.routing.rule"]
        Rule.search([]).active = False
        cls.rules = Rule.create(
            [
                {"name": "Champions", "sequence": 1, "segment_ids": [Command.link(cls.champions.id)],
                 "team_id": cls.vip_team.id},
                {"name": "Returns", "sequence": 2, "category_ids": [Command.link(cls.category_return.id)],
                 "team_id": cls.team.id},
                {"name": "Chat", "sequence": 3, "channel": "chat", "team_id": cls.chat_team.id},
            ]
        )  # fmt: skip
        cls.champion = cls.env["res.partner"].create({"name": "Top buyer", "email": "top@example.com"})
        cls.env["ecrm.rfm.score"].create(
            {"partner_id": cls.champion.id, "company_id": cls.company.id, "segment_id": cls.champions.id}
        )

    def new_return(self, **vals):
        return self.new_case(category_id=self.category_return.id, **vals)

    def test_rules_route_by_segment_category_and_channel_in_sequence(self):
        with freeze_time(MONDAY_10):
            vip = self.new_return(partner_id=self.champion.id)
            returned = self.new_return()
            chat = self.new_case(channel="chat")
            other = self.new_case(channel="email")
        self.assertEqual(vip.team_id, self.vip_team)  # the first rule that matches wins
        self.assertEqual(returned.team_id, self.team)
        self.assertEqual(chat.team_id, self.chat_team)
        self.assertFalse(other.team_id)
        self.assertEqual(vip.ecrm_segment_id, self.champions)

    def test_segment_is_the_one_of_the_case_company(self):
        other = self.env["res.company"].create({"name": "Other routing shop"})
        self.env["ecrm.rfm.score"].search([("partner_id", "=", self.champion.id)]).company_id = other
        with freeze_time(MONDAY_10):
            case = self.new_return(partner_id=self.champion.id)
        self.assertEqual(case.team_id, self.team)
        self.assertFalse(case.ecrm_segment_id)

    def test_segments_are_read_once_for_the_routing_and_the_policies(self):
        """The customers' segments of cases created together route them and
        pick their SLA policies: read once for both."""
        champions_policy = self.env["ecrm.escalation.policy"].create(
            {
                "name": "Champions",
                "sequence": 1,
                "calendar_id": self.calendar.id,
                "response_hours": 1,
                "domain": f"[('ecrm_segment_id', '=', {self.champions.id})]",
            }
        )
        Case = type(self.env["ecrm.case"])
        original = Case._ecrm_read_segments
        reads = []

        def read_segments(cases, keys):
            reads.append(set(keys))
            return original(cases, keys)

        with freeze_time(MONDAY_10), patch.object(Case, "_ecrm_read_segments", read_segments):
            vip, plain = self.env["ecrm.case"].create(
                [
                    {"subject": "Champion", "partner_id": self.champion.id},
                    {"subject": "Other", "partner_id": self.customer.id},
                ]
            )
            self.env.flush_all()
        self.assertEqual(reads, [{(self.champion.id, self.company.id), (self.customer.id, self.company.id)}])
        self.assertEqual((vip.team_id, vip.policy_id), (self.vip_team, champions_policy))
        self.assertEqual((plain.team_id, plain.policy_id), (self.env["crm.team"], self.policy))

    def test_rule_of_another_company_does_not_route(self):
        other = self.env["res.company"].create({"name": "Other routing shop"})
        self.rules.active = False
        team = self.env["crm.team"].create({"name": "Elsewhere desk", "company_id": other.id})
        self.env["ecrm.case.routing.rule"].create({"name": "Elsewhere", "company_id": other.id, "team_id": team.id})
        with freeze_time(MONDAY_10):
            case = self.new_case(channel="chat")
        self.assertFalse(case.team_id)

    def test_given_assignee_or_team_is_kept(self):
        with freeze_time(MONDAY_10):
            mine = self.new_return(user_id=self.agent.id)
            chat_team = self.new_return(team_id=self.chat_team.id)
            in_team = self.new_case(channel="email", team_id=self.team.id)
        self.assertEqual((mine.team_id, mine.user_id), (self.env["crm.team"], self.agent))
        self.assertEqual((chat_team.team_id, chat_team.user_id), (self.chat_team, self.env["res.users"]))
        self.assertIn(in_team.user_id, self.team.member_ids)  # a team given: assigned inside it

    def test_round_robin_is_fair_over_100_cases(self):
        with freeze_time(MONDAY_10):
            batch = self.env["ecrm.case"].create(
                [{"subject": f"Return {n}", "category_id": self.category_return.id} for n in range(50)]
            )
            one_by_one = self.env["ecrm.case"]
            for n in range(50):
                one_by_one |= self.new_return(subject=f"Single return {n}")
        cases = batch | one_by_one
        counts = Counter(case.user_id.id for case in cases)
        self.assertEqual(sorted(counts), sorted(user.id for user in self.members))
        self.assertLessEqual(max(counts.values()) - min(counts.values()), 1)
        # each in turn: no member gets two cases in a row
        users = cases.sorted("id").mapped(lambda case: case.user_id.id)
        self.assertTrue(all(a != b for a, b in pairwise(users)))
        # the turn goes on after the last assignee (the team's counter, not a pointer row)
        order = sorted(user.id for user in self.members)
        with freeze_time(MONDAY_10):
            following = self.new_return(subject="Next return")
        self.assertEqual(following.user_id.id, order[(order.index(users[-1]) + 1) % len(order)])

    def test_only_members_working_now_get_cases(self):
        early = self.env["resource.calendar"].create(
            {
                "name": "Early 6-14",
                "tz": "UTC",
                "attendance_ids": [
                    Command.create(
                        {
                            "name": f"Day {d}",
                            "dayofweek": str(d),
                            "hour_from": 6,
                            "hour_to": 14,
                            "day_period": "morning",
                        }
                    )
                    for d in range(5)
                ],
            }
        )
        self.resources[2].calendar_id = early
        with freeze_time("2026-11-23 07:00"):
            before_nine = self.new_return() | self.new_return()
        self.assertEqual(before_nine.user_id, self.members[2])
        with freeze_time("2026-11-23 15:00"):
            afternoon = self.new_return() | self.new_return()
        self.assertEqual(afternoon.user_id, self.members[0] | self.members[1])
        with freeze_time("2026-11-22 10:00"):  # a Sunday: nobody works, the case waits unassigned
            sunday = self.new_return()
        self.assertEqual((sunday.team_id, sunday.user_id), (self.team, self.env["res.users"]))

    def test_member_on_time_off_gets_no_case(self):
        self.env["resource.calendar.leaves"].create(
            {
                "name": "Holidays",
                "resource_id": self.resources[0].id,
                "calendar_id": self.calendar.id,
                "date_from": "2026-11-23 00:00:00",
                "date_to": "2026-11-27 23:00:00",
            }
        )
        with freeze_time(MONDAY_10):
            cases = self.env["ecrm.case"].create(
                [{"subject": f"Return {n}", "category_id": self.category_return.id} for n in range(6)]
            )
        self.assertEqual(Counter(case.user_id.id for case in cases), {self.members[1].id: 3, self.members[2].id: 3})

    def test_public_holiday_leaves_cases_unassigned_on_the_overview(self):
        self.env["resource.calendar.leaves"].create(
            {
                "name": "Shop holiday",
                "calendar_id": self.calendar.id,
                "date_from": "2026-11-23 00:00:00",
                "date_to": "2026-11-23 23:00:00",
            }
        )
        with freeze_time(MONDAY_10):
            case = self.new_return()
            tile = self.env.ref("ecrm_addon.ecrm_dashboard_cases").with_user(self.agent)
            figures = json.loads(tile.kanban_dashboard)
            action = tile.action_open_unassigned_cases()
            unassigned = self.env["ecrm.case"].with_user(self.agent).search(action["domain"])
        self.assertFalse(case.user_id)
        self.assertIn(case, unassigned)
        self.assertEqual(figures["unassigned"], len(unassigned))
        self.assertFalse(unassigned.filtered("user_id") or unassigned.filtered("is_closed"))

    def test_member_without_resource_follows_the_company_calendar(self):
        self.resources.unlink()
        self.company.resource_calendar_id = self.calendar
        with freeze_time(MONDAY_10):
            working = self.new_return()
        with freeze_time("2026-11-23 18:00"):
            evening = self.new_return()
        self.assertIn(working.user_id, self.team.member_ids)
        self.assertFalse(evening.user_id)

    def test_least_open_cases_evens_the_load(self):
        self.team.ecrm_assignment = "least_open"
        with freeze_time(MONDAY_10):
            self.env["ecrm.case"].create(
                [{"subject": "Old", "user_id": self.members[0].id, "team_id": self.team.id}] * 3
                + [{"subject": "Old", "user_id": self.members[1].id, "team_id": self.team.id}]
            )
            self.env["ecrm.case"].create(
                [{"subject": "Solved", "user_id": self.members[2].id, "stage_id": self.stage_solved.id}] * 4
            )
            new = self.env["ecrm.case"].create([{"subject": "New", "category_id": self.category_return.id}] * 5)
        self.assertEqual(Counter(case.user_id.id for case in new), {self.members[1].id: 2, self.members[2].id: 3})
        self.assertEqual(new.sorted("id")[0].user_id, self.members[2])  # the least loaded first

    def test_manual_team_leaves_cases_unassigned(self):
        self.team.ecrm_assignment = "manual"
        with freeze_time(MONDAY_10):
            case = self.new_return()
        self.assertEqual((case.team_id, case.user_id), (self.team, self.env["res.users"]))

    def test_one_routing_pass_whatever_the_number_of_cases(self):
        Case = self.env["ecrm.case"]
        counts = []
        with freeze_time(MONDAY_10):
            for size in (1, 2, 40):  # the first one warms the caches
                vals_list = [{"subject": "Routed", "category_id": self.category_return.id} for _n in range(size)]
                self.env.invalidate_all()
                before = self.env.cr.sql_log_count
                Case._ecrm_route(vals_list)
                counts.append(self.env.cr.sql_log_count - before)
                self.assertTrue(all(vals.get("user_id") for vals in vals_list))
        self.assertEqual(counts[1], counts[2])

    def test_agents_read_routing_rules_only_managers_configure_them(self):
        Rule = self.env["ecrm.case.routing.rule"]
        self.assertEqual(Rule.with_user(self.agent).search([("id", "in", self.rules.ids)]), self.rules)
        with self.assertRaises(AccessError):
            Rule.with_user(self.agent).create({"name": "Mine", "team_id": self.team.id})
        Rule.with_user(self.manager).create({"name": "Managed", "team_id": self.team.id})

    def test_manager_of_another_company_does_not_see_the_rules(self):
        other = self.env["res.company"].create({"name": "Other routing shop"})
        outsider = new_test_user(
            self.env,
            login="ecrm_route_outsider",
            groups="ecrm_addon.group_ecrm_manager",
            company_id=other.id,
            company_ids=[Command.set([other.id])],
        )
        Rule = self.env["ecrm.case.routing.rule"].with_user(outsider)
        self.assertFalse(Rule.search([("id", "in", self.rules.ids)]))
        with self.assertRaises(AccessError):
            self.rules[0].with_user(outsider).name = "Taken over"

    def test_round_robin_routing_leaves_the_team_row_free(self):
        team = self.team  # round-robin
        self.env.flush_all()

        def row_version():
            # xmin: the transaction that last wrote the row; xmax: the one that locked it
            self.env.cr.execute("SELECT xmin::text, xmax::text FROM crm_team WHERE id = %s", [team.id])
            return self.env.cr.fetchone()

        self.env.cr.execute("SAVEPOINT routing")  # a new subtransaction: a write or lock now shows
        before = row_version()
        with freeze_time(MONDAY_10):
            case = self.new_return()
        self.env.flush_all()
        self.assertIn(case.user_id, team.member_ids)
        # the turn comes from the team's sequence: concurrent routings to the
        # team neither wait for each other nor conflict
        self.assertEqual(row_version(), before)
        self.env.cr.execute("RELEASE SAVEPOINT routing")
