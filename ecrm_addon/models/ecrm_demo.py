# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import random
from datetime import timedelta

from odoo import api, fields, models
from odoo.tools import SQL


class EcrmDemo(models.AbstractModel):
    """Builds the demo shop's history: only called from demo/ecrm_demo.xml."""

    _name = "ecrm.demo"
    _description = "e-CRM demo data generator"

    @api.model
    def _generate_shop_history(self, seed=20261123):
        """Two years of orders for the demo customers: confirmed, delivered and
        invoiced (older invoices paid), a few refunds, and recent orders still
        open, so that every e-CRM figure has something to show."""
        rng = random.Random(seed)
        data = self.env["ir.model.data"].sudo()
        customer_ids = data.search(
            [("module", "=", "ecrm_addon"), ("model", "=", "res.partner"), ("name", "=like", "demo_customer_%")]
        ).mapped("res_id")
        customers = self.env["res.partner"].browse(sorted(customer_ids))
        product_ids = data.search(
            [("module", "=", "ecrm_addon"), ("model", "=", "product.product"), ("name", "=like", "demo_product_%")]
        ).mapped("res_id")
        products = self.env["product.product"].browse(sorted(product_ids))
        today = fields.Datetime.now().replace(hour=10, minute=0, second=0, microsecond=0)
        # Orders in the company's currency: other demo data (the eCommerce's)
        # may give the customers' countries a pricelist in a currency not active.
        company = self.env.company
        pricelist = self.env["product.pricelist"].search(
            [("currency_id", "=", company.currency_id.id), ("company_id", "in", [company.id, False])], limit=1
        )
        pricelist_vals = {"pricelist_id": pricelist.id} if pricelist else {}

        order_vals, order_dates = [], []
        for customer in customers:
            # Skewed like a real shop: many one-off buyers, a few loyal ones.
            orders = min(int(rng.paretovariate(1.3)), 12)
            last_days = rng.choice([3, 10, 25, 60, 120, 250, 400, 600])
            for _n in range(orders):
                days_ago = min(last_days + int(rng.expovariate(1 / 90.0)), 725)
                order_dates.append(today - timedelta(days=days_ago, hours=rng.randint(0, 8)))
                order_vals.append(
                    {
                        "partner_id": customer.id,
                        **pricelist_vals,
                        "order_line": [
                            fields.Command.create({"product_id": product.id, "product_uom_qty": rng.randint(1, 4)})
                            for product in rng.sample(products, rng.randint(1, 3))
                        ],
                    }
                )
        orders = self.env["sale.order"].create(order_vals)
        orders.action_confirm()
        for order, date in zip(orders, order_dates, strict=True):
            order.date_order = date

        # The latest orders are still to deliver and invoice.
        recent = orders.sorted("date_order", reverse=True)[:6]
        history = orders - recent
        pickings = history.picking_ids
        for move in pickings.move_ids:
            move.quantity = move.product_uom_qty
        pickings.move_ids.picked = True
        pickings._action_done()
        for picking in pickings:
            picking.date_done = picking.sale_id.date_order + timedelta(days=2)

        invoices = history._create_invoices(grouped=True)
        for invoice in invoices:
            invoice.invoice_date = invoice.line_ids.sale_line_ids.order_id[:1].date_order.date()
        invoices.action_post()

        paid = invoices.filtered(lambda inv: inv.invoice_date < today.date() - timedelta(days=45))
        if paid:
            self.env["account.payment.register"].with_context(active_model="account.move", active_ids=paid.ids).create(
                {"group_payment": False}
            )._create_payments()

        # A few returns credited back.
        refunded = invoices.sorted("id")[::9]
        if refunded:
            reversal = (
                self.env["account.move.reversal"]
                .with_context(active_model="account.move", active_ids=refunded.ids)
                .create({"reason": "Returned goods", "journal_id": refunded[0].journal_id.id})
            )
            reversal.refund_moves()
            refunds = refunded.reversal_move_ids.filtered(lambda m: m.state == "draft")
            refunds.action_post()

        # The documents were back-dated after the fact: date their touches likewise,
        # then score the customers and look for the duplicates typed on other channels.
        self.env.flush_all()
        for table, date_column in (
            ("sale_order", "date_order"),
            ("account_move", "invoice_date::timestamp + interval '9 hours'"),
            ("stock_picking", "date_done"),
        ):
            self.env.cr.execute(
                SQL(
                    """UPDATE ecrm_interaction i SET date = doc.%(date)s
                         FROM %(table)s doc
                        WHERE i.res_model = %(model)s AND i.res_id = doc.id AND doc.%(date)s IS NOT NULL""",
                    table=SQL.identifier(table),
                    date=SQL(date_column),
                    model=table.replace("_", "."),
                )
            )
        self.env["ecrm.interaction"].invalidate_model(["date"])
        self.env["ecrm.rfm.score"]._rfm_refresh_all()
        self.env["ecrm.duplicate.group"]._ecrm_scan()
        return True

    @api.model
    def _generate_case_history(self):
        """Date the demo cases back so that the shipped SLA policies show their
        work: an urgent case and a delivery case past their deadlines (their
        escalation levels fire), a billing case answered and solved in time."""
        now = fields.Datetime.now().replace(minute=0, second=0, microsecond=0)
        ref = self.env.ref
        ref("ecrm_addon.demo_case_late").date_open = now - timedelta(days=6)
        ref("ecrm_addon.demo_case_damaged").date_open = now - timedelta(days=10)
        solved = ref("ecrm_addon.demo_case_invoice")
        solved.date_open = now - timedelta(days=4)
        solved.first_response_date = now - timedelta(days=4) + timedelta(hours=1)
        solved.write({"stage_id": ref("ecrm_addon.ecrm_case_stage_solved").id, "date_closed": now - timedelta(days=3)})
        Case = self.env["ecrm.case"]
        # the escalation cron's work, in the install's transaction (the cron commits per batch)
        Case.search([("next_escalation_at", "<=", now)])._ecrm_escalate(now)
        return True
