# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import importlib.util
from datetime import timedelta
from pathlib import Path

from odoo.exceptions import ValidationError
from odoo.tests import Form, TransactionCase, new_test_user, tagged
from odoo.tools import SQL


@tagged("post_install", "-at_install")
class TestFoundation(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.user = new_test_user(cls.env, login="ecrm_found_user", groups="ecrm_addon.group_ecrm_user")
        cls.manager = new_test_user(
            cls.env, login="ecrm_found_manager", groups="ecrm_addon.group_ecrm_manager,base.group_system"
        )
        cls.plain = new_test_user(cls.env, login="ecrm_found_plain", groups="base.group_user")

    def _visible_menus(self, user):
        return self.env["ir.ui.menu"].with_user(user)._visible_menu_ids()

    def test_menu_visible_to_ecrm_user_only(self):
        root = self.env.ref("ecrm_addon.ecrm_menu_root")
        self.assertIn(root.id, self._visible_menus(self.user))
        self.assertNotIn(root.id, self._visible_menus(self.plain))

    def test_sales_administrator_is_ecrm_manager(self):
        sales_admin = new_test_user(self.env, login="ecrm_found_sales_admin", groups="sales_team.group_sale_manager")
        self.assertTrue(sales_admin.has_group("ecrm_addon.group_ecrm_manager"))
        self.assertTrue(sales_admin.has_group("ecrm_addon.group_ecrm_user"))

    def test_settings_saved_on_company(self):
        settings = Form(self.env["res.config.settings"].with_user(self.manager))
        settings.ecrm_rfm_source = "sale"
        settings.ecrm_rfm_window_days = 180
        settings.save().execute()
        company = self.manager.company_id
        self.assertEqual(company.ecrm_rfm_source, "sale")
        self.assertEqual(company.ecrm_rfm_window_days, 180)

    def test_late_delivery_margin_saved_as_parameter(self):
        settings = Form(self.env["res.config.settings"].with_user(self.manager))
        settings.ecrm_late_delivery_margin_hours = 48
        settings.save().execute()
        margin = self.env["ir.config_parameter"].sudo().get_param("ecrm_addon.late_delivery_margin_hours")
        self.assertEqual(margin, "48")

    def test_window_must_be_positive(self):
        with self.assertRaisesRegex(ValidationError, "at least one day"):
            self.env.company.ecrm_rfm_window_days = 0


@tagged("post_install", "-at_install")
class TestDemoShop(TransactionCase):
    def test_demo_shop_has_two_years_of_history(self):
        demo_customer = self.env.ref("ecrm_addon.demo_customer_ana_garcia", raise_if_not_found=False)
        if not demo_customer:
            self.skipTest("database installed without demo data")
        customers = self.env["res.partner"].search([("customer_rank", ">", 0)])
        self.assertGreaterEqual(len(customers), 30)
        orders = self.env["sale.order"].search([("partner_id", "in", customers.ids), ("state", "=", "sale")])
        self.assertGreater(len(orders), 40)
        span = max(orders.mapped("date_order")) - min(orders.mapped("date_order"))
        self.assertGreater(span.days, 365)
        done = orders.picking_ids.filtered(lambda p: p.state == "done")
        self.assertTrue(done, "delivered orders")
        self.assertTrue(orders.picking_ids - done, "deliveries still pending")
        invoices = orders.invoice_ids.filtered(lambda m: m.state == "posted" and m.move_type == "out_invoice")
        self.assertTrue(invoices)
        self.assertTrue(invoices.filtered(lambda m: m.payment_state in ("paid", "in_payment")))
        self.assertTrue(invoices.filtered(lambda m: m.payment_state == "not_paid"))
        self.assertTrue(orders.invoice_ids.filtered(lambda m: m.move_type == "out_refund" and m.state == "posted"))

    def test_demo_shop_is_scored_deduplicated_and_dated(self):
        ana = self.env.ref("ecrm_addon.demo_customer_ana_garcia", raise_if_not_found=False)
        if not ana:
            self.skipTest("database installed without demo data")
        scores = self.env["ecrm.rfm.score"].search([("company_id", "=", self.env.company.id)])
        self.assertTrue(scores.filtered("segment_id"), "demo customers have RFM segments")
        groups = self.env["ecrm.duplicate.group"].search([])
        duplicate = self.env.ref("ecrm_addon.demo_customer_ana_garcia_dup")
        self.assertTrue(groups.filtered(lambda g: ana in g.partner_ids and duplicate in g.partner_ids))
        self.assertGreaterEqual(self.env["ecrm.case"].search_count([]), 5, "demo cases on several channels")
        touches = self.env["ecrm.interaction"].search([("res_model", "=", "sale.order")])
        self.assertTrue(touches)
        self.assertGreater(max(touches.mapped("date")) - min(touches.mapped("date")), timedelta(days=365))

    def test_demo_user_sees_ecrm_menu(self):
        demo = self.env.ref("base.user_demo", raise_if_not_found=False)
        if not demo or not self.env.ref("ecrm_addon.demo_customer_ana_garcia", raise_if_not_found=False):
            self.skipTest("database installed without demo data")
        root = self.env.ref("ecrm_addon.ecrm_menu_root")
        self.assertIn(root.id, self.env["ir.ui.menu"].with_user(demo)._visible_menu_ids())


@tagged("post_install", "-at_install")
class TestMigration(TransactionCase):
    """The upgrade scripts of ``migrations/``, run on a database in the state
    of the version before."""

    @staticmethod
    def _script(version, name):
        path = Path(__file__).parents[1] / "migrations" / version / name
        spec = importlib.util.spec_from_file_location(f"ecrm_migration_{version}_{name}", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module

    def test_18_0_1_1_0_renames_the_first_stage_unless_renamed_since(self):
        self.env["res.lang"]._activate_lang("es_ES")
        stage = self.env.ref("ecrm_addon.ecrm_case_stage_new")
        stage.update_field_translations("name", {"en_US": "New", "es_ES": "Nuevos"})  # as 18.0.1.0.0 left it
        migrate = self._script("18.0.1.1.0", "post-migrate.py").migrate
        migrate(self.env.cr, "18.0.1.0.0")
        stage.invalidate_recordset()
        self.assertEqual(stage.with_context(lang="en_US").name, "Received")
        self.assertEqual(stage.with_context(lang="es_ES").name, "Recibido")
        stage.with_context(lang="en_US").name = "Incoming"  # a shop's own name stays
        migrate(self.env.cr, "18.0.1.0.0")
        self.assertEqual(stage.with_context(lang="en_US").name, "Incoming")

    def test_18_0_1_2_0_drops_the_old_report_views(self):
        cr = self.env.cr
        for table in ("ecrm_case_report", "ecrm_pressure_report"):  # as 18.0.1.1.0 left them
            cr.execute(SQL("CREATE VIEW %s AS (SELECT 1 AS id)", SQL.identifier(table)))
        self._script("18.0.1.2.0", "post-migrate.py").migrate(cr, "18.0.1.1.0")
        cr.execute("SELECT count(*) FROM pg_views WHERE viewname IN ('ecrm_case_report', 'ecrm_pressure_report')")
        self.assertEqual(cr.fetchone()[0], 0)

    def test_18_0_1_2_0_gives_old_deferrals_their_mailing_company(self):
        company = self.env["res.company"].create({"name": "Deferring Shop"})
        responsible = new_test_user(self.env, login="ecrm_mig_mailer", company_id=company.id)
        partner = self.env["res.partner"].create({"name": "Deferred", "email": "deferred@example.com"})
        mailing = self.env["mailing.mailing"].create(
            {
                "subject": "Old news",
                "body_html": "<p>News</p>",
                "user_id": responsible.id,
                "mailing_model_id": self.env["ir.model"]._get_id("res.partner"),
            }
        )
        deferral = self.env["ecrm.pressure.deferral"].create(
            {
                "mailing_id": mailing.id,
                "res_model": "res.partner",
                "res_id": partner.id,
                "partner_id": partner.id,
                "until": "2026-11-20 10:00:00",
            }
        )
        self.env.flush_all()
        cr = self.env.cr
        cr.execute("ALTER TABLE ecrm_pressure_deferral ALTER COLUMN company_id DROP NOT NULL")
        cr.execute("UPDATE ecrm_pressure_deferral SET company_id = NULL WHERE id = %s", [deferral.id])
        self._script("18.0.1.2.0", "pre-migrate.py").migrate(cr, "18.0.1.1.0")
        deferral.invalidate_recordset()
        self.assertEqual(deferral.company_id, company)

    def test_18_0_1_2_0_gives_each_level_made_before_a_signing_secret(self):
        policy = self.env["ecrm.escalation.policy"].create({"name": "Old policy", "company_id": self.env.company.id})
        levels = self.env["ecrm.escalation.level"].create(
            [{"name": f"Old level {n}", "policy_id": policy.id} for n in range(3)]
        )
        self.env.flush_all()
        self.env.cr.execute("UPDATE ecrm_escalation_level SET webhook_secret = NULL WHERE id = ANY(%s)", [levels.ids])
        self._script("18.0.1.2.0", "post-migrate.py").migrate(self.env.cr, "18.0.1.1.0")
        levels.invalidate_recordset()
        secrets = set(levels.mapped("webhook_secret"))
        self.assertEqual(len(secrets - {False}), 3)

    def test_18_0_1_2_0_gives_the_shipped_stages_their_customer_emails(self):
        waiting = self.env.ref("ecrm_addon.ecrm_case_stage_waiting")
        solved = self.env.ref("ecrm_addon.ecrm_case_stage_solved")
        own = self.env.ref("ecrm_addon.ecrm_case_mail_template_escalation")
        (waiting | solved).write({"template_id": False, "rating_template_id": False})  # as 18.0.1.1.0 left them
        solved.template_id = own  # a shop's own choice stays
        self._script("18.0.1.2.0", "post-case_stage_templates.py").migrate(self.env.cr, "18.0.1.1.0")
        self.assertEqual(waiting.template_id, self.env.ref("ecrm_addon.ecrm_case_mail_template_waiting"))
        self.assertEqual(solved.template_id, own)
        self.assertEqual(solved.rating_template_id, self.env.ref("ecrm_addon.ecrm_case_mail_template_rating"))
        self.assertFalse(self.env.ref("ecrm_addon.ecrm_case_stage_cancelled").rating_template_id)
