# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from freezegun import freeze_time

from odoo.exceptions import AccessError
from odoo.tests import Form, new_test_user, tagged

from .common import EcrmCaseCommon


@tagged("post_install", "-at_install")
class TestCustomer360Cases(EcrmCaseCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.shop = cls.env["res.partner"].create({"name": "Casa SL", "is_company": True})
        cls.contact = cls.env["res.partner"].create({"name": "Marta", "parent_id": cls.shop.id, "email": "m@casa.es"})

    def test_cases_smart_button_counts_open_and_all_cases_of_the_customer(self):
        cases = self.new_case(partner_id=self.contact.id) | self.new_case(partner_id=self.shop.id)
        self.new_case(partner_id=self.contact.id, stage_id=self.stage_solved.id)
        self.new_case()  # another customer's
        for partner in (self.shop, self.contact):
            self.assertEqual((partner.ecrm_case_open_count, partner.ecrm_case_count), (2, 3))
            self.assertEqual(partner.ecrm_open_case_ids, cases)
        action = self.contact.action_ecrm_cases()
        self.assertEqual(len(self.env["ecrm.case"].search(action["domain"])), 3)
        self.assertEqual(action["context"]["default_partner_id"], self.contact.id)

    def test_open_cases_show_their_sla_state(self):
        with freeze_time("2026-11-23 09:00"):
            self.new_case(partner_id=self.contact.id, subject="Late")
            self.new_case(partner_id=self.contact.id, subject="Waiting", stage_id=self.stage_waiting.id)
        with freeze_time("2026-11-23 16:00"):
            self.new_case(partner_id=self.contact.id, subject="Running")
            shop = self.shop.with_user(self.agent)
            states = {case.subject: case.sla_status for case in shop.ecrm_open_case_ids}
            self.assertEqual(states, {"Late": "breached", "Waiting": "paused", "Running": "running"})
            self.assertEqual(len(Form(shop).ecrm_open_case_ids), 3)

    def test_closing_a_case_shows_on_the_timeline_without_pressure(self):
        with freeze_time("2026-11-23 09:00"):
            case = self.new_case(partner_id=self.contact.id)
        with freeze_time("2026-11-23 11:00"):
            case.stage_id = self.stage_solved
            case.stage_id = self.stage_solved  # no second event
        self.env.invalidate_all()
        events = self.shop.ecrm_timeline_ids.filtered(lambda i: i.res_model == "ecrm.case")
        self.assertEqual(
            events.mapped("name"),
            [
                f"Case closed: {case.name} Parcel missing",
                f"Rating requested: {case.name} Parcel missing",  # solving asks the customer once
                f"Case opened: {case.name} Parcel missing",
            ],
        )
        self.assertEqual(events[0].weight, 0.0)
        with freeze_time("2026-11-23 11:00"):
            self.assertEqual(case.sla_status, "met")

    def test_case_figures_cost_the_same_queries_for_1_and_30_cases(self):
        other = self.env["res.partner"].create({"name": "Busy"})
        self.new_case(partner_id=self.contact.id)
        self.env["ecrm.case"].create([{"subject": f"Case {i}", "partner_id": other.id} for i in range(30)])
        fields = ["ecrm_case_open_count", "ecrm_case_count", "ecrm_open_case_ids"]

        def queries(partner):
            self.env.invalidate_all()
            start = self.env.cr.sql_log_count
            partner.read(fields)
            partner.ecrm_open_case_ids.read(["name", "stage_id", "resolution_deadline", "sla_status"])
            return self.env.cr.sql_log_count - start

        queries(self.shop | other)  # warm the caches
        self.assertEqual(queries(other), queries(self.shop))
        self.assertEqual(other.ecrm_case_open_count, 30)

    def test_user_without_ecrm_groups_cannot_read_case_figures(self):
        plain = new_test_user(self.env, login="ecrm_cases_plain", groups="base.group_user")
        with self.assertRaises(AccessError):
            self.shop.with_user(plain).read(["ecrm_case_count"])
