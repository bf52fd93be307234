# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import json
import re
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


@tagged("post_install", "-at_install")
class TestToursServiceLoop(HttpCase):
    """The service loop in the browser, each step by the person who does it:
    a portal customer opens a case and gets the acknowledgement, an agent
    answers with a canned answer and solves it, the customer rates it from the
    emailed link, the manager reads the CSAT on the overview. Tours run at real
    time: every date of the loop is written and read in the same run."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # Other data of the database (demo shop) must not disturb the figures nor the suggestions.
        cls.other_company = cls.env["res.company"].create({"name": "Other Shop"})
        cls.env["ecrm.case"].search([]).write({"company_id": cls.other_company.id})
        cls.env["ecrm.case.answer"].search([]).active = False
        cls.env.company.email = "shop@example.com"
        cls.portal_user = new_test_user(
            cls.env, login="ecrm_tour_loop_portal", email="loop.customer@example.com", groups="base.group_portal"
        )
        cls.agent = new_test_user(cls.env, login="ecrm_tour_loop_agent", groups="ecrm_addon.group_ecrm_user")
        cls.manager = new_test_user(cls.env, login="ecrm_tour_loop_manager", groups="ecrm_addon.group_ecrm_manager")
        cls.env["ecrm.case.answer"].create(
            {
                "name": "Tour parcel lost",
                "body": '<p>Hello <t t-out="object.partner_id.name"/>, we send a new parcel today.</p>',
            }
        )

    def _customer_mails(self, case):
        return self.env["mail.mail"].search(
            [
                ("model", "=", case._name),
                ("res_id", "=", case.id),
                ("recipient_ids", "in", self.portal_user.partner_id.ids),
            ],
            order="id",
        )

    def test_service_loop(self):
        customer = self.portal_user.partner_id
        # 1. the customer opens a case on the portal and is acknowledged by email
        self.start_tour("/my/cases", "ecrm_loop_portal_case_tour", login="ecrm_tour_loop_portal")
        case = self.env["ecrm.case"].search([("partner_id", "=", customer.id)])
        self.assertEqual((case.subject, case.channel), ("Parcel never arrived", "portal"))
        acknowledgement = self._customer_mails(case)
        self.assertEqual(len(acknowledgement), 1)
        self.assertEqual(acknowledgement.state, "outgoing")
        self.assertIn(case.name, acknowledgement.subject)
        self.assertIn(case.name, acknowledgement.body_html)

        # 2. the agent answers with the suggested canned answer, then solves the case
        self.start_tour(f"/odoo/ecrm.case/{case.id}", "ecrm_loop_agent_answer_tour", login="ecrm_tour_loop_agent")
        answer = case.message_ids.filtered(
            lambda message: message.author_id == self.agent.partner_id and message.message_type == "comment"
        )
        self.assertEqual(len(answer), 1)
        self.assertIn(f"Hello {customer.name}, we send a new parcel today.", answer.body)
        self.assertEqual(case.stage_id, self.env.ref("ecrm_addon.ecrm_case_stage_solved"))
        rating = self.env["rating.rating"].search([("res_model", "=", case._name), ("res_id", "=", case.id)])
        self.assertEqual(len(rating), 1)
        self.assertTrue(rating.access_token)
        self.assertFalse(rating.consumed)

        # 3. the customer follows the "Satisfied" link of the emailed rating request
        request = (self._customer_mails(case) - acknowledgement).filtered(lambda mail: "/rate/" in mail.body_html)
        self.assertEqual(len(request), 1, "one rating request is queued to the customer")
        link = re.search(r'href="[^"]*(/rate/[\w-]+/5)"', request.body_html)
        self.assertTrue(link, "the rating request links to the rating page")
        self.assertEqual(link.group(1), f"/rate/{rating.access_token}/5")
        self.start_tour(link.group(1), "ecrm_loop_customer_rating_tour", login="ecrm_tour_loop_portal")
        self.assertEqual((rating.rating, rating.feedback, rating.consumed), (5, "Quick and kind, thank you.", True))

        # 4. the manager reads the CSAT on the overview
        self.start_tour("/odoo", "ecrm_loop_manager_csat_tour", login="ecrm_tour_loop_manager")
        figures = json.loads(self.env.ref("ecrm_addon.ecrm_dashboard_cases").with_user(self.manager).kanban_dashboard)
        self.assertEqual((figures["csat"], figures["csat_cases"]), (100, 1))


@tagged("post_install", "-at_install")
class TestToursOnboarding(HttpCase):
    """The onboarding tour of the e-CRM app (Overview, a customer's 360, an
    overdue case, a segment, the pressure check of a mailing to it), as the
    e-CRM manager it is written for. It follows menus, tiles and first rows:
    the few records below make sure each list has one, whatever the demo holds."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        customer = cls.env["res.partner"].create(
            {"name": "Onboarding Customer", "email": "onboarding.customer@example.com", "customer_rank": 1}
        )
        cls.env["ecrm.rfm.score"].create(
            {
                "partner_id": customer.id,
                "company_id": cls.env.company.id,
                "segment_id": cls.env.ref("ecrm_addon.ecrm_rfm_segment_champions").id,
            }
        )
        # Tours run at real time: a case opened a month ago is past both its deadlines today.
        cls.case = cls.env["ecrm.case"].create(
            {
                "subject": "Onboarding parcel late",
                "partner_id": customer.id,
                "date_open": fields.Datetime.now() - timedelta(days=30),
            }
        )
        # an e-CRM manager who runs the newsletters: no administrator rights
        cls.manager = new_test_user(
            cls.env,
            login="ecrm_tour_onboarding_manager",
            groups="ecrm_addon.group_ecrm_manager,mass_mailing.group_mass_mailing_user",
        )

    def test_onboarding_tour_goes_from_the_overview_to_a_pressure_check(self):
        self.assertIn(self.case, self.env["ecrm.case"].search(self.env["ecrm.dashboard"]._ecrm_overdue_domain()))
        self.start_tour("/odoo", "ecrm_onboarding_tour", login=self.manager.login)
        simulation = self.env["ecrm.pressure.simulation"].search([("create_uid", "=", self.manager.id)])
        self.assertEqual(len(simulation), 1, "the tour ends on one pressure check")
        mailing = simulation.mailing_id
        self.assertEqual(mailing.state, "draft", "the checked mailing is not sent")
        segment = self.env["ecrm.rfm.segment"].search([("name", "=", mailing.subject)])
        self.assertEqual(len(segment), 1, "the mailing was prepared from a segment")
        self.assertIn(f"('segment_id', '=', {segment.id})", mailing.mailing_domain)
        self.assertTrue(segment.customer_count)

    def test_onboarding_tour_is_offered_once_before_odoo_tours(self):
        Tour = self.env["web_tour.tour"].with_user(self.manager)
        self.assertFalse(Tour.get_current_tour(), "only a user with Onboarding on is offered tours")
        self.manager.tour_enabled = True  # Onboarding switched on (user menu), as Odoo does for a new admin
        offered = Tour.get_current_tour()
        self.assertEqual((offered["name"], offered["url"]), ("ecrm_onboarding_tour", "/odoo"))
        self.assertIn("customer's 360 view", offered["rainbowManMessage"])
        # the web client consumes the tour when its last step is done
        Tour.consume("ecrm_onboarding_tour")
        self.assertNotEqual((Tour.get_current_tour() or {}).get("name"), "ecrm_onboarding_tour")

    def test_onboarding_tour_starts_by_itself_in_the_users_language(self):
        # a Spanish manager with Onboarding on logs in: the first step points at the apps menu,
        # with its text in Spanish, and waits for the click before showing the next one
        self.env["res.lang"]._activate_lang("es_ES")
        self.manager.write({"lang": "es_ES", "tour_enabled": True})
        code = """(async () => {
            const pointer = async (text) => {
                for (let tries = 0; tries < 200; tries++) {
                    const content = document.querySelector(".o_tour_pointer .o_tour_pointer_content");
                    if (content && content.textContent.includes(text)) {
                        return;
                    }
                    await new Promise((resolve) => setTimeout(resolve, 50));
                }
                throw new Error(`no tour step saying "${text}"`);
            };
            await pointer("Cinco minutos para ver lo que hace el e-CRM");
            document.querySelector(".o_navbar_apps_menu button").click();
            await pointer("Abra la aplicación e-CRM.");
            console.log("test successful");
        })()"""
        self.browser_js("/odoo", code, login=self.manager.login)

    def test_onboarding_tour_is_not_offered_to_whom_cannot_follow_it(self):
        # an agent opens neither the segments' configuration nor the mailings
        agent = new_test_user(self.env, login="ecrm_tour_onboarding_agent", groups="ecrm_addon.group_ecrm_user")
        agent.tour_enabled = True
        offered = self.env["web_tour.tour"].with_user(agent).get_current_tour()
        self.assertNotEqual((offered or {}).get("name"), "ecrm_onboarding_tour")
        self.assertIn("ecrm_onboarding_tour", self.env["web_tour.tour"].search([]).mapped("name"))
