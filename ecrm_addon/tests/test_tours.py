# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from datetime import timedelta

from odoo import Command, fields
from odoo.tests import HttpCase, new_test_user, tagged


@tagged("post_install", "-at_install")
class TestTours(HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.customer = cls.env["res.partner"].create(
            {"name": "Tour Customer", "email": "tour.customer@example.com", "customer_rank": 1}
        )
        product = cls.env["product.product"].create({"name": "Tour Lamp", "type": "consu", "list_price": 120})
        cls.order = cls.env["sale.order"].create(
            {
                "name": "TOUR/SO/001",
                "partner_id": cls.customer.id,
                "order_line": [Command.create({"product_id": product.id, "product_uom_qty": 2, "tax_id": False})],
            }
        )
        cls.order.action_confirm()
        cls.env["ecrm.rfm.score"].create(
            {
                "partner_id": cls.customer.id,
                "company_id": cls.env.company.id,
                "segment_id": cls.env.ref("ecrm_addon.ecrm_rfm_segment_champions").id,
            }
        )

    def test_agent_opens_customer_profile(self):
        # an e-CRM agent who sells: no e-CRM manager, no administrator rights
        new_test_user(
            self.env,
            login="ecrm_tour_agent",
            groups="ecrm_addon.group_ecrm_user,base.group_partner_manager,sales_team.group_sale_salesman_all_leads",
        )
        self.start_tour("/odoo", "ecrm_agent_customer_tour", login="ecrm_tour_agent")
        case = self.env["ecrm.case"].search([("sale_order_id", "=", self.order.id)])
        self.assertEqual((case.subject, case.partner_id), ("Parcel arrived damaged", self.customer))


@tagged("post_install", "-at_install")
class TestToursPressure(HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["ecrm.pressure.rule"].search([]).active = False
        mailed_today = cls.env["res.partner"].create(
            [
                {"name": "Tour Mailed One", "email": "tour.mailed.one@example.com"},
                {"name": "Tour Mailed Two", "email": "tour.mailed.two@example.com"},
            ]
        )
        quiet = cls.env["res.partner"].create({"name": "Tour Quiet", "email": "tour.quiet@example.com"})
        cls.env["ecrm.interaction"]._log(
            [
                {
                    "partner_id": partner.id,
                    "name": "Newsletter",
                    "channel": "email",
                    "category": "marketing",
                    "direction": "outbound",
                    "date": fields.Datetime.now() - timedelta(hours=2),
                    "company_id": cls.env.company.id,
                }
                for partner in mailed_today
            ]
        )
        cls.mailing = cls.env["mailing.mailing"].create(
            {
                "subject": "Tour spring sale",
                "body_arch": '<div class="o_layout"><p class="o_tour_mailing_body">Hello</p></div>',
                "body_html": '<div class="o_layout"><p class="o_tour_mailing_body">Hello</p></div>',
                "mailing_model_id": cls.env["ir.model"]._get_id("res.partner"),
                "mailing_domain": repr([("id", "in", (mailed_today | quiet).ids)]),
            }
        )

    def test_manager_creates_rule_and_checks_mailing(self):
        # an e-CRM manager who runs the newsletters: no administrator rights
        new_test_user(
            self.env,
            login="ecrm_tour_manager",
            groups="ecrm_addon.group_ecrm_manager,mass_mailing.group_mass_mailing_user",
        )
        self.start_tour("/odoo", "ecrm_manager_pressure_rule_tour", login="ecrm_tour_manager")
        rule = self.env["ecrm.pressure.rule"].search([("name", "=", "Tour marketing emails")])
        self.assertEqual((rule.channel, rule.category, rule.max_count), ("email", "marketing", 1))
        self.start_tour(
            f"/odoo/mailing.mailing/{self.mailing.id}", "ecrm_manager_pressure_check_tour", login="ecrm_tour_manager"
        )


@tagged("post_install", "-at_install")
class TestToursPortal(HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.portal_user = new_test_user(cls.env, login="ecrm_tour_portal", groups="base.group_portal")
        cls.agent = new_test_user(cls.env, login="ecrm_tour_portal_agent", groups="ecrm_addon.group_ecrm_user")

    def test_portal_customer_opens_case_and_reads_reply(self):
        self.start_tour("/my/cases", "ecrm_portal_new_case_tour", login="ecrm_tour_portal")
        case = self.env["ecrm.case"].search([("partner_id", "=", self.portal_user.partner_id.id)])
        self.assertEqual((case.subject, case.channel), ("Wrong size delivered", "portal"))
        case.with_user(self.agent).message_post(
            body="A new parcel leaves today.", message_type="comment", subtype_xmlid="mail.mt_comment"
        )
        self.start_tour(f"/my/cases/{case.id}", "ecrm_portal_case_reply_tour", login="ecrm_tour_portal")
