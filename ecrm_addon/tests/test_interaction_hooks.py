# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import Command
from odoo.tests import TransactionCase, new_test_user, tagged

from .test_identity import RAW_EMAIL


@tagged("post_install", "-at_install")
class TestInteractionHooks(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.customer = cls.env["res.partner"].create({"name": "Hook Customer", "email": "hook@shop.es"})
        cls.product = cls.env["product.product"].create({"name": "Lamp", "type": "consu", "list_price": 30})
        cls.Log = cls.env["ecrm.interaction"]

    def _logs(self, res_model, records):
        return self.Log.search([("res_model", "=", res_model), ("res_id", "in", records.ids)])

    def _orders(self, count=1):
        return self.env["sale.order"].create(
            [
                {
                    "partner_id": self.customer.id,
                    "order_line": [Command.create({"product_id": self.product.id, "product_uom_qty": 1})],
                }
                for _i in range(count)
            ]
        )

    def test_order_confirmed_logs_one_sales_touch_per_order(self):
        orders = self._orders(3)
        orders.action_confirm()
        logs = self._logs("sale.order", orders)
        self.assertEqual(len(logs), 3)
        self.assertEqual(set(logs.mapped("category")), {"sales"})
        self.assertEqual(set(logs.mapped("direction")), {"inbound"})
        self.assertEqual(logs.partner_id, self.customer)

    def test_quotation_not_confirmed_logs_nothing(self):
        orders = self._orders()
        self.assertFalse(self._logs("sale.order", orders))

    def test_invoice_posted_logs_transactional_touch(self):
        invoices = self.env["account.move"].create(
            [
                {
                    "move_type": "out_invoice",
                    "partner_id": self.customer.id,
                    "invoice_line_ids": [Command.create({"name": "Lamp", "quantity": 1, "price_unit": 30})],
                }
                for _i in range(2)
            ]
        )
        invoices.action_post()
        logs = self._logs("account.move", invoices)
        self.assertEqual(len(logs), 2)
        self.assertEqual(set(logs.mapped("category")), {"transactional"})
        self.assertEqual(set(logs.mapped("direction")), {"outbound"})

    def test_vendor_bill_posted_logs_nothing(self):
        bill = self.env["account.move"].create(
            {
                "move_type": "in_invoice",
                "partner_id": self.customer.id,
                "invoice_date": "2026-01-01",
                "invoice_line_ids": [Command.create({"name": "Stock", "quantity": 1, "price_unit": 5})],
            }
        )
        bill.action_post()
        self.assertFalse(self._logs("account.move", bill))

    def test_delivery_done_logs_transactional_touch(self):
        order = self._orders()
        order.action_confirm()
        picking = order.picking_ids
        picking.move_ids.write({"quantity": 1, "picked": True})
        picking._action_done()
        log = self._logs("stock.picking", picking)
        self.assertEqual(len(log), 1)
        self.assertEqual((log.category, log.partner_id), ("transactional", self.customer))

    def test_call_activity_done_logs_phone_touch(self):
        activity = self.customer.activity_schedule("mail.mail_activity_data_call", summary="Call about the lamp")
        activity.action_feedback(feedback="Happy")
        log = self._logs("res.partner", self.customer)
        self.assertEqual(len(log), 1)
        self.assertEqual((log.channel, log.name), ("phone", "Call about the lamp"))

    def test_todo_activity_done_logs_nothing(self):
        activity = self.customer.activity_schedule("mail.mail_activity_data_todo", summary="Check stock")
        activity.action_feedback()
        self.assertFalse(self._logs("res.partner", self.customer))

    def test_call_activity_on_order_logs_for_its_customer(self):
        order = self._orders()
        order.activity_schedule("mail.mail_activity_data_call", summary="Confirm address")
        order.activity_ids.action_feedback()
        log = self._logs("sale.order", order).filtered(lambda r: r.channel == "phone")
        self.assertEqual((log.partner_id, log.category), (self.customer, "sales"))

    def test_inbound_email_logs_service_touch(self):
        raw = RAW_EMAIL.format(email_from="Hook <HOOK@shop.es>", to="shop@example.com", subject="Broken", msg_id="h1")
        self.env["mail.thread"].message_process("res.partner", raw, thread_id=self.customer.id)
        log = self._logs("res.partner", self.customer)
        self.assertEqual(len(log), 1)
        self.assertEqual((log.channel, log.direction, log.category), ("email", "inbound", "service"))
        self.assertEqual(log.name, "Broken")

    def test_email_from_employee_logs_nothing(self):
        employee = new_test_user(self.env, login="ecrm_hook_employee", email="employee@shop.example.com")
        raw = RAW_EMAIL.format(email_from=employee.email, to="shop@example.com", subject="Internal", msg_id="h2")
        self.env["mail.thread"].message_process("res.partner", raw, thread_id=self.customer.id)
        self.assertFalse(self._logs("res.partner", self.customer))

    def test_note_posted_by_user_logs_nothing(self):
        self.customer.message_post(body="Internal note", message_type="comment")
        self.assertFalse(self._logs("res.partner", self.customer))
