# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import ast
import re
from pathlib import Path

import polib
from lxml import etree

from odoo.exceptions import ValidationError
from odoo.modules.module import get_module_path
from odoo.tests import TransactionCase, new_test_user, tagged
from odoo.tools.translate import TranslationModuleReader, code_translations


@tagged("post_install", "-at_install")
class TestSpanish(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["res.lang"]._activate_lang("es_ES")
        cls.env["ir.module.module"]._load_module_terms(["ecrm_addon"], ["es_ES"], overwrite=True)
        cls.user = new_test_user(cls.env, login="ecrm_es_user", groups="ecrm_addon.group_ecrm_manager", lang="es_ES")

    def _views(self, model, *views):
        """get_views as the Spanish user, as the web client asks for them."""
        return self.env[model].with_user(self.user).with_context(lang="es_ES").get_views(list(views))

    def _arch_texts(self, arch):
        root = etree.fromstring(arch)
        texts = {text.strip() for text in root.itertext() if text.strip()}
        for node in root.iter():
            texts.update(node.get(attr) for attr in ("string", "placeholder") if node.get(attr))
        return texts

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

    def test_case_form_and_list_in_spanish(self):
        views = self._views("ecrm.case", (False, "form"), (False, "list"))
        form = self._arch_texts(views["views"]["form"]["arch"])
        self.assertIn("¿De qué se trata?", form)
        self.assertIn("Documentos", form)
        self.assertNotIn("What is it about?", form)
        self.assertEqual(self._arch_texts(views["views"]["list"]["arch"]) & {"Cases", "Casos"}, {"Casos"})
        fields = views["models"]["ecrm.case"]["fields"]
        self.assertEqual(fields["subject"]["string"], "Asunto")
        self.assertEqual(fields["channel"]["string"], "Canal")

    def test_case_selection_values_in_spanish(self):
        fields = self.env["ecrm.case"].with_user(self.user).with_context(lang="es_ES").fields_get(["channel"])
        channels = dict(fields["channel"]["selection"])
        self.assertEqual((channels["phone"], channels["email"]), ("Teléfono", "Correo electrónico"))

    def test_partner_form_ecrm_page_in_spanish(self):
        views = self._views("res.partner", (False, "form"))
        form = self._arch_texts(views["views"]["form"]["arch"])
        self.assertTrue({"Vista 360 del cliente", "Claves de identidad", "Consentimiento"} <= form)
        self.assertFalse({"Customer 360", "Identity Keys"} & form)

    def test_partner_responses_in_spanish(self):
        """The response figures of a customer: on the e-CRM page of the form,
        as optional columns of the list, as filters, all in Spanish."""
        names = [
            f"ecrm_{channel}_{figure}"
            for channel in ("email", "sms")
            for figure in ("response_rate", "last_response_date", "unresponsive")
        ]
        views = self._views("res.partner", (False, "form"), (False, "list"), (False, "search"))
        for view_type in ("form", "list"):
            arch = etree.fromstring(views["views"][view_type]["arch"])
            shown = {node.get("name") for node in arch.iter("field")}
            self.assertLessEqual(set(names), shown, view_type)
        self.assertIn("Respuestas a los envíos", self._arch_texts(views["views"]["form"]["arch"]))
        fields = views["models"]["res.partner"]["fields"]
        self.assertEqual(
            [fields[name]["string"] for name in names],
            [
                "Tasa de respuesta por correo electrónico (%)",
                "Última respuesta por correo electrónico",
                "Sin respuesta por correo electrónico",
                "Tasa de respuesta por SMS (%)",
                "Última respuesta por SMS",
                "Sin respuesta por SMS",
            ],
        )
        search = etree.fromstring(views["views"]["search"]["arch"])
        filters = {node.get("name"): node.get("string") for node in search.iter("filter")}
        self.assertEqual(
            (filters["ecrm_email_unresponsive"], filters["ecrm_sms_unresponsive"]),
            ("Sin respuesta por correo electrónico", "Sin respuesta por SMS"),
        )

    def test_rfm_report_in_spanish(self):
        views = self._views("ecrm.rfm.score", (False, "pivot"), (False, "graph"))
        pivot = etree.fromstring(views["views"]["pivot"]["arch"])
        graph = etree.fromstring(views["views"]["graph"]["arch"])
        self.assertEqual(pivot.get("string"), "Clientes e ingresos por segmento")
        self.assertEqual(graph.get("string"), "Ingresos por segmento")
        fields = views["models"]["ecrm.rfm.score"]["fields"]
        labels = (fields["segment_id"]["string"], fields["monetary"]["string"])
        self.assertEqual(labels, ("Segmento", "Valor monetario"))
        segment = self.env.ref("ecrm_addon.ecrm_rfm_segment_champions")
        self.env["ecrm.rfm.score"].create(
            {"partner_id": self.user.partner_id.id, "company_id": self.env.company.id, "segment_id": segment.id}
        )
        Score = self.env["ecrm.rfm.score"].with_user(self.user).with_context(lang="es_ES")
        groups = Score.read_group([("segment_id", "=", segment.id)], ["monetary:sum"], ["segment_id"])
        self.assertEqual(groups[0]["segment_id"][1], "Campeones")

    def test_escalation_email_in_spanish_for_a_spanish_customer(self):
        customer = self.env["res.partner"].create(
            {"name": "Lucía Pérez", "email": "lucia.perez@example.es", "lang": "es_ES"}
        )
        policy = self.env["ecrm.escalation.policy"].create({"name": "ES", "response_hours": 4, "resolution_hours": 8})
        level = self.env["ecrm.escalation.level"].create(
            {
                "policy_id": policy.id,
                "name": "Customer email",
                "mail_template_id": self.env.ref("ecrm_addon.ecrm_case_mail_template_escalation").id,
            }
        )
        case = self.env["ecrm.case"].create(
            {
                "subject": "Parcel missing",
                "partner_id": customer.id,
                "stage_id": self.env.ref("ecrm_addon.ecrm_case_stage_in_progress").id,
                "category_id": self.env.ref("ecrm_addon.ecrm_case_category_complaint").id,
            }
        )
        level._ecrm_fire(case)
        sent = case.message_ids.filtered(lambda m: m.subject == f"{case.name}: Parcel missing")
        self.assertEqual(len(sent), 1)
        self.assertIn(customer, sent.partner_ids)
        # data of the case come out in the customer's language, not the sender's
        self.assertIn("En curso", sent.body)
        self.assertIn("Reclamación", sent.body)
        self.assertNotIn("In progress", sent.body)
        # and so does the template's own text
        self.assertIn("ahora se atiende con prioridad", sent.body)
        self.assertNotIn("handled with priority", sent.body)

    def test_onboarding_tour_in_spanish(self):
        source = (Path(get_module_path("ecrm_addon")) / "static/src/js/tours/ecrm_onboarding_tour.js").read_text()
        texts = set(re.findall(r'_t\(\s*"([^"]+)"', source))
        self.assertGreaterEqual(len(texts), 10)
        # what the web client receives for a Spanish user (/web/webclient/translations)
        spanish = {
            message["id"]: message["string"]
            for message in code_translations.get_web_translations("ecrm_addon", "es_ES")["messages"]
        }
        self.assertFalse(texts - spanish.keys(), "tour steps without a Spanish translation")
        self.assertEqual(spanish["Open the first overdue case."], "Abra el primer caso vencido.")
        # the closing message, offered with the tour in the user's language to a manager who runs the mailings
        manager = new_test_user(
            self.env,
            login="ecrm_es_tour_manager",
            groups="ecrm_addon.group_ecrm_manager,mass_mailing.group_mass_mailing_user",
            lang="es_ES",
        )
        manager.tour_enabled = True
        offered = self.env["web_tour.tour"].with_user(manager).with_context(lang="es_ES").get_current_tour()
        self.assertEqual(offered["name"], "ecrm_onboarding_tour")
        self.assertIn("¡Bien hecho!", offered["rainbowManMessage"])


@tagged("post_install", "-at_install")
class TestTranslationTemplate(TransactionCase):
    """i18n/ecrm_addon.pot holds every term Odoo's exporter finds for the addon
    (terms of the demo records aside): a string added without refreshing the
    template (scripts/i18n) fails here."""

    def _demo_xml_ids(self):
        path = Path(get_module_path("ecrm_addon"))
        manifest = ast.literal_eval((path / "__manifest__.py").read_text())
        ids = set()
        for name in manifest.get("demo", []):
            if name.endswith(".xml"):
                ids.update(node.get("id") for node in etree.parse(str(path / name)).iter("record"))
        return ids

    def test_template_holds_every_exported_term(self):
        demo = self._demo_xml_ids()
        exported = set()
        for _module, ttype, _name, res_id, source, _value, _comments in TranslationModuleReader(
            self.env.cr, modules=["ecrm_addon"]
        ):
            xml_id = str(res_id).split(".", 1)[-1]
            if ttype.startswith("model") and any(xml_id == d or xml_id.startswith(f"{d}_") for d in demo):
                continue
            exported.add(source)
        template = {
            entry.msgid
            for entry in polib.pofile(str(Path(get_module_path("ecrm_addon")) / "i18n" / "ecrm_addon.pot"))
            if not entry.obsolete
        }
        missing = sorted(exported - template)
        self.assertFalse(missing, f"{len(missing)} terms missing from ecrm_addon.pot (scripts/i18n): {missing[:10]}")

    def test_case_stages_and_rfm_segments_share_no_term(self):
        """One English term gets one Spanish translation: a stage and a segment
        need different words ("New" is the segment, Spanish "Nuevos")."""
        stages = self.env["ecrm.case.stage"].with_context(lang="en_US").search([]).mapped("name")
        segments = self.env["ecrm.rfm.segment"].with_context(lang="en_US").search([]).mapped("name")
        self.assertFalse(set(stages) & set(segments))
        self.assertIn("New", segments)
