# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import json
from datetime import date, timedelta

from odoo import Command, fields
from odoo.exceptions import AccessError
from odoo.tests import HttpCase, TransactionCase, new_test_user, tagged
from odoo.tools import mute_logger

# Models of the addon that hold customer data or configuration, with the
# e-CRM rights needed to read them.
ECRM_DATA_MODELS = (
    "ecrm.case",
    "ecrm.case.escalation",
    "ecrm.case.report",
    "ecrm.duplicate.group",
    "ecrm.escalation.level",
    "ecrm.escalation.policy",
    "ecrm.interaction",
    "ecrm.pressure.report",
    "ecrm.pressure.rule",
    "ecrm.rfm.migration",
    "ecrm.rfm.score",
    "ecrm.rfm.snapshot",
    "ecrm.segment.action",
    "ecrm.segment.action.log",
)


@tagged("post_install", "-at_install")
class TestAccessDeclarations(TransactionCase):
    def test_every_model_of_the_addon_has_access_lines(self):
        models = [
            model.model
            for model in self.env["ir.model"].search([("model", "=like", "ecrm.%")])
            if not self.env[model.model]._abstract
        ]
        self.assertIn("ecrm.case", models)
        accessed = set(self.env["ir.model.access"].search([("model_id.model", "in", models)]).mapped("model_id.model"))
        self.assertEqual(sorted(set(models) - accessed), [], "models without an ir.model.access line")

    def test_every_model_with_a_company_has_a_global_company_rule(self):
        missing = []
        for name in (m.model for m in self.env["ir.model"].search([("model", "=like", "ecrm.%")])):
            model = self.env[name]
            field = model._fields.get("company_id")
            if model._abstract or not field or not field.store:
                continue
            rules = self.env["ir.rule"].search([("model_id.model", "=", name), ("global", "=", True)])
            if not any("company_ids" in rule.domain_force for rule in rules):
                missing.append(name)
        self.assertEqual(missing, [], "models with a company but no company rule")


@tagged("post_install", "-at_install")
class TestRoleAccess(TransactionCase):
    """Who may read what: a user without the e-CRM groups, a salesperson limited
    to their own documents, a portal customer, an e-CRM user."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.plain = new_test_user(cls.env, login="rel_plain", groups="base.group_user")
        cls.salesman = new_test_user(cls.env, login="rel_salesman", groups="sales_team.group_sale_salesman")
        cls.portal = new_test_user(cls.env, login="rel_portal", groups="base.group_portal")
        cls.agent = new_test_user(cls.env, login="rel_agent", groups="ecrm_addon.group_ecrm_user")
        cls.customer = cls.env["res.partner"].create({"name": "Rel Customer", "email": "rel.customer@example.com"})
        cls.case = cls.env["ecrm.case"].create({"subject": "Rel case", "partner_id": cls.customer.id})

    def assert_cannot_read(self, user, models):
        for model in models:
            with self.subTest(user=user.login, model=model), self.assertRaises(AccessError):
                self.env[model].with_user(user).search([], limit=1)

    def test_user_without_ecrm_groups_reads_no_ecrm_data(self):
        self.assert_cannot_read(self.plain, ECRM_DATA_MODELS)
        with self.assertRaises(AccessError):
            self.env["ecrm.rfm.segment"].with_user(self.plain).search([])

    def test_salesperson_reads_segments_only(self):
        self.assert_cannot_read(self.salesman, ECRM_DATA_MODELS)
        self.assertTrue(self.env["ecrm.rfm.segment"].with_user(self.salesman).search([]))
        with self.assertRaises(AccessError):
            self.env["ecrm.rfm.segment"].with_user(self.salesman).create({"name": "Mine", "code": "mine"})

    def test_salesperson_own_documents_do_not_open_other_sales_through_cases(self):
        """An e-CRM user limited to their own sales documents reads the case but
        not the order of another salesperson linked to it."""
        self.salesman.groups_id += self.env.ref("ecrm_addon.group_ecrm_user")
        other_seller = new_test_user(self.env, login="rel_seller_2", groups="sales_team.group_sale_salesman")
        product = self.env["product.product"].create({"name": "Rel lamp", "list_price": 10})
        order = self.env["sale.order"].create(
            {
                "partner_id": self.customer.id,
                "user_id": other_seller.id,
                "order_line": [Command.create({"product_id": product.id})],
            }
        )
        self.case.sale_order_id = order
        case = self.case.with_user(self.salesman)
        self.assertEqual(case.subject, "Rel case")
        with self.assertRaises(AccessError):
            case.sale_order_id.read(["name"])
        own = self.env["sale.order"].create(
            {
                "partner_id": self.customer.id,
                "user_id": self.salesman.id,
                "order_line": [Command.create({"product_id": product.id})],
            }
        )
        self.assertEqual(own.with_user(self.salesman).ecrm_case_count, 0)

    def test_portal_user_reads_no_configuration_nor_log(self):
        self.assert_cannot_read(self.portal, [m for m in ECRM_DATA_MODELS if m != "ecrm.case"])
        self.assertFalse(self.env["ecrm.case"].with_user(self.portal).search([]), "not their company's case")
        with self.assertRaises(AccessError):
            self.case.with_user(self.portal).read(["subject"])
        with self.assertRaises(AccessError):
            self.env["ecrm.case"].with_user(self.portal).create(
                {"subject": "Direct", "partner_id": self.portal.partner_id.id}
            )

    def test_portal_user_cannot_read_rfm_or_pressure_fields_of_their_partner(self):
        partner = self.portal.partner_id.with_user(self.portal)
        for field in ("ecrm_segment_id", "ecrm_pressure", "ecrm_rfm_score_ids"):
            with self.subTest(field=field), self.assertRaises(AccessError):
                partner.read([field])

    def test_ecrm_user_cannot_configure(self):
        for model, vals in (
            ("ecrm.escalation.policy", {"name": "Mine"}),
            ("ecrm.pressure.rule", {"name": "Mine", "max_count": 1}),
            ("ecrm.rfm.segment", {"name": "Mine", "code": "mine"}),
            (
                "ecrm.segment.action",
                {
                    "name": "Mine",
                    "segment_id": self.env.ref("ecrm_addon.ecrm_rfm_segment_new").id,
                    "action_type": "activity",
                    "activity_type_id": self.env.ref("mail.mail_activity_data_call").id,
                },
            ),
        ):
            with self.subTest(model=model), self.assertRaises(AccessError):
                self.env[model].with_user(self.agent).create(vals)
        with self.assertRaises(AccessError):
            self.env["ecrm.rfm.score"].with_user(self.agent).create(
                {"partner_id": self.customer.id, "company_id": self.env.company.id}
            )


@tagged("post_install", "-at_install")
class TestCompanyIsolation(TransactionCase):
    """A user of company A never reads company B's cases, policies, levels,
    escalations, interactions, rules, scores, snapshots, migrations or
    duplicate groups, nor B's rows through the reports and the segments."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company_a = cls.env.company
        cls.company_b = cls.env["res.company"].create({"name": "Rel Shop B"})
        cls.manager_a = new_test_user(
            cls.env, login="rel_manager_a", groups="ecrm_addon.group_ecrm_manager", company_id=cls.company_a.id
        )
        cls.customer = cls.env["res.partner"].create({"name": "Rel Shared", "email": "rel.shared@example.com"})
        segment = cls.env["ecrm.rfm.segment"].search([], limit=1)
        env_b = cls.env(context=dict(cls.env.context, allowed_company_ids=[cls.company_b.id]))
        policy = env_b["ecrm.escalation.policy"].create(
            {"name": "B policy", "company_id": cls.company_b.id, "calendar_id": cls.company_b.resource_calendar_id.id}
        )
        level = env_b["ecrm.escalation.level"].create({"name": "B level", "policy_id": policy.id})
        case = env_b["ecrm.case"].create(
            {"subject": "B case", "partner_id": cls.customer.id, "company_id": cls.company_b.id}
        )
        cls.records_b = {
            "ecrm.case": case,
            "ecrm.escalation.policy": policy,
            "ecrm.escalation.level": level,
            "ecrm.case.escalation": env_b["ecrm.case.escalation"].create({"case_id": case.id, "level_id": level.id}),
            "ecrm.interaction": env_b["ecrm.interaction"].create(
                {"partner_id": cls.customer.id, "name": "B touch", "company_id": cls.company_b.id}
            ),
            "ecrm.pressure.rule": env_b["ecrm.pressure.rule"].create(
                {"name": "B rule", "company_id": cls.company_b.id, "max_count": 1}
            ),
            "ecrm.rfm.score": env_b["ecrm.rfm.score"].create(
                {
                    "partner_id": cls.customer.id,
                    "company_id": cls.company_b.id,
                    "segment_id": segment.id,
                    "frequency": 3,
                }
            ),
            "ecrm.rfm.snapshot": env_b["ecrm.rfm.snapshot"].create(
                {"partner_id": cls.customer.id, "company_id": cls.company_b.id, "date": date(2026, 1, 1)}
            ),
            "ecrm.rfm.migration": env_b["ecrm.rfm.migration"].create(
                {
                    "company_id": cls.company_b.id,
                    "date": date(2026, 1, 1),
                    "segment_id": segment.id,
                    "customer_count": 1,
                }
            ),
            "ecrm.duplicate.group": env_b["ecrm.duplicate.group"].create(
                {
                    "key_type": "email",
                    "key": "rel.shared@example.com",
                    "fingerprint": "email:rel.shared@example.com",
                    "company_id": cls.company_b.id,
                }
            ),
        }
        cls.segment = segment

    def test_records_of_another_company_are_neither_found_nor_read(self):
        for model, record in self.records_b.items():
            as_a = self.env[model].with_user(self.manager_a)
            with self.subTest(model=model):
                self.assertFalse(as_a.search([("id", "=", record.id)]))
                with self.assertRaises(AccessError):
                    record.with_user(self.manager_a).read(["company_id"])

    def test_reports_do_not_show_another_company(self):
        report = self.env["ecrm.case.report"].with_user(self.manager_a)
        self.assertFalse(report.search([("case_id", "=", self.records_b["ecrm.case"].id)]))
        self.assertFalse(
            self.env["ecrm.pressure.report"].with_user(self.manager_a).search([("company_id", "=", self.company_b.id)])
        )

    def test_shared_customer_shows_only_the_current_company_scores(self):
        partner = self.customer.with_user(self.manager_a)
        self.assertEqual((partner.ecrm_frequency, partner.ecrm_segment_id.id), (0, False))
        self.assertFalse(partner.ecrm_rfm_score_ids)
        self.assertNotIn(
            self.customer,
            self.env["res.partner"]
            .with_user(self.manager_a)
            .search([("ecrm_segment_id", "=", self.segment.id), ("id", "=", self.customer.id)]),
        )

    def test_segment_counts_only_the_current_company_customers(self):
        self.assertEqual(
            self.segment.with_user(self.manager_a).customer_count,
            self.env["ecrm.rfm.score"].search_count(
                [("segment_id", "=", self.segment.id), ("company_id", "=", self.company_a.id)]
            ),
        )

    def test_case_of_another_company_never_gets_a_shared_policy_of_the_first(self):
        policy_a = self.env["ecrm.escalation.policy"].create(
            {"name": "A only", "sequence": -1, "company_id": self.company_a.id, "response_hours": 2}
        )
        case_b = self.records_b["ecrm.case"]
        case_b.priority = "2"  # recompute the policy
        self.assertNotEqual(case_b.policy_id, policy_a)
        self.assertIn(case_b.policy_id.company_id, self.company_b | self.env["res.company"])


@tagged("post_install", "-at_install")
class TestRpcAndRoutesAccess(HttpCase):
    """The same refusals through JSON-RPC and the routes, not only the ORM."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.plain = new_test_user(cls.env, login="rel_rpc_plain", password="rel_rpc_plain1", groups="base.group_user")
        cls.portal = new_test_user(
            cls.env, login="rel_rpc_portal", password="rel_rpc_portal1", groups="base.group_portal"
        )
        cls.company_b = cls.env["res.company"].create({"name": "Rel Shop RPC B"})
        cls.agent_b = new_test_user(
            cls.env,
            login="rel_rpc_agent_b",
            password="rel_rpc_agent_b1",
            groups="ecrm_addon.group_ecrm_user",
            company_id=cls.company_b.id,
            company_ids=[(6, 0, cls.company_b.ids)],
        )
        cls.customer = cls.env["res.partner"].create({"name": "Rel RPC", "email": "rel.rpc@example.com"})
        cls.case = cls.env["ecrm.case"].create({"subject": "Rel RPC case", "partner_id": cls.customer.id})

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

    def assert_access_error(self, body):
        self.assertIn("error", body, body)
        self.assertEqual(body["error"]["data"]["name"], "odoo.exceptions.AccessError")

    @mute_logger("odoo.http")
    def test_rpc_refuses_cases_to_a_user_without_ecrm_groups(self):
        self.authenticate("rel_rpc_plain", "rel_rpc_plain1")
        self.assert_access_error(self.call_kw("ecrm.case", "search_read", [[]], {"fields": ["subject"]}))
        self.assert_access_error(self.call_kw("ecrm.rfm.score", "search_read", [[]], {"fields": ["frequency"]}))

    @mute_logger("odoo.http")
    def test_rpc_refuses_a_case_of_another_company(self):
        self.authenticate("rel_rpc_agent_b", "rel_rpc_agent_b1")
        self.assert_access_error(self.call_kw("ecrm.case", "read", [[self.case.id], ["subject"]]))
        body = self.call_kw("ecrm.case", "search_read", [[("id", "=", self.case.id)]], {"fields": ["subject"]})
        self.assertEqual(body["result"], [])

    @mute_logger("odoo.http")
    def test_rpc_refuses_case_writes_to_a_portal_user(self):
        self.authenticate("rel_rpc_portal", "rel_rpc_portal1")
        self.assert_access_error(self.call_kw("ecrm.case", "write", [[self.case.id], {"priority": "3"}]))

    @mute_logger("odoo.http")
    def test_portal_case_pages_refuse_internal_user_without_ecrm_groups(self):
        self.authenticate("rel_rpc_plain", "rel_rpc_plain1")
        self.assertEqual(self.url_open("/my/cases", allow_redirects=False).status_code, 403)
        self.assertEqual(self.url_open(f"/my/cases/{self.case.id}", allow_redirects=False).status_code, 404)

    def test_case_page_with_its_access_token_only(self):
        self.case._portal_ensure_token()
        self.assertEqual(self.url_open(f"/my/cases/{self.case.id}", allow_redirects=False).status_code, 404)
        page = self.url_open(f"/my/cases/{self.case.id}?access_token={self.case.access_token}")
        self.assertEqual(page.status_code, 200)
        self.assertIn("Rel RPC case", page.text)
        wrong = self.url_open(f"/my/cases/{self.case.id}?access_token=not-the-token", allow_redirects=False)
        self.assertEqual(wrong.status_code, 404)

    def test_consent_page_changes_only_the_logged_in_customer(self):
        other = self.env["res.partner"].create({"name": "Rel Other", "email": "rel.other@example.com"})
        self.authenticate("rel_rpc_portal", "rel_rpc_portal1")
        page = self.url_open("/my/consent")
        token = page.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
        self.url_open("/my/consent", data={"csrf_token": token, "partner_id": str(other.id), "email_ok": "0"})
        self.assertFalse(self.env["mail.blacklist"].search([("email", "=", "rel.other@example.com")]))
        self.assertTrue(self.env["mail.blacklist"].search([("email", "=", self.portal.partner_id.email_normalized)]))

    def test_case_api_refuses_a_portal_users_key(self):
        expiration = fields.Datetime.now() + timedelta(days=1)
        self.env["ir.config_parameter"].sudo().set_param("portal.allow_api_keys", True)
        key = self.env["res.users.apikeys"].with_user(self.portal)._generate("rpc", "portal key", expiration)
        before = self.env["ecrm.case"].search_count([])
        response = self.url_open(
            "/ecrm/api/v1/cases",
            data=json.dumps({"subject": "From portal key", "email": "rel.rpc@example.com"}),
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {key}"},
        )
        self.assertEqual(response.status_code, 403)
        self.assertEqual(self.env["ecrm.case"].search_count([]), before)

    def test_case_api_creates_in_the_key_users_company(self):
        expiration = fields.Datetime.now() + timedelta(days=1)
        key = self.env["res.users.apikeys"].with_user(self.agent_b)._generate("rpc", "b key", expiration)
        response = self.url_open(
            "/ecrm/api/v1/cases",
            data=json.dumps({"subject": "From company B", "email": "rel.rpc@example.com"}),
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {key}"},
        )
        self.assertEqual(response.status_code, 201, response.text)
        case = self.env["ecrm.case"].browse(response.json()["id"])
        self.assertEqual(case.company_id, self.company_b)
