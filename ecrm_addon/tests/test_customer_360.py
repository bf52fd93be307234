# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import Command
from odoo.exceptions import AccessError
from odoo.tests import Form, TransactionCase, new_test_user, tagged
from odoo.tools import SQL

# read with the 360's figures: the timeline and the consent count of the e-CRM page
OTHER_360_FIELDS = ["ecrm_timeline_ids", "ecrm_mailing_optout_count"]


@tagged("post_install", "-at_install")
class TestCustomer360(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.user = new_test_user(
            cls.env, login="ecrm_360_user", groups="ecrm_addon.group_ecrm_user,base.group_partner_manager"
        )
        cls.plain = new_test_user(cls.env, login="ecrm_360_plain", groups="base.group_user")
        cls.product = cls.env["product.product"].create({"name": "Chair", "type": "consu", "list_price": 50})
        cls.company = cls.env["res.partner"].create({"name": "Casa SL", "is_company": True, "email": "casa@shop.es"})
        cls.contact = cls.env["res.partner"].create(
            {"name": "Marta", "parent_id": cls.company.id, "email": "marta@shop.es"}
        )

    def _confirmed_orders(self, partner, count):
        orders = self.env["sale.order"].create(
            [
                {
                    "partner_id": partner.id,
                    "order_line": [Command.create({"product_id": self.product.id, "product_uom_qty": 1})],
                }
                for _i in range(count)
            ]
        )
        orders.action_confirm()
        return orders

    def _customer_with_history(self, name, orders, interactions):
        partner = self.env["res.partner"].create({"name": name, "email": f"{name.lower()}@shop.es"})
        self.env["sale.order"].create([{"partner_id": partner.id, "state": "sale"} for _i in range(orders)])
        self.env["ecrm.interaction"]._log(
            [{"partner_id": partner.id, "name": f"Touch {i}", "channel": "email"} for i in range(interactions)]
        )
        return partner

    def test_figures_roll_up_to_commercial_partner(self):
        orders = self._confirmed_orders(self.contact, 2)
        invoice = orders[:1]._create_invoices()
        invoice.action_post()
        for partner in (self.company, self.contact):
            self.assertEqual(partner.ecrm_lifetime_sales, sum(orders.mapped("amount_untaxed")))
            self.assertEqual(partner.ecrm_sale_count, 2)
            self.assertEqual(partner.ecrm_open_order_count, 2)
            self.assertEqual(partner.ecrm_pending_delivery_count, 2)
            self.assertEqual(partner.ecrm_unpaid_amount, invoice.amount_total)
            self.assertEqual(partner.ecrm_unpaid_invoice_count, 1)
            # 2 confirmations and 1 invoice logged
            self.assertEqual(partner.ecrm_interaction_count, 3)
            self.assertEqual(len(partner.ecrm_timeline_ids), 3)

    def test_timeline_shows_latest_touches_first_and_is_bounded(self):
        partner = self._customer_with_history("Timeline", 0, 30)
        # a record created in this transaction has its x2many cached empty
        self.env.invalidate_all()
        timeline = partner.ecrm_timeline_ids
        self.assertEqual(len(timeline), 20)
        self.assertEqual(partner.ecrm_interaction_count, 30)
        latest = self.env["ecrm.interaction"].search([("partner_id", "=", partner.id)], limit=20)
        self.assertEqual(timeline.ids, latest.ids)

    def _clone_rows(self, record, count):
        """``count`` copies of ``record``'s row, in one INSERT ... SELECT (every
        column copied, the name suffixed to keep unique names unique)."""
        self.env.flush_all()
        table = record._table
        self.env.cr.execute(
            SQL(
                """SELECT column_name FROM information_schema.columns
                    WHERE table_schema = current_schema() AND table_name = %s
                      AND column_name != 'id' AND is_generated = 'NEVER'
                 ORDER BY ordinal_position""",
                table,
            )
        )
        columns = [row[0] for row in self.env.cr.fetchall()]
        values = [
            SQL("%s || '/' || g", SQL.identifier("t", column)) if column == "name" else SQL.identifier("t", column)
            for column in columns
        ]
        self.env.cr.execute(
            SQL(
                "INSERT INTO %s (%s) SELECT %s FROM %s t, generate_series(1, %s) g WHERE t.id = %s",
                SQL.identifier(table),
                SQL(", ").join(SQL.identifier(column) for column in columns),
                SQL(", ").join(values),
                SQL.identifier(table),
                count,
                record.id,
            )
        )
        self.env.invalidate_all()

    def _customer_with_full_history(self, name, count):
        """A customer with ``count`` confirmed orders, pending deliveries, unpaid
        invoices and interactions: one of each made by Odoo's own flow (order
        confirmed, invoice posted, both logged), the rest copied by SQL."""
        partner = self.env["res.partner"].create({"name": name, "email": f"{name.lower()}@shop.es"})
        order = self._confirmed_orders(partner, 1)
        invoice = order._create_invoices()
        invoice.action_post()
        interaction = self.env["ecrm.interaction"].search([("partner_id", "=", partner.id)], limit=1)
        for record in (order, order.picking_ids, invoice, interaction):
            self._clone_rows(record, count - 1)
        return partner

    def _figures(self):
        return [*self.env["res.partner"]._ecrm_360_figure_fields(), *OTHER_360_FIELDS]

    def _queries(self, open_partner):
        self.env.invalidate_all()
        start = self.env.cr.sql_log_count
        open_partner()
        return self.env.cr.sql_log_count - start

    def test_360_query_count_is_the_same_for_10_and_2000_orders(self):
        small = self._customer_with_full_history("Small", 10)
        large = self._customer_with_full_history("Large", 2000)
        figures = ("ecrm_sale_count", "ecrm_pending_delivery_count", "ecrm_unpaid_invoice_count")
        self.assertEqual([small[f] for f in figures], [10, 10, 10])
        self.assertEqual([large[f] for f in figures], [2000, 2000, 2000])
        self.assertGreaterEqual(large.ecrm_interaction_count, 2000)
        self._queries(lambda: (small | large).read(self._figures()))  # warm the caches
        small_queries = self._queries(lambda: small.read(self._figures()))
        large_queries = self._queries(lambda: large.read(self._figures()))
        self.assertEqual(large_queries, small_queries)
        with self.assertQueryCount(small_queries):
            self.env.invalidate_all()
            large.read(self._figures())

    def test_opening_the_form_costs_the_same_for_10_and_2000_orders(self):
        small = self._customer_with_full_history("Tiny", 10)
        large = self._customer_with_full_history("Huge", 2000)
        self._queries(lambda: Form(small))  # warm the caches (views, groups)
        small_queries = self._queries(lambda: Form(small))
        large_queries = self._queries(lambda: Form(large))
        self.assertEqual(large_queries, small_queries)
        self.assertEqual(len(Form(large).ecrm_timeline_ids), 20)

    def test_360_for_many_partners_costs_the_same_queries(self):
        one = self._customer_with_history("One", 2, 2)
        many = one | self._customer_with_history("Two", 3, 3) | self._customer_with_history("Three", 4, 4)
        # warm the caches first (a first read also fills Odoo's caches): the figures' own queries are compared
        self._customer_with_history("Warm", 1, 1).read(self._figures())
        one_queries = self._queries(lambda: one.read(self._figures()))
        self.assertEqual(self._queries(lambda: many.read(self._figures())), one_queries)
        self.assertEqual(many.mapped("ecrm_sale_count"), [2, 3, 4])

    def test_mailing_opt_out_counted(self):
        mailing_list = self.env["mailing.list"].create({"name": "News"})
        self.env["mailing.contact"].create(
            {
                "name": "Marta",
                "email": "MARTA@shop.es",
                "subscription_ids": [Command.create({"list_id": mailing_list.id, "opt_out": True})],
            }
        )
        self.assertEqual(self.contact.ecrm_mailing_optout_count, 1)

    def test_form_shows_360_page_to_ecrm_user(self):
        self._confirmed_orders(self.company, 1)
        form = Form(self.company.with_user(self.user))
        self.assertEqual(form.ecrm_lifetime_sales, 50)
        self.assertEqual(form.ecrm_pending_delivery_count, 1)
        form.ecrm_preferred_channel = "sms"
        form.save()
        self.assertEqual(self.company.ecrm_preferred_channel, "sms")

    def test_plain_user_cannot_read_360_figures(self):
        with self.assertRaises(AccessError):
            self.company.with_user(self.plain).read(["ecrm_lifetime_sales"])

    def test_smart_button_opens_the_customer_interactions(self):
        self.env["ecrm.interaction"]._log([{"partner_id": self.contact.id, "name": "Visit", "channel": "meeting"}])
        action = self.company.action_ecrm_interactions()
        found = self.env["ecrm.interaction"].search(action["domain"])
        self.assertEqual(found.partner_id, self.contact)
