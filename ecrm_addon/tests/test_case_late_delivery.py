# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from freezegun import freeze_time

from odoo.tests import tagged

from .common import EcrmCaseCommon


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

    def test_gift_delivery_case_goes_to_the_buyer(self):
        friend = self.env["res.partner"].create({"name": "Gift Receiver"})
        self.picking.partner_id = friend
        with freeze_time("2026-11-21 13:00"):
            self.env["ecrm.case"]._cron_ecrm_late_deliveries()
        self.assertEqual(self.picking.ecrm_late_case_id.partner_id, self.customer)
