# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from freezegun import freeze_time

from odoo import Command
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import new_test_user, tagged

from .common import EcrmCaseCommon


class CompanyRightsCommon(EcrmCaseCommon):
    """Company A (the test company) and B; a Sales Administrator (so an e-CRM
    manager) of A only, an agent of B only, a user of both."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company_a = cls.company
        cls.company_b = cls.env["res.company"].create({"name": "Rights Shop B"})
        cls.sales_admin_a = new_test_user(
            cls.env,
            login="rights_sales_admin_a",
            groups="sales_team.group_sale_manager,base.group_partner_manager",
            company_id=cls.company_a.id,
            company_ids=[Command.set(cls.company_a.ids)],
        )
        cls.settings_admin = new_test_user(
            cls.env,
            login="rights_settings_admin",
            groups="ecrm_addon.group_ecrm_manager,base.group_system",
            company_id=cls.company_a.id,
            company_ids=[Command.set((cls.company_a | cls.company_b).ids)],
        )
        cls.agent_b = new_test_user(
            cls.env,
            login="rights_agent_b",
            groups="ecrm_addon.group_ecrm_user",
            company_id=cls.company_b.id,
            company_ids=[Command.set(cls.company_b.ids)],
        )
        cls.agent_ab = new_test_user(
            cls.env,
            login="rights_agent_ab",
            groups="ecrm_addon.group_ecrm_manager",
            company_id=cls.company_a.id,
            company_ids=[Command.set((cls.company_a | cls.company_b).ids)],
        )


@tagged("post_install", "-at_install")
class TestSharedConfigurationRights(CompanyRightsCommon):
    """SLA policies and pressure rules of no company cover every company:
    only Settings administrators configure them."""

    def test_sales_admin_cannot_create_a_policy_of_no_company(self):
        Policy = self.env["ecrm.escalation.policy"].with_user(self.sales_admin_a)
        with self.assertRaises(ValidationError), self.cr.savepoint():
            Policy.create({"name": "Everyone", "company_id": False, "calendar_id": self.calendar.id})
        policy = Policy.create({"name": "Shop A", "calendar_id": self.calendar.id})
        self.assertEqual(policy.company_id, self.company_a)
        with self.assertRaises(ValidationError):
            policy.company_id = False

    def test_sales_admin_cannot_configure_another_company_nor_shared_policies(self):
        shared = self.env["ecrm.escalation.policy"].create(
            {"name": "Shared", "company_id": False, "calendar_id": self.calendar.id}
        )
        Policy = self.env["ecrm.escalation.policy"].with_user(self.sales_admin_a)
        with self.assertRaises(AccessError), self.cr.savepoint():
            Policy.create({"name": "B", "company_id": self.company_b.id, "calendar_id": self.calendar.id})
        with self.assertRaises(AccessError), self.cr.savepoint():
            shared.with_user(self.sales_admin_a).response_hours = 1
        with self.assertRaises(AccessError), self.cr.savepoint():
            self.env["ecrm.escalation.level"].with_user(self.sales_admin_a).create(
                {"name": "Mail B's customers", "policy_id": shared.id}
            )
        # still read, to cover the company's cases
        self.assertEqual(shared.with_user(self.sales_admin_a).name, "Shared")

    def test_settings_admin_configures_shared_policies(self):
        policy = (
            self.env["ecrm.escalation.policy"]
            .with_user(self.settings_admin)
            .create({"name": "Everyone", "company_id": False, "calendar_id": self.calendar.id})
        )
        policy.write({"response_hours": 2, "level_ids": [Command.create({"name": "Warn"})]})
        self.assertFalse(policy.level_ids.company_id)

    def test_sales_admin_cannot_create_or_edit_a_shared_pressure_rule(self):
        Rule = self.env["ecrm.pressure.rule"].with_user(self.sales_admin_a)
        with self.assertRaises(ValidationError), self.cr.savepoint():
            Rule.create({"name": "Everyone", "company_id": False, "max_count": 1})
        with self.assertRaises(AccessError), self.cr.savepoint():
            Rule.create({"name": "B", "company_id": self.company_b.id, "max_count": 1})
        shipped = self.env.ref("ecrm_addon.ecrm_pressure_rule_email_default")
        self.assertFalse(shipped.company_id)  # the shipped shared rules stay valid
        with self.assertRaises(AccessError), self.cr.savepoint():
            shipped.with_user(self.sales_admin_a).active = True
        self.assertEqual(Rule.create({"name": "A", "max_count": 1}).company_id, self.company_a)
        shipped.with_user(self.settings_admin).active = True


@tagged("post_install", "-at_install")
class TestEscalationCompany(CompanyRightsCommon):
    """A level fires in the case's company and never reaches users outside it."""

    def test_level_notifies_and_reassigns_only_users_of_the_case_company(self):
        agent_a = new_test_user(
            self.env,
            login="rights_agent_a",
            groups="ecrm_addon.group_ecrm_user",
            company_id=self.company_a.id,
            company_ids=[Command.set(self.company_a.ids)],
        )
        policy = self.env["ecrm.escalation.policy"].create(
            {
                "name": "B policy",
                "sequence": 1,
                "company_id": self.company_b.id,
                "calendar_id": self.calendar.id,
                "response_hours": 4,
                "level_ids": [
                    Command.create(
                        {
                            "name": "Late",
                            "notify_user_ids": [Command.set((agent_a | self.agent_b).ids)],
                            "reassign_user_id": agent_a.id,
                        }
                    )
                ],
            }
        )
        with freeze_time("2026-11-23 09:00"):
            case = self.new_case(company_id=self.company_b.id, user_id=self.agent_b.id)
            self.assertEqual(case.policy_id, policy)
        with freeze_time("2026-11-23 14:00"):
            self.env["ecrm.case"]._cron_ecrm_escalate()
            self.assertEqual(case.escalation_ids.state, "done")
            todos = self.env["mail.activity"].search([("res_model", "=", "ecrm.case"), ("res_id", "=", case.id)])
            self.assertEqual(todos.user_id, self.agent_b)
            self.assertEqual(case.user_id, self.agent_b)
            self.assertNotIn(agent_a.partner_id, case.message_ids.partner_ids)

    def test_level_fires_in_the_case_company(self):
        self.env["ecrm.escalation.policy"].create(
            {
                "name": "B policy",
                "sequence": 1,
                "company_id": self.company_b.id,
                "calendar_id": self.calendar.id,
                "response_hours": 4,
                "level_ids": [Command.create({"name": "Late", "notify_user_ids": [Command.set(self.agent_b.ids)]})],
            }
        )
        Level = type(self.env["ecrm.escalation.level"])
        fire, companies = Level._ecrm_fire, []

        def recording_fire(level, case):
            companies.append((level.env.company, case.env.company))
            return fire(level, case)

        self.patch(Level, "_ecrm_fire", recording_fire)
        with freeze_time("2026-11-23 09:00"):
            case = self.new_case(company_id=self.company_b.id, user_id=self.agent_b.id)
        self.assertNotEqual(self.env.company, self.company_b)  # the cron runs in another company
        with freeze_time("2026-11-23 14:00"):
            self.env["ecrm.case"]._cron_ecrm_escalate()
        self.assertEqual(companies, [(self.company_b, self.company_b)])
        self.assertEqual(case.escalation_ids.state, "done")


@tagged("post_install", "-at_install")
class TestCaseIdentityCompany(CompanyRightsCommon):
    """A case is matched to a partner of its company or a shared one, never to
    another company's nor to an internal user's."""

    def test_case_is_not_matched_to_another_company_partner(self):
        partner_b = self.env["res.partner"].create(
            {"name": "B's customer", "email": "same@example.com", "company_id": self.company_b.id}
        )
        Case = self.env["ecrm.case"]
        self.assertEqual(
            Case.with_company(self.company_b)._ecrm_find_or_create_partner(email="same@example.com"), partner_b
        )
        partner = Case.with_company(self.company_a)._ecrm_find_or_create_partner(email="same@example.com")
        self.assertNotEqual(partner, partner_b)
        self.assertFalse(partner.company_id - self.company_a)

    def test_mail_to_the_alias_is_not_matched_to_an_internal_user(self):
        agent_partner = self.agent.partner_id  # agent@shop.example
        case = self.env["ecrm.case"].message_new(
            {"email_from": "Someone <agent@shop.example>", "subject": "Hello", "body": "<p>Hi</p>"}
        )
        self.assertTrue(case.partner_id)
        self.assertNotEqual(case.partner_id, agent_partner)
        self.assertFalse(case.partner_id.user_ids)


@tagged("post_install", "-at_install")
class TestDuplicateGroupCompanies(CompanyRightsCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["res.partner"].create(
            [
                {"name": "Twin A", "email": "twin.rights@example.com", "company_id": cls.company_a.id},
                {"name": "Twin B", "email": "twin.rights@example.com", "company_id": cls.company_b.id},
            ]
        )
        cls.env["ecrm.duplicate.group"]._ecrm_scan()
        cls.group = cls.env["ecrm.duplicate.group"].search([("key", "=", "twin.rights@example.com")])

    def test_group_across_companies_is_read_only_by_users_of_both(self):
        self.assertEqual(self.group.company_ids, self.company_a | self.company_b)
        for user in (self.sales_admin_a, self.agent_b):
            with self.subTest(user=user.login):
                Group = self.env["ecrm.duplicate.group"].with_user(user)
                self.assertFalse(Group.search([("id", "=", self.group.id)]))
                with self.assertRaises(AccessError):
                    self.group.with_user(user).read(["key"])
        both = (
            self.env["ecrm.duplicate.group"]
            .with_user(self.agent_ab)
            .with_context(allowed_company_ids=(self.company_a | self.company_b).ids)
        )
        self.assertEqual(both.search([("id", "=", self.group.id)]), self.group)

    def test_manager_cannot_create_or_edit_groups_over_rpc(self):
        group = self.group.with_user(self.agent_ab).with_context(
            allowed_company_ids=(self.company_a | self.company_b).ids
        )
        with self.assertRaises(AccessError), self.cr.savepoint():
            group.write({"key": "someone.else@example.com"})
        with self.assertRaises(AccessError), self.cr.savepoint():
            group.create({"key_type": "email", "key": "x@example.com", "fingerprint": "email:x@example.com:1,2"})
        group.action_dismiss()  # the review buttons still work
        self.assertEqual((group.state, group.review_user_id), ("dismissed", self.agent_ab))


@tagged("post_install", "-at_install")
class TestActivityInteractionCompany(CompanyRightsCommon):
    def test_done_call_is_logged_under_the_document_company(self):
        case = self.new_case(company_id=self.company_b.id)
        activity = case.activity_schedule("mail.mail_activity_data_call", user_id=self.agent_ab.id, summary="Call")
        # the user works in company A (their current one) on B's case
        activity.with_user(self.agent_ab).with_context(
            allowed_company_ids=(self.company_a | self.company_b).ids
        ).action_feedback(feedback="Called")
        log = self.env["ecrm.interaction"].search([("res_model", "=", "ecrm.case"), ("res_id", "=", case.id)])
        self.assertEqual(log.filtered(lambda i: i.name == "Call").company_id, self.company_b)


@tagged("post_install", "-at_install")
class TestMergeRights(CompanyRightsCommon):
    def merge(self, partners, user, dst):
        wizard = (
            self.env["base.partner.merge.automatic.wizard"]
            .with_user(user)
            .with_context(active_model="res.partner", active_ids=partners.ids)
            .create({"dst_partner_id": dst.id})
        )
        wizard.action_merge()

    def test_partner_of_a_user_is_not_merged_by_a_manager(self):
        portal = new_test_user(self.env, login="rights_portal", groups="base.group_portal", email="p@example.com")
        twin = self.env["res.partner"].create({"name": "Portal twin", "email": "p@example.com"})
        with self.assertRaises(UserError):
            self.merge(portal.partner_id | twin, self.sales_admin_a, twin)
        self.assertTrue(portal.partner_id.exists())
        self.assertEqual(portal.partner_id.user_ids, portal)

    def test_merge_record_counts_what_the_user_may_read(self):
        source, kept = self.env["res.partner"].create(
            [{"name": "Old", "email": "merge.rights@example.com"}, {"name": "New", "email": "merge.rights@example.com"}]
        )
        product = self.env["product.product"].create({"name": "Mug", "type": "consu", "list_price": 10})
        self.env["sale.order"].with_company(self.company_b).create(
            {
                "partner_id": source.id,
                "company_id": self.company_b.id,
                "order_line": [Command.create({"product_id": product.id, "product_uom_qty": 1})],
            }
        )
        self.merge(source | kept, self.sales_admin_a, kept)
        record = kept.message_ids.filtered(lambda m: "Merged by" in (m.body or ""))
        self.assertIn("Orders: 0", record.body)
