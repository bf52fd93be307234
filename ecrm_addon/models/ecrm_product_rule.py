# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from datetime import timedelta

from odoo import api, fields, models, modules
from odoo.tools import SQL

# Fewest orders a rule rests on, whatever the support setting.
RULE_MIN_ORDERS = 2


class EcrmProductRule(models.Model):
    """A "frequently bought together" rule of one company: the confirmed orders
    of the RFM window holding ``product_id`` also hold
    ``recommended_product_id`` in ``confidence`` of the cases. Rebuilt for the
    whole company by a daily cron, in SQL (see ``_rule_refresh_company``)."""

    _name = "ecrm.product.rule"
    _description = "Frequently Bought Together Rule"
    _order = "company_id, product_id, confidence desc, lift desc"
    _log_access = False

    company_id = fields.Many2one("res.company", required=True, readonly=True, ondelete="cascade", index=True)
    date = fields.Date(string="Computed For", readonly=True)
    product_id = fields.Many2one(
        "product.product", string="Bought", required=True, readonly=True, ondelete="cascade", index=True
    )
    recommended_product_id = fields.Many2one(
        "product.product", string="Also Bought", required=True, readonly=True, ondelete="cascade"
    )
    order_count = fields.Integer(string="Orders Together", readonly=True)
    support = fields.Float(
        string="Support (%)", digits=(16, 3), readonly=True, help="Share of the orders holding both products."
    )
    confidence = fields.Float(
        string="Confidence (%)",
        digits=(16, 2),
        readonly=True,
        help="Share of the orders holding the first product that also hold the recommended one.",
    )
    lift = fields.Float(
        digits=(16, 2),
        readonly=True,
        help="Confidence divided by the share of all orders holding the recommended product: above 1, "
        "buying the first product makes the second more likely.",
    )

    @api.model
    def _rule_refresh_company(self, company):
        """Replace the company's rules: baskets (distinct products of each
        confirmed order of the RFM window), products in enough of them, pairs
        of those in the same basket, and the rules whose support, confidence
        and lift reach the company's minimums. Two statements, set-based."""
        for model in ("sale.order", "sale.order.line"):
            self.env[model].flush_model()
        reference, date_from = self.env["ecrm.rfm.score"]._rfm_window(company)
        self.env.cr.execute(
            SQL(
                """
                DELETE FROM ecrm_product_rule WHERE company_id = %(company)s;
                WITH baskets AS MATERIALIZED (
                    SELECT DISTINCT sol.order_id, sol.product_id
                      FROM sale_order_line sol
                      JOIN sale_order so ON so.id = sol.order_id
                     WHERE so.company_id = %(company)s AND so.state = 'sale'
                       AND so.date_order >= %(start)s AND so.date_order < %(stop)s
                       AND sol.product_id IS NOT NULL AND sol.display_type IS NULL
                       AND sol.is_downpayment IS NOT TRUE
                ),
                total AS (SELECT COUNT(DISTINCT order_id)::float8 AS orders FROM baskets),
                minimum AS (
                    SELECT GREATEST(%(min_orders)s, CEIL(%(support)s * orders - 1e-9))::int AS orders FROM total
                ),
                items AS MATERIALIZED (
                    SELECT product_id, COUNT(*) AS orders
                      FROM baskets
                     GROUP BY product_id
                    HAVING COUNT(*) >= (SELECT orders FROM minimum)
                ),
                frequent AS MATERIALIZED (
                    SELECT b.order_id, b.product_id FROM baskets b JOIN items i ON i.product_id = b.product_id
                ),
                pairs AS (
                    SELECT a.product_id, b.product_id AS recommended_product_id, COUNT(*) AS orders
                      FROM frequent a
                      JOIN frequent b ON b.order_id = a.order_id AND b.product_id <> a.product_id
                     GROUP BY a.product_id, b.product_id
                    HAVING COUNT(*) >= (SELECT orders FROM minimum)
                )
                INSERT INTO ecrm_product_rule (
                    company_id, date, product_id, recommended_product_id, order_count, support, confidence, lift)
                SELECT %(company)s, %(reference)s, p.product_id, p.recommended_product_id, p.orders,
                       100 * p.orders / t.orders, 100.0 * p.orders / a.orders,
                       p.orders * t.orders / (a.orders::float8 * b.orders)
                  FROM pairs p
                 CROSS JOIN total t
                  JOIN items a ON a.product_id = p.product_id
                  JOIN items b ON b.product_id = p.recommended_product_id
                 WHERE 100.0 * p.orders / a.orders >= %(confidence)s
                   AND p.orders * t.orders / (a.orders::float8 * b.orders) >= %(lift)s
                """,
                company=company.id,
                min_orders=RULE_MIN_ORDERS,
                reference=reference,
                start=fields.Datetime.to_datetime(date_from),
                stop=fields.Datetime.to_datetime(reference + timedelta(days=1)),
                support=company.ecrm_rule_min_support / 100,
                confidence=company.ecrm_rule_min_confidence - 1e-9,
                lift=company.ecrm_rule_min_lift - 1e-9,
            )
        )
        self.invalidate_model()
        self.env["res.partner"].invalidate_model(["ecrm_offer_product_ids", "ecrm_offer_html"])
        return True

    @api.model
    def _cron_ecrm_refresh_rules(self):
        """Daily: every company's rules, one company per slice, committed
        between slices outside tests."""
        companies = self.env["res.company"].sudo().search([])
        cron = self.env["ir.cron"]
        cron._notify_progress(done=0, remaining=len(companies))
        for done, company in enumerate(companies, start=1):
            # sudo: the rules are built from every order of the company
            self.sudo()._rule_refresh_company(company)
            cron._notify_progress(done=done, remaining=len(companies) - done)
            if not modules.module.current_test:
                self.env.cr.commit()  # pylint: disable=invalid-commit
        return True
