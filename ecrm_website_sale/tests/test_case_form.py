# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import re

from odoo.tests import HttpCase, tagged

from .common import ShopCommon


@tagged("post_install", "-at_install")
class TestCaseForm(ShopCommon, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_shop()
        cls.env["ir.config_parameter"].sudo().set_param("ecrm_website_sale.case_form_rate_limit", 3)
        # the demo shop's own web cases are not the form's
        cls.demo_cases = cls.env["ecrm.case"].search([])

    def setUp(self):
        super().setUp()
        self.authenticate(None, None)

    def csrf(self, url="/contactus"):
        page = self.url_open(url)
        self.assertEqual(page.status_code, 200)
        return re.search(r'class="o_ecrm_case_form".*?name="csrf_token" value="([^"]+)"', page.text, re.S).group(1)

    def post(self, token, **values):
        return self.url_open("/shop/case", data={"csrf_token": token, **values})

    def cases(self):
        return self.env["ecrm.case"].search([("channel", "=", "web"), ("id", "not in", self.demo_cases.ids)])

    def test_contact_page_opens_a_case_on_the_existing_customer(self):
        response = self.post(self.csrf(), subject="Where is my parcel?", email="JANE@shop.example", name="J")
        self.assertEqual(response.status_code, 200)
        case = self.cases()
        self.assertEqual(len(case), 1)
        self.assertEqual(case.partner_id, self.customer)
        self.assertIn(case.name, response.text)
        # nothing of the customer is shown back
        self.assertNotIn("Secretname", response.text)
        # the acknowledgement went to the customer
        self.assertTrue(case.message_ids.filtered(lambda m: m.partner_ids == self.customer))

    def test_order_page_links_the_order(self):
        self.past_order._portal_ensure_token()
        url = f"/my/orders/{self.past_order.id}?access_token={self.past_order.access_token}"
        token = self.csrf(url)
        response = self.post(
            token,
            subject="Broken sole",
            order_id=str(self.past_order.id),
            access_token=self.past_order.access_token,
        )
        self.assertEqual(response.status_code, 200)
        case = self.cases()
        self.assertEqual(case.sale_order_id, self.past_order)
        self.assertEqual(case.partner_id, self.customer)

    def test_order_without_its_token_is_refused(self):
        response = self.post(self.csrf(), subject="Not mine", order_id=str(self.past_order.id), access_token="x")
        self.assertEqual(response.status_code, 400)
        self.assertFalse(self.cases())

    def test_bot_filling_the_hidden_field_creates_nothing(self):
        response = self.post(self.csrf(), subject="Cheap pills", email="bot@spam.example", ecrm_url="http://spam")
        self.assertEqual(response.status_code, 200)
        self.assertFalse(self.cases())
        self.assertFalse(self.env["res.partner"].search([("email", "=", "bot@spam.example")]))

    def test_failed_captcha_creates_nothing(self):
        IrHttp = type(self.env["ir.http"])
        self.patch(IrHttp, "_verify_request_recaptcha_token", lambda self, action: action != "website_form")
        response = self.post(self.csrf(), subject="Hello", email="someone@shop.example")
        self.assertEqual(response.status_code, 400)
        self.assertFalse(self.cases())

    def test_rate_limit_per_visitor(self):
        token = self.csrf()
        statuses = [self.post(token, subject=f"Case {n}", email="flood@shop.example").status_code for n in range(4)]
        self.assertEqual(statuses, [200, 200, 200, 429])
        self.assertEqual(len(self.cases()), 3)

    def test_without_csrf_token_is_refused(self):
        response = self.url_open("/shop/case", data={"subject": "No token", "email": "x@shop.example"})
        self.assertEqual(response.status_code, 400)
        self.assertFalse(self.cases())
