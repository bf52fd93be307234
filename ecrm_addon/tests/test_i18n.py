from odoo.exceptions import ValidationError
from odoo.tests import TransactionCase, new_test_user, tagged


@tagged("post_install", "-at_install")
class TestSpanish(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["res.lang"]._activate_lang("es_ES")
        cls.env["ir.module.module"]._load_module_terms(["ecrm_addon"], ["es_ES"], overwrite=True)
        cls.user = new_test_user(cls.env, login="ecrm_es_user", groups="ecrm_addon.group_ecrm_manager", lang="es_ES")

    def test_menus_in_spanish(self):
        menus = self.env["ir.ui.menu"].with_user(self.user).with_context(lang="es_ES")
        self.assertEqual(menus.browse(self.env.ref("ecrm_addon.ecrm_interaction_menu").id).name, "Interacciones")
        self.assertEqual(menus.browse(self.env.ref("ecrm_addon.ecrm_rfm_segment_menu").id).name, "Segmentos RFM")

    def test_segments_in_spanish(self):
        segment = self.env.ref("ecrm_addon.ecrm_rfm_segment_champions").with_user(self.user).with_context(lang="es_ES")
        self.assertEqual(segment.name, "Campeones")
        lost = self.env.ref("ecrm_addon.ecrm_rfm_segment_lost").with_user(self.user).with_context(lang="es_ES")
        self.assertEqual(lost.name, "Perdidos")

    def test_error_messages_in_spanish(self):
        company = self.env.company.with_context(lang="es_ES")
        with self.assertRaises(ValidationError) as raised:
            company.ecrm_rfm_window_days = 0
        self.assertNotIn("must be at least one day", str(raised.exception))
        self.assertIn("día", str(raised.exception))
