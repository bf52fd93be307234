# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import Command
from odoo.exceptions import AccessError, UserError
from odoo.tests import TransactionCase, new_test_user, tagged


@tagged("post_install", "-at_install")
class TestDuplicateGroups(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env.company.country_id = cls.env.ref("base.es")
        cls.manager = new_test_user(
            cls.env,
            login="ecrm_dup_manager",
            groups="ecrm_addon.group_ecrm_manager,base.group_partner_manager,sales_team.group_sale_salesman",
        )
        cls.user = new_test_user(cls.env, login="ecrm_dup_user", groups="ecrm_addon.group_ecrm_user")
        cls.plain = new_test_user(cls.env, login="ecrm_dup_plain", groups="base.group_user")
        Partner = cls.env["res.partner"]
        cls.ana_web, cls.ana_shop = Partner.create(
            [
                {"name": "Ana García", "email": "ana.dup@shop.es"},
                {"name": "ANA GARCIA", "email": "Ana <ANA.DUP@Shop.ES>", "phone": "699 11 22 33"},
            ]
        )
        cls.phone_twin = Partner.create({"name": "Ana (phone)", "phone": "+34 699 112 233"})
        cls.Group = cls.env["ecrm.duplicate.group"]

    def _group(self, key_type, key):
        return self.Group.search([("key_type", "=", key_type), ("key", "=", key)])

    def test_scan_groups_partners_sharing_a_key(self):
        self.Group._cron_ecrm_scan_duplicates()
        self.assertEqual(self._group("email", "ana.dup@shop.es").partner_ids, self.ana_web | self.ana_shop)
        self.assertEqual(self._group("phone", "+34699112233").partner_ids, self.ana_shop | self.phone_twin)

    def test_scan_ignores_contacts_of_one_customer(self):
        company = self.env["res.partner"].create(
            {"name": "Shop SL", "is_company": True, "phone": "+34 911 22 33 44", "vat": "ESB55667788"}
        )
        self.env["res.partner"].create({"name": "Desk", "parent_id": company.id, "phone": "911 22 33 44"})
        self.Group._ecrm_scan()
        self.assertFalse(self._group("phone", "+34911223344"))
        self.assertFalse(self._group("vat", "ESB55667788"))

    def test_scan_twice_creates_nothing_new(self):
        self.Group._ecrm_scan()
        self.assertFalse(self.Group._ecrm_scan())

    def test_dismissed_group_is_not_reopened(self):
        self.Group._ecrm_scan()
        group = self._group("email", "ana.dup@shop.es")
        group.with_user(self.manager).action_dismiss()
        self.Group._ecrm_scan()
        self.assertEqual(self._group("email", "ana.dup@shop.es"), group)
        self.assertEqual(group.state, "dismissed")

    def test_dismissed_group_reopens_when_a_partner_joins(self):
        self.Group._ecrm_scan()
        self._group("email", "ana.dup@shop.es").with_user(self.manager).action_dismiss()
        third = self.env["res.partner"].create({"name": "Ana 3", "email": "ana.dup@shop.es"})
        self.Group._ecrm_scan()
        open_group = self._group("email", "ana.dup@shop.es").filtered(lambda g: g.state == "open")
        self.assertEqual(open_group.partner_ids, self.ana_web | self.ana_shop | third)

    def test_user_reads_groups_but_cannot_dismiss_or_merge(self):
        self.Group._ecrm_scan()
        group = self._group("email", "ana.dup@shop.es").with_user(self.user)
        self.assertEqual(group.partner_count, 2)
        with self.assertRaises(AccessError):
            group.action_dismiss()
        with self.assertRaises(AccessError):
            group.action_merge()

    def test_plain_user_cannot_read_groups(self):
        self.Group._ecrm_scan()
        with self.assertRaises(AccessError):
            self.Group.with_user(self.plain).search([])

    def test_merge_moves_everything_and_is_recorded(self):
        product = self.env["product.product"].create({"name": "Mug", "type": "consu", "list_price": 10})
        orders = self.env["sale.order"].create(
            [
                {
                    "partner_id": partner.id,
                    "user_id": self.manager.id,  # the merge record counts what the manager may read
                    "order_line": [Command.create({"product_id": product.id, "product_uom_qty": 1})],
                }
                for partner in (self.ana_web, self.ana_shop)
            ]
        )
        orders.action_confirm()
        invoice = self.env["account.move"].create(
            {
                "move_type": "out_invoice",
                "partner_id": self.ana_shop.id,
                "invoice_line_ids": [Command.create({"name": "Mug", "quantity": 1, "price_unit": 10})],
            }
        )
        self.env["ecrm.interaction"]._log([{"partner_id": self.ana_shop.id, "name": "Call", "channel": "phone"}])
        self.ana_shop.message_post(body="Note on the shop profile")
        self.ana_shop.message_subscribe(partner_ids=self.manager.partner_id.ids)
        self.Group._ecrm_scan()
        group = self._group("email", "ana.dup@shop.es")
        shop_logs = self.env["ecrm.interaction"].search_count([("partner_id", "=", self.ana_shop.id)])

        action = group.with_user(self.manager).action_merge()
        wizard = (
            self.env["base.partner.merge.automatic.wizard"]
            .with_user(self.manager)
            .with_context(**action["context"])
            .create({"dst_partner_id": self.ana_web.id})
        )
        self.assertEqual(wizard.partner_ids, self.ana_web | self.ana_shop)
        wizard.action_merge()

        self.assertFalse(self.ana_shop.exists())
        kept = self.ana_web
        self.assertEqual(orders.partner_id, kept)
        self.assertEqual(invoice.partner_id, kept)
        self.assertEqual(orders.picking_ids.partner_id, kept)
        log = self.env["ecrm.interaction"].search([("name", "=", "Call"), ("partner_id", "=", kept.id)])
        self.assertEqual(log.commercial_partner_id, kept)
        self.assertIn("Note on the shop profile", "".join(kept.message_ids.mapped("body")))
        self.assertIn(self.manager.partner_id, kept.message_partner_ids)
        record = kept.message_ids.filtered(lambda m: "Merged by" in (m.body or ""))
        self.assertEqual(len(record), 1)
        self.assertIn(self.manager.name, record.body)
        self.assertIn("Orders: 1", record.body)
        self.assertIn(f"Interactions: {shop_logs}", record.body)
        self.assertEqual((group.state, group.kept_partner_id), ("merged", kept))

    def test_group_of_other_company_is_hidden(self):
        other_company = self.env["res.company"].create({"name": "Other Shop"})
        Partner = self.env["res.partner"]
        Partner.create(
            [
                {"name": "Far 1", "email": "far@shop.es", "company_id": other_company.id},
                {"name": "Far 2", "email": "far@shop.es", "company_id": other_company.id},
            ]
        )
        self.Group._ecrm_scan()
        group = self._group("email", "far@shop.es")
        self.assertEqual(group.company_id, other_company)
        self.assertFalse(self.Group.with_user(self.user).search([("id", "=", group.id)]))
        with self.assertRaises(AccessError):
            group.with_user(self.user).read(["key"])

    def test_merge_wizard_keeps_most_active_customer_by_default(self):
        # the newer profile is Odoo's default; the older one is where the customer buys
        self.env["ecrm.interaction"]._log([{"partner_id": self.ana_web.id, "name": "Order", "channel": "web"}])
        self.Group._ecrm_scan()
        action = self._group("email", "ana.dup@shop.es").with_user(self.manager).action_merge()
        wizard = self.env["base.partner.merge.automatic.wizard"].with_context(**action["context"]).create({})
        self.assertEqual(wizard.dst_partner_id, self.ana_web)


@tagged("post_install", "-at_install")
class TestDuplicateMergeRights(TransactionCase):
    """Odoo's wizard lets only Administrators merge contacts whose emails
    differ; a duplicate group does not widen that rule for e-CRM managers."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env.company.country_id = cls.env.ref("base.es")
        cls.manager = new_test_user(
            cls.env,
            login="ecrm_rights_manager",
            groups="ecrm_addon.group_ecrm_manager,base.group_partner_manager",
        )
        cls.admin = new_test_user(
            cls.env,
            login="ecrm_rights_admin",
            groups="ecrm_addon.group_ecrm_manager,base.group_partner_manager,base.group_erp_manager",
        )
        Partner = cls.env["res.partner"]
        cls.with_email, cls.without_email = Partner.create(
            [
                {"name": "Luis (web)", "email": "Luis <LUIS@Shop.es>", "phone": "+34 655 000 111"},
                {"name": "Luis (shop)", "phone": "655 000 111"},
            ]
        )
        cls.other_email = Partner.create({"name": "Luisa", "email": "luisa@shop.es", "phone": "655000111"})
        cls.Group = cls.env["ecrm.duplicate.group"]
        cls.Group._ecrm_scan()
        cls.group = cls.Group.search([("key_type", "=", "phone"), ("key", "=", "+34655000111")])

    def _merge(self, user, partners):
        action = self.group.with_user(user).action_merge()
        context = dict(action["context"], active_ids=partners.ids)
        wizard = self.env["base.partner.merge.automatic.wizard"].with_user(user).with_context(**context).create({})
        wizard.action_merge()

    def test_manager_merges_group_partners_with_same_or_empty_email(self):
        self.assertEqual(self.group.partner_ids, self.with_email | self.without_email | self.other_email)
        self._merge(self.manager, self.with_email | self.without_email)
        self.assertEqual(len((self.with_email | self.without_email).exists()), 1)

    def test_manager_cannot_merge_group_partners_with_different_emails(self):
        with self.assertRaisesRegex(UserError, "different email addresses.*luisa@shop.es"):
            self._merge(self.manager, self.with_email | self.other_email)
        self.assertEqual(len((self.with_email | self.other_email).exists()), 2)

    def test_administrator_merges_group_partners_with_different_emails(self):
        self._merge(self.admin, self.with_email | self.other_email)
        self.assertEqual(len((self.with_email | self.other_email).exists()), 1)

    def test_manager_outside_a_group_keeps_odoo_rule(self):
        wizard = (
            self.env["base.partner.merge.automatic.wizard"]
            .with_user(self.manager)
            .with_context(active_model="res.partner", active_ids=(self.with_email | self.without_email).ids)
            .create({})
        )
        with self.assertRaisesRegex(UserError, "Only the Administrator"):
            wizard.action_merge()
