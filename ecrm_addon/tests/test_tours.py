from odoo.tests import HttpCase, tagged


@tagged("post_install", "-at_install")
class TestTours(HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.customer = cls.env["res.partner"].create(
            {"name": "Tour Customer", "email": "tour.customer@example.com", "customer_rank": 1}
        )

    def test_agent_opens_customer_profile(self):
        self.start_tour("/odoo", "ecrm_agent_customer_tour", login="admin")
