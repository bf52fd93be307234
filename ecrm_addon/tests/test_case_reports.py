from freezegun import freeze_time

from odoo.tests import tagged

from .common import EcrmCaseCommon


@tagged("post_install", "-at_install")
class TestCaseReports(EcrmCaseCommon):
    def report(self, cases):
        self.env.flush_all()
        return self.env["ecrm.case.report"].search([("case_id", "in", cases.ids)])

    def test_sla_status_met_breached_running(self):
        with freeze_time("2026-11-23 09:00"):
            met, late = self.new_case(), self.new_case(channel="email")
        met.first_response_date = self.dt("2026-11-23 10:00")
        late.first_response_date = self.dt("2026-11-23 15:00")
        # the view compares open cases with the database's clock
        overdue = self.new_case(date_open=self.dt("2020-01-06 09:00"))
        running = self.new_case(date_open=self.dt("2099-01-05 09:00"))
        rows = {row.case_id: row for row in self.report(met | late | overdue | running)}
        self.assertEqual(rows[met].response_status, "met")
        self.assertEqual(rows[late].response_status, "breached")
        self.assertEqual(rows[overdue].response_status, "breached")
        self.assertEqual(rows[running].response_status, "running")
        self.assertAlmostEqual(rows[met].hours_to_first_response, 1.0)

    def test_breaches_grouped_by_channel(self):
        with freeze_time("2026-11-23 09:00"):
            phone, email = self.new_case(channel="phone"), self.new_case(channel="email")
        (phone | email).first_response_date = self.dt("2026-11-24 09:00")
        self.env.flush_all()
        groups = self.env["ecrm.case.report"]._read_group(
            [("case_id", "in", (phone | email).ids)], ["channel"], ["response_breached:sum", "__count"]
        )
        self.assertEqual(sorted(groups), [("email", 1, 1), ("phone", 1, 1)])


@tagged("post_install", "-at_install")
class TestLateDeliveryCases(EcrmCaseCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        product = cls.env["product.product"].create({"name": "Chair", "type": "consu", "list_price": 50})
        with freeze_time("2026-11-20 09:00"):
            cls.order = cls.env["sale.order"].create(
                {"partner_id": cls.customer.id, "order_line": [(0, 0, {"product_id": product.id})]}
            )
            cls.order.action_confirm()
        cls.picking = cls.order.picking_ids
        cls.picking.scheduled_date = cls.dt("2026-11-20 12:00")

    def cases_of_picking(self):
        return self.env["ecrm.case"].search([("picking_id", "=", self.picking.id)])

    def test_late_delivery_opens_one_case_once(self):
        with freeze_time("2026-11-21 11:00"):
            self.env["ecrm.case"]._cron_ecrm_late_deliveries()
        self.assertFalse(self.cases_of_picking(), "still within the margin")
        with freeze_time("2026-11-21 13:00"):
            self.assertGreaterEqual(self.env["ecrm.case"]._cron_ecrm_late_deliveries(), 1)
            self.assertEqual(self.env["ecrm.case"]._cron_ecrm_late_deliveries(), 0)
        case = self.picking.ecrm_late_case_id
        self.assertEqual(self.cases_of_picking(), case)
        self.assertEqual((case.partner_id, case.sale_order_id), (self.customer, self.order))
        self.assertEqual(case.category_id, self.env.ref("ecrm_addon.ecrm_case_category_delivery"))
        self.assertEqual(self.picking.ecrm_case_count, 1)

    def test_cancelled_delivery_opens_no_case(self):
        self.picking.action_cancel()
        with freeze_time("2026-11-25 09:00"):
            self.env["ecrm.case"]._cron_ecrm_late_deliveries()
        self.assertFalse(self.cases_of_picking())
