# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from datetime import timedelta

from odoo import Command, fields
from odoo.tests import TransactionCase, freeze_time, tagged

from ..models.ecrm_demo import DEMO_SEED
from ..models.ecrm_interaction import CHANNELS

# Another shop than the installed one (its own customers, phones and emails).
SEED = DEMO_SEED + 365


@tagged("post_install", "-at_install")
class TestDemoStory(TransactionCase):
    """The demo tells the whole story on any day it is installed.

    Two install dates a year apart. The first is the one the suite's database
    was installed on (with demo data, like every run of the suite): its demo
    is checked as it is, whatever day the suite runs (and the suite is also run
    with the clock moved, ``ECRM_FAKETIME``). The second is a year later: the
    demo loader (the functions demo/ecrm_demo.xml calls at install, unchanged)
    runs again with the clock frozen a year ahead, in a fresh company with its
    own chart of accounts, warehouse and SLA policies, so that the company's
    orders, invoices, cases, mailings and RFM scores are only the ones that
    install made. On both, every check is a query at that moment: cases
    overdue, at risk and on time, escalations fired, blocked and deferred
    recipients, 8 segments of 5+ customers, the portal user's cases, Spanish
    and the users. A capability without data fails the test.
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        if not cls.env.ref("ecrm_addon.demo_product_running_shoes", raise_if_not_found=False):
            cls.skipTest(cls, "database installed without demo data")

    def _install_demo_on(self, moment):
        """Run the demo loader as an install on ``moment`` would, in a new company."""
        with freeze_time(moment):
            # with an address, as a shop has: the customer emails go out from it
            company = self.env["res.company"].create(
                {"name": f"Demo shop {moment:%Y-%m-%d}", "email": f"shop-{moment:%Y%m%d}@example.com"}
            )
            self.env["account.chart.template"].try_loading("generic_coa", company, install_demo=False)
            self.env.user.write({"company_ids": [Command.link(company.id)], "company_id": company.id})
            # the shop's staff work in it too
            (self.env.ref("ecrm_addon.demo_user_agent") | self.env.ref("ecrm_addon.demo_user_manager")).write(
                {"company_ids": [Command.link(company.id)]}
            )
            self.env = self.env(context=dict(self.env.context, allowed_company_ids=[company.id]))
            Demo = self.env["ecrm.demo"]
            self.assertTrue(Demo._activate_languages())
            self.assertTrue(Demo._generate_shop_history(seed=SEED))
            self.assertTrue(Demo._generate_case_history(seed=SEED))
            self.assertTrue(Demo._generate_marketing(seed=SEED))
            self.env.flush_all()
        return company

    def _assert_whole_story(self, company):
        self._assert_languages_and_users()
        self._assert_shop_history(company)
        self._assert_cases(company)
        self._assert_routing(company)
        self._assert_pressure(company)
        self._assert_customers(company)

    def test_demo_as_installed_today(self):
        self._assert_whole_story(self.env.company)

    def test_demo_installed_a_year_later(self):
        moment = fields.Datetime.now().replace(microsecond=0) + timedelta(days=365)
        company = self._install_demo_on(moment)
        with freeze_time(moment + timedelta(minutes=5)):
            self._assert_whole_story(company)

    def _assert_languages_and_users(self):
        self.assertTrue(self.env["res.lang"]._lang_get("es_ES").active, "Spanish is active")
        self.assertEqual(self.env.ref("base.module_sale").with_context(lang="es_ES").shortdesc, "Ventas")
        self.assertEqual(self.env.ref("base.user_admin").lang, "en_US")
        agent = self.env.ref("ecrm_addon.demo_user_agent")
        manager = self.env.ref("ecrm_addon.demo_user_manager")
        self.assertEqual((agent.login, agent.lang), ("agent", "es_ES"))
        self.assertEqual((manager.login, manager.lang), ("manager", "es_ES"))
        self.assertTrue(agent.has_group("ecrm_addon.group_ecrm_user"))
        self.assertFalse(agent.has_group("ecrm_addon.group_ecrm_manager"))
        self.assertTrue(manager.has_group("ecrm_addon.group_ecrm_manager"))

    def _assert_shop_history(self, company):
        today = fields.Date.context_today(self.env["res.partner"])
        orders = self.env["sale.order"].search([("company_id", "=", company.id), ("state", "=", "sale")])
        customers = orders.partner_id.commercial_partner_id
        self.assertGreaterEqual(len(customers), 180, "about 200 customers bought")
        dates = orders.mapped("date_order")
        self.assertLessEqual(max(dates), fields.Datetime.now(), "no order in the future")
        self.assertGreater((today - min(dates).date()).days, 600, "two years of orders")
        moves = self.env["account.move"].search([("company_id", "=", company.id), ("state", "=", "posted")])
        invoices = moves.filtered(lambda m: m.move_type == "out_invoice")
        self.assertTrue(invoices.filtered(lambda m: m.payment_state in ("paid", "in_payment")), "older ones paid")
        self.assertTrue(invoices.filtered(lambda m: m.payment_state == "not_paid"), "recent ones to pay")
        self.assertTrue(moves.filtered(lambda m: m.move_type == "out_refund"), "refunds")
        pickings = orders.picking_ids
        self.assertTrue(pickings.filtered(lambda p: p.state == "done"), "deliveries done")
        late = pickings.filtered("ecrm_late_case_id")
        self.assertEqual(len(late), 1, "a late delivery with its proactive case")
        self.assertLess(late.scheduled_date, fields.Datetime.now())

    def _assert_cases(self, company):
        now = fields.Datetime.now()
        Case = self.env["ecrm.case"]
        cases = Case.search([("company_id", "=", company.id)])
        overdue = Case.search([*self.env["ecrm.dashboard"]._ecrm_overdue_domain(), ("company_id", "=", company.id)])
        running = cases.filtered(lambda c: not c.is_closed and c.sla_status == "running") - overdue
        warned = running.filtered(
            lambda c: c.escalation_ids.filtered(lambda e: e.state == "done" and e.level_id.delay_percent < 0)
        )
        on_time = running.filtered(lambda c: not c.escalation_ids)
        self.assertGreaterEqual(len(overdue), 3, "cases overdue today")
        self.assertGreaterEqual(len(warned), 2, "cases at risk today (the 75 % warning fired)")
        self.assertGreaterEqual(len(on_time), 3, "cases on time today")
        # solved cases rated by their customers: CSAT has figures, happy and not
        rated = self.env["rating.rating"].search(
            [("res_model", "=", "ecrm.case"), ("res_id", "in", cases.ids), ("consumed", "=", True)]
        )
        self.assertGreaterEqual(len(rated), 5, "rated cases")
        self.assertTrue(rated.filtered(lambda r: r.rating >= 4) and rated.filtered(lambda r: r.rating < 4))
        self.assertTrue(all(c.resolution_deadline > now for c in warned | on_time))
        fired = self.env["ecrm.case.escalation"].search([("company_id", "=", company.id), ("state", "=", "done")])
        self.assertTrue(fired.filtered(lambda e: e.level_id.notify_team_leader), "breach escalations fired")
        self.assertTrue(all(e.fired_at <= now for e in fired))
        self.assertTrue(cases.policy_id, "SLA policies apply")
        self.assertGreaterEqual(len(set(cases.mapped("channel"))), 6, "cases from many channels")
        # the portal user: orders, an open case with a conversation, a solved one to rate
        portal = self.env.ref("base.demo_user0").partner_id
        orders = self.env["sale.order"].search([("partner_id", "=", portal.id), ("company_id", "=", company.id)])
        self.assertTrue(orders, "the portal user's orders")
        mine = cases.filtered(lambda c: c.partner_id == portal)
        open_case = mine.filtered(lambda c: not c.is_closed)
        self.assertTrue(open_case.message_ids.filtered(lambda m: m.author_id == portal and m.message_type == "comment"))
        solved = mine.filtered("is_closed")
        rating = self.env["rating.rating"].search([("res_model", "=", "ecrm.case"), ("res_id", "in", solved.ids)])
        self.assertTrue(rating and not rating.consumed, "a rating request to answer")

    def _assert_routing(self, company):
        """The cases were routed as they were created: most open ones went to
        the service team's members in turn, the questions (no rule) wait unassigned."""
        team = self.env.ref("ecrm_addon.demo_routing_rule_returns").team_id
        self.assertEqual(team.ecrm_assignment, "round_robin")
        staff = self.env.ref("ecrm_addon.demo_user_agent") | self.env.ref("ecrm_addon.demo_user_manager")
        self.assertTrue(staff <= team.member_ids)
        open_cases = self.env["ecrm.case"].search([("company_id", "=", company.id), ("is_closed", "=", False)])
        routed = open_cases.filtered(lambda c: c.team_id == team and c.user_id in team.member_ids)
        self.assertGreater(len(routed), len(open_cases) / 2, "most open cases routed to the team's members")
        self.assertTrue(staff <= routed.user_id, "the agent and the manager in turn")
        unassigned = open_cases.filtered(lambda c: not c.user_id)
        self.assertTrue(unassigned, "cases left for the Overview's Unassigned tile")
        self.assertIn(self.env.ref("ecrm_addon.ecrm_case_category_information"), unassigned.category_id)

    def _assert_pressure(self, company):
        self.assertTrue(self.env.ref("ecrm_addon.ecrm_pressure_rule_email_default").active)
        newsletter = self.env.ref("ecrm_addon.demo_mailing_newsletter")
        self.assertEqual(newsletter.state, "done")
        self.assertEqual(newsletter._ecrm_pressure_company(), company)
        traces = newsletter.mailing_trace_ids
        self.assertGreaterEqual(len(traces.filtered(lambda t: t.failure_type == "ecrm_pressure")), 5, "blocked")
        self.assertGreater(len(traces.filtered(lambda t: t.trace_status == "sent")), 100, "sent")
        self.assertGreaterEqual(newsletter.ecrm_pressure_deferral_count, 5, "deferred")

    def _assert_customers(self, company):
        segments = {
            segment.code: count
            for segment, count in self.env["ecrm.rfm.score"]._read_group(
                [("company_id", "=", company.id), ("segment_id", "!=", False)], ["segment_id"], ["__count"]
            )
        }
        full = sorted(code for code, count in segments.items() if count >= 5)
        self.assertGreaterEqual(len(full), 8, f"8 segments of 5+ customers: {segments}")
        values = self.env["ecrm.clv.score"].search([("company_id", "=", company.id)])
        self.assertGreaterEqual(len(values.filtered(lambda v: v.expected_value > 0)), 50, "customer value computed")
        groups = self.env["ecrm.duplicate.group"].search([])
        self.assertTrue(groups.filtered(lambda g: g.state == "open"), "duplicates to review")
        self.assertEqual(self.env.ref("ecrm_addon.demo_duplicate_group_merged").state, "merged")
        touches = self.env["ecrm.interaction"].search([("company_id", "=", company.id)])
        self.assertEqual(set(touches.mapped("channel")), {code for code, _label in CHANNELS}, "every channel")
