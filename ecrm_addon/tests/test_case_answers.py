# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from freezegun import freeze_time

from odoo import Command
from odoo.exceptions import AccessError
from odoo.tests import Form, tagged

from .common import EcrmCaseCommon

PLACEHOLDERS = (
    '<p>Hello <t t-out="object.partner_id.name"/>, order <t t-out="object.order_ref"/> '
    'arrives on <t t-out="object.delivery_date_text"/>.</p>'
)


@tagged("post_install", "-at_install")
class TestCaseAnswers(EcrmCaseCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Answer = cls.env["ecrm.case.answer"]
        cls.delivery = cls.env.ref("ecrm_addon.ecrm_case_category_delivery")
        cls.billing = cls.env.ref("ecrm_addon.ecrm_case_category_billing")
        # shipped answers aside: each test counts its own
        cls.Answer.search([]).active = False
        cls.answer = cls.Answer.create({"name": "Where is it", "category_ids": cls.delivery.ids, "body": PLACEHOLDERS})
        cls.product = cls.env["product.product"].create({"name": "Lamp", "type": "consu"})

    def _case_with_order(self):
        order = self.env["sale.order"].create(
            {
                "partner_id": self.customer.id,
                "order_line": [Command.create({"product_id": self.product.id, "product_uom_qty": 1})],
            }
        )
        order.action_confirm()
        order.picking_ids.scheduled_date = self.dt("2026-11-27 10:00")
        return self.new_case(sale_order_id=order.id, category_id=self.delivery.id), order

    def test_answer_renders_the_case_placeholders(self):
        with freeze_time("2026-11-23 09:00"):
            case, order = self._case_with_order()
            body = self.answer._ecrm_render(case)
        self.assertIn("Hello Jane Doe", body)
        self.assertIn(f"order {order.name} ", body)
        self.assertIn("arrives on 11/27/2026", body)
        self.assertNotIn("t-out", body)

    def test_answer_is_rendered_in_the_customer_language(self):
        self.env["res.lang"]._activate_lang("es_ES")
        self.answer.update_field_translations(
            "body",
            {
                "es_ES": '<p>Hola <t t-out="object.partner_id.name"/>, '
                'su pedido llega el <t t-out="object.delivery_date_text"/>.</p>'
            },
        )
        with freeze_time("2026-11-23 09:00"):
            case, _order = self._case_with_order()
            self.assertIn("Hello Jane Doe", self.answer._ecrm_render(case))
            self.customer.lang = "es_ES"
            case.invalidate_recordset(["delivery_date_text"])
            body = self.answer._ecrm_render(case)
        self.assertIn("Hola Jane Doe", body)
        self.assertIn("llega el 27/11/2026", body)

    def test_case_suggests_the_three_most_used_answers_of_its_category(self):
        answers = self.Answer.create(
            [{"name": f"Delivery {uses}", "category_ids": self.delivery.ids, "body": "<p>x</p>"} for uses in range(4)]
        )
        for answer, uses in zip(answers, (5, 1, 9, 3), strict=True):
            answer.sudo().write({"use_count": uses})
        self.Answer.create({"name": "Billing", "category_ids": self.billing.ids, "body": "<p>x</p>", "use_count": 50})
        general = self.Answer.create({"name": "Thanks", "body": "<p>x</p>", "use_count": 2})
        case = self.new_case(category_id=self.delivery.id)
        self.assertEqual(case.suggested_answer_ids.mapped("name"), ["Delivery 2", "Delivery 0", "Delivery 3"])
        # a category with fewer answers is completed by answers for every case; none: only those
        billing_case = self.new_case(category_id=self.billing.id)
        self.assertEqual(billing_case.suggested_answer_ids.mapped("name"), ["Billing", "Thanks"])
        self.assertEqual(self.new_case().suggested_answer_ids, general)

    def test_answer_of_another_company_is_not_suggested(self):
        other = self.env["res.company"].create({"name": "Other Shop"})
        self.Answer.create(
            {"name": "Theirs", "category_ids": self.delivery.ids, "company_id": other.id, "use_count": 9}
        )
        case = self.new_case(category_id=self.delivery.id).with_user(self.agent)
        self.assertEqual(case.suggested_answer_ids.mapped("name"), ["Where is it"])

    def test_inserting_opens_the_chatter_composer_filled_and_counts_the_use(self):
        with freeze_time("2026-11-23 09:00"):
            case, order = self._case_with_order()
        case = case.with_user(self.agent)
        answer = case.suggested_answer_ids
        self.assertEqual(answer, self.answer)
        with freeze_time("2026-11-23 10:00"):
            action = answer.with_context(ecrm_case_id=case.id).action_ecrm_insert()
            self.assertEqual(action["res_model"], "mail.compose.message")
            composer = Form(self.env["mail.compose.message"].with_user(self.agent).with_context(**action["context"]))
            self.assertIn(order.name, composer.body)
            composer.save().action_send_mail()
        self.assertEqual(self.answer.use_count, 1)
        message = case.message_ids[0]
        self.assertIn("Hello Jane Doe", message.body)
        self.assertEqual(message.author_id, self.agent.partner_id)
        self.assertEqual(case.sudo().first_response_date, self.dt("2026-11-23 10:00"))

    def test_wizard_proposes_the_top_suggestion_with_its_preview(self):
        case, _order = self._case_with_order()
        wizard = Form(self.env["ecrm.case.answer.insert"].with_user(self.agent).with_context(default_case_id=case.id))
        self.assertEqual(wizard.answer_id, self.answer)
        self.assertIn("Hello Jane Doe", wizard.preview)
        action = wizard.save().action_insert()
        self.assertEqual(action["context"]["default_res_ids"], case.ids)
        self.assertEqual(self.answer.use_count, 1)

    def test_agent_inserts_answers_but_cannot_edit_them(self):
        with self.assertRaises(AccessError):
            self.answer.with_user(self.agent).write({"name": "Changed"})
        with self.assertRaises(AccessError):
            self.Answer.with_user(self.agent).create({"name": "Mine"})
        self.answer.with_user(self.manager).write({"name": "Changed"})

    def test_agent_cannot_render_code_in_an_answer(self):
        """Field paths render for everyone; other expressions only for template editors."""
        self.answer.body = '<p><t t-out="object.env.user.password"/></p>'
        case = self.new_case(category_id=self.delivery.id)
        with self.assertRaises(AccessError):
            self.answer.with_user(self.agent)._ecrm_render(case.with_user(self.agent))

    def test_shipped_answer_reaches_a_spanish_customer_in_spanish(self):
        self.env["res.lang"]._activate_lang("es_ES")
        self.env["ir.module.module"]._load_module_terms(["ecrm_addon"], ["es_ES"], overwrite=True)
        self.customer.lang = "es_ES"
        answer = self.env.ref("ecrm_addon.ecrm_case_answer_return_accepted")
        case, order = self._case_with_order()
        body = answer._ecrm_render(case)
        self.assertIn(f"Aceptamos la devolución de su pedido {order.name}.", body)
        self.assertEqual(answer.with_context(lang="es_ES").name, "Devolución aceptada")
