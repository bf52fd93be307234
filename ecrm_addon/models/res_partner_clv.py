# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from markupsafe import Markup, escape

from odoo import api, fields, models
from odoo.osv import expression
from odoo.tools import SQL

from .ecrm_clv_score import CHURN_RISKS, CLV_SCORE_FIELDS
from .ecrm_rfm_score import ecrm_empty_matches

ECRM_USER = "ecrm_addon.group_ecrm_user"
# Products offered to each customer.
OFFER_SIZE = 3


class ResPartner(models.Model):
    _inherit = "res.partner"

    # --- Customer value --------------------------------------------------------
    # The figures live in ecrm.clv.score (one row per company and commercial
    # partner, rewritten by each RFM run); the partner shows the current
    # company's row. Without a row: 0 and no churn risk.

    ecrm_p_alive = fields.Float(
        string="Probability Active",
        compute="_compute_ecrm_clv",
        search="_search_ecrm_p_alive",
        digits=(16, 4),
        groups=ECRM_USER,
        help="Probability that the customer still buys (current company); 1 after a single purchase, "
        "0 without purchase in the calibration period.",
    )
    ecrm_expected_purchases = fields.Float(
        string="Expected Purchases (90 days)",
        compute="_compute_ecrm_clv",
        search="_search_ecrm_expected_purchases",
        digits=(16, 2),
        groups=ECRM_USER,
    )
    ecrm_expected_value = fields.Monetary(
        string="Expected Value (12 months)",
        compute="_compute_ecrm_clv",
        search="_search_ecrm_expected_value",
        currency_field="ecrm_currency_id",
        groups=ECRM_USER,
        help="Expected untaxed value of the next 12 months' purchases (gross margin when sales margins are "
        "enabled), in the company currency.",
    )
    ecrm_churn_risk = fields.Selection(
        CHURN_RISKS,
        string="Churn Risk",
        compute="_compute_ecrm_clv",
        search="_search_ecrm_churn_risk",
        groups=ECRM_USER,
        help="From the probability of being active and the thresholds in the settings; empty without purchase "
        "in the calibration period.",
    )
    ecrm_high_value = fields.Boolean(
        string="High Value",
        compute="_compute_ecrm_clv",
        search="_search_ecrm_high_value",
        groups=ECRM_USER,
        help="Among the fifth of the customers who bought the most in the calibration period.",
    )
    ecrm_offer_product_ids = fields.Many2many(
        "product.product",
        string="Products to Offer",
        compute="_compute_ecrm_offer",
        groups="base.group_user",
        help="Up to 3 products often bought with what the customer bought, that the customer does not have yet "
        "(sellable, not archived).",
    )
    ecrm_offer_html = fields.Html(
        string="Products to Offer (mailing block)",
        compute="_compute_ecrm_offer",
        sanitize=False,
        groups="base.group_user",
        help='The products to offer as a list, for mailings: <t t-out="object.ecrm_offer_html"/>.',
    )

    @api.depends_context("company")
    @api.depends("commercial_partner_id")
    def _compute_ecrm_clv(self):
        commercial_ids = [pid for pid in set(self.commercial_partner_id._origin.ids) if pid]
        rows = {}
        if commercial_ids:
            scores = self.env["ecrm.clv.score"].search_fetch(
                [("company_id", "=", self.env.company.id), ("partner_id", "in", commercial_ids)],
                ["partner_id", *CLV_SCORE_FIELDS.values()],
            )
            rows = {score.partner_id.id: score for score in scores}
        empty = self.env["ecrm.clv.score"]
        for partner in self:
            score = rows.get(partner.commercial_partner_id._origin.id, empty)
            for partner_field, score_field in CLV_SCORE_FIELDS.items():
                partner[partner_field] = score[score_field]

    def _search_ecrm_clv(self, partner_field, operator, value):
        """Partners whose commercial partner's value row (current company)
        matches; partners without a row count as 0 / empty."""
        score_field = CLV_SCORE_FIELDS[partner_field]
        scores = self.env["ecrm.clv.score"]
        company_domain = [("company_id", "=", self.env.company.id)]
        matching = scores._search(expression.AND([company_domain, [(score_field, operator, value)]]))
        domain = [("commercial_partner_id", "in", matching.subselect("partner_id"))]
        empty = False if partner_field in ("ecrm_churn_risk", "ecrm_high_value") else 0
        if ecrm_empty_matches(operator, value, empty):
            scored = scores._search(company_domain)
            domain = expression.OR([domain, [("commercial_partner_id", "not in", scored.subselect("partner_id"))]])
        return domain

    def _search_ecrm_p_alive(self, operator, value):
        return self._search_ecrm_clv("ecrm_p_alive", operator, value)

    def _search_ecrm_expected_purchases(self, operator, value):
        return self._search_ecrm_clv("ecrm_expected_purchases", operator, value)

    def _search_ecrm_expected_value(self, operator, value):
        return self._search_ecrm_clv("ecrm_expected_value", operator, value)

    def _search_ecrm_churn_risk(self, operator, value):
        return self._search_ecrm_clv("ecrm_churn_risk", operator, value)

    def _search_ecrm_high_value(self, operator, value):
        return self._search_ecrm_clv("ecrm_high_value", operator, value)

    @api.depends_context("company")
    @api.depends("commercial_partner_id")
    def _compute_ecrm_offer(self):
        offers = self._ecrm_offers(self.env.company)
        Product = self.env["product.product"]
        for partner in self:
            products = Product.browse(offers.get(partner.commercial_partner_id._origin.id, []))
            partner.ecrm_offer_product_ids = products
            partner.ecrm_offer_html = (
                Markup("<ul>%s</ul>")
                % Markup("").join(Markup("<li>%s</li>") % escape(p.display_name) for p in products)
                if products
                else False
            )

    def _ecrm_offers(self, company):
        """{commercial partner id: [product ids]}: for each customer of ``self``,
        the ``OFFER_SIZE`` products the company's rules recommend most
        confidently from what it bought on confirmed orders, less what it
        bought already and products archived, not for sale or of another
        company. One statement for the whole recordset."""
        commercial_ids = [pid for pid in set(self.commercial_partner_id._origin.ids) if pid]
        if not commercial_ids:
            return {}
        for model in ("sale.order", "sale.order.line", "ecrm.product.rule", "product.product", "product.template"):
            self.env[model].flush_model()
        self.env.cr.execute(
            SQL(
                """
                WITH owned AS MATERIALIZED (
                    SELECT DISTINCT p.commercial_partner_id AS partner_id, sol.product_id
                      FROM sale_order so
                      JOIN res_partner p ON p.id = so.partner_id
                      JOIN sale_order_line sol ON sol.order_id = so.id
                     WHERE so.company_id = %(company)s AND so.state = 'sale'
                       AND p.commercial_partner_id = ANY(%(partners)s)
                       AND sol.product_id IS NOT NULL
                ),
                candidates AS (
                    SELECT o.partner_id, r.recommended_product_id AS product_id,
                           MAX(r.confidence) AS confidence, MAX(r.lift) AS lift
                      FROM owned o
                      JOIN ecrm_product_rule r ON r.product_id = o.product_id AND r.company_id = %(company)s
                     WHERE NOT EXISTS (
                               SELECT 1 FROM owned mine
                                WHERE mine.partner_id = o.partner_id AND mine.product_id = r.recommended_product_id)
                     GROUP BY o.partner_id, r.recommended_product_id
                ),
                ranked AS (
                    SELECT c.partner_id, c.product_id,
                           row_number() OVER (PARTITION BY c.partner_id
                                              ORDER BY c.confidence DESC, c.lift DESC, c.product_id) AS rank
                      FROM candidates c
                      JOIN product_product pp ON pp.id = c.product_id AND pp.active
                      JOIN product_template pt ON pt.id = pp.product_tmpl_id
                     WHERE pt.active AND pt.sale_ok AND (pt.company_id IS NULL OR pt.company_id = %(company)s)
                )
                SELECT partner_id, ARRAY_AGG(product_id ORDER BY rank)
                  FROM ranked
                 WHERE rank <= %(size)s
                 GROUP BY partner_id
                """,
                company=company.id,
                partners=commercial_ids,
                size=OFFER_SIZE,
            )
        )
        return dict(self.env.cr.fetchall())
