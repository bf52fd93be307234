# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import Command
from odoo.addons.ecrm_addon.tests.test_customer_value import ClvCase
from odoo.addons.ecrm_addon.tools import clv
from odoo.tests import tagged


@tagged("post_install", "-at_install")
class TestCustomerValueMargin(ClvCase):
    """The invoices of ``ClvCase`` plus confirmed orders of the calibration
    period (sale_margin installed): ``refund`` bought for 100 what cost 30
    (margin rate 0.7), ``active`` for 60 what cost 45 (0.25); ``one_time``
    has only a quotation, at cost. The company's rate: 85 / 160."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        Product = cls.env["product.product"]
        cheap = Product.create({"name": "Margin cheap", "type": "consu", "standard_price": 30})
        dear = Product.create({"name": "Margin dear", "type": "consu", "standard_price": 45})

        def order(partner, product, price):
            line = Command.create({"product_id": product.id, "product_uom_qty": 1, "price_unit": price, "tax_id": []})
            return cls.env["sale.order"].create(
                {"partner_id": partner.id, "company_id": cls.company.id, "order_line": [line]}
            )

        orders = order(cls.p["refund"], cheap, 100) | order(cls.p["active"], dear, 60)
        orders.action_confirm()
        quotation = order(cls.p["one_time"], cheap, 30)
        (orders | quotation).write({"date_order": "2024-03-10 10:00:00"})
        cls.env["ecrm.rfm.score"]._rfm_refresh_company(cls.company)

    def _revenue_value(self, row, monetary):
        """The expected value of ``row`` as revenue: the pure models at the stored parameters."""
        fit = self._latest_fit()
        bgnbd = clv.BgNbdParams(fit.bgnbd_r, fit.bgnbd_alpha, fit.bgnbd_a, fit.bgnbd_b)
        gamma_gamma = clv.GammaGammaParams(fit.gg_p, fit.gg_q, fit.gg_v)
        x, t_x, age = row.frequency, row.recency_days, row.age_days
        return clv.expected_purchases(bgnbd, 365, x, t_x, age) * clv.expected_spend(gamma_gamma, x, monetary)

    def test_expected_value_is_gross_margin_at_the_customer_own_rate(self):
        rows = self._rows()
        # mean repeat purchase value of refund: (250 - 100) / 1; of active: 60
        self.assertAlmostEqual(
            rows[self.p["refund"]].expected_value, self._revenue_value(rows[self.p["refund"]], 150) * 0.7, places=2
        )
        self.assertAlmostEqual(
            rows[self.p["active"]].expected_value, self._revenue_value(rows[self.p["active"]], 60) * 0.25, places=2
        )

    def test_customer_without_confirmed_order_gets_the_company_rate(self):
        row = self._rows()[self.p["one_time"]]
        self.assertAlmostEqual(row.expected_value, self._revenue_value(row, 0) * 85 / 160, places=2)

    def test_probabilities_and_purchases_do_not_depend_on_margins(self):
        row = self._rows()[self.p["active"]]
        fit = self._latest_fit()
        bgnbd = clv.BgNbdParams(fit.bgnbd_r, fit.bgnbd_alpha, fit.bgnbd_a, fit.bgnbd_b)
        self.assertAlmostEqual(row.p_alive, clv.p_alive(bgnbd, row.frequency, row.recency_days, row.age_days), places=5)
        self.assertAlmostEqual(
            row.expected_purchases,
            clv.expected_purchases(bgnbd, 90, row.frequency, row.recency_days, row.age_days),
            places=3,
        )
