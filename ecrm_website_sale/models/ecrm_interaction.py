# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from datetime import timedelta

from odoo import api, fields, models
from odoo.tools import SQL

# Parameter: when the last run of the web activity job started (its tracks are read from a day before)
WATERMARK_PARAM = "ecrm_website_sale.web_activity_since"
# Tracks of this long before the last run are read again (late writes, a run that failed)
WATERMARK_OVERLAP = timedelta(days=1)
# A shop category page in a tracked URL: /shop/category/<slug>-<id>
CATEGORY_URL_RE = r"/shop/category/(?:[^/?#]*-)?([0-9]{1,9})(?:[/?#]|$)"


class EcrmInteraction(models.Model):
    _inherit = "ecrm.interaction"

    web_event = fields.Selection(
        [
            ("cart", "Abandoned Cart"),
            ("product", "Product Viewed"),
            ("category", "Category Viewed"),
            ("wishlist", "Added to Wishlist"),
        ],
        string="Web Activity",
        readonly=True,
        help="Set on the touches the eCommerce's activity job writes; they are kept for the retention "
        "period of Settings.",
    )

    @api.model
    def _cron_ecrm_log_web_activity(self):
        """Abandoned carts (Odoo's definition and delay), product and category
        views of identified visitors and wishlist adds into the log: one
        ``INSERT ... SELECT`` per kind, at most one row per cart and one per
        customer, product (or category) and day; a product viewed and
        wishlisted on one day is one row. Safe to run twice or in parallel:
        a transaction lock lets one run through, rows already logged are
        never written again."""
        self.env.cr.execute(SQL("SELECT pg_try_advisory_xact_lock(hashtext('ecrm_web_activity'))"))
        if not self.env.cr.fetchone()[0]:
            return 0
        now = fields.Datetime.now()
        params = self.env["ir.config_parameter"].sudo()
        since = fields.Datetime.to_datetime(params.get_param(WATERMARK_PARAM)) or now - WATERMARK_OVERLAP
        since -= WATERMARK_OVERLAP
        statements = [self._ecrm_web_carts_sql(now), self._ecrm_web_categories_sql(now, since)]
        if "product.wishlist" in self.env:
            statements.append(self._ecrm_web_wishlist_sql(now, since))
        # after the wishlist: a product wishlisted and viewed on one day is its wishlist row
        statements.append(self._ecrm_web_products_sql(now, since))
        models_read = ["sale.order", "sale.order.line", "res.partner", "ecrm.interaction", "website.visitor"]
        models_read += ["website.track", "product.wishlist"] if "product.wishlist" in self.env else ["website.track"]
        for model in models_read:
            self.env[model].flush_model()
        written = 0
        cron = self.env["ir.cron"]
        for done, statement in enumerate(statements, start=1):
            self.env.cr.execute(statement)
            written += self.env.cr.rowcount
            cron._notify_progress(done=done, remaining=len(statements) - done)
        params.set_param(WATERMARK_PARAM, fields.Datetime.to_string(now))
        self.invalidate_model()
        return written

    @api.model
    def _ecrm_web_insert_sql(self, event, rows):
        """``INSERT ... SELECT`` of web touches from ``rows`` (a query of
        partner_id, name, date, res_model, res_id, company_id)."""
        return SQL(
            """
            INSERT INTO ecrm_interaction (
                partner_id, commercial_partner_id, name, date, channel, direction, category, weight,
                res_model, res_id, company_id, web_event, create_uid, create_date, write_uid, write_date)
            SELECT r.partner_id, p.commercial_partner_id, r.name, r.date, 'web', 'inbound', 'sales', %(weight)s,
                   r.res_model, r.res_id, r.company_id, %(event)s, %(uid)s, %(now)s, %(uid)s, %(now)s
              FROM (%(rows)s) AS r
              JOIN res_partner p ON p.id = r.partner_id
            """,
            weight=self._channel_weights().get("web", 1.0),
            event=event,
            uid=self.env.uid,
            now=fields.Datetime.now(),
            rows=rows,
        )

    @api.model
    def _ecrm_web_retention_sql(self, alias, date_column, now):
        """SQL condition: the row of company ``alias``.company_id is younger than its retention."""
        return SQL(
            "%s > %s - make_interval(days => (SELECT GREATEST(c.ecrm_web_retention_days, 1) "
            "FROM res_company c WHERE c.id = %s))",
            SQL.identifier(alias, date_column),
            now,
            SQL.identifier(alias, "company_id"),
        )

    @api.model
    def _ecrm_web_carts_sql(self, now):
        """One row per abandoned cart (``is_abandoned_cart`` as Odoo searches it)."""
        abandoned = self.env["sale.order"].sudo()._search([("is_abandoned_cart", "=", True)])
        label = self.env._("Abandoned cart")
        rows = SQL(
            """
            SELECT so.partner_id, %(label)s || ' ' || so.name AS name, so.date_order AS date,
                   'sale.order' AS res_model, so.id AS res_id, so.company_id
              FROM sale_order so
             WHERE so.id IN %(abandoned)s
               AND %(recent)s
               AND NOT EXISTS (SELECT 1 FROM ecrm_interaction i
                                WHERE i.res_model = 'sale.order' AND i.res_id = so.id AND i.web_event = 'cart')
            """,
            label=label,
            abandoned=abandoned.subselect(),
            recent=self._ecrm_web_retention_sql("so", "date_order", now),
        )
        return self._ecrm_web_insert_sql("cart", rows)

    @api.model
    def _ecrm_web_visits_sql(self, target_sql, since, now):
        """The tracked visits of identified visitors (not internal users), since
        ``since``: rows (partner_id, commercial_partner_id, target id, date,
        day, company_id); ``target_sql`` is the target of a track ``t``."""
        return SQL(
            """
            SELECT v.partner_id, p.commercial_partner_id, %(target)s AS target_id, t.visit_datetime AS date,
                   date_trunc('day', t.visit_datetime) AS day,
                   COALESCE(w.company_id, p.company_id, %(company)s) AS company_id
              FROM website_track t
              JOIN website_visitor v ON v.id = t.visitor_id
              JOIN res_partner p ON p.id = v.partner_id
              LEFT JOIN website w ON w.id = v.website_id
             WHERE t.visit_datetime >= %(since)s AND t.visit_datetime <= %(now)s
               AND NOT EXISTS (SELECT 1 FROM res_users u WHERE u.partner_id = v.partner_id AND NOT u.share)
            """,
            target=target_sql,
            since=since,
            now=now,
            company=self.env.company.id,
        )

    @api.model
    def _ecrm_web_daily_sql(self, event, events, res_model, visits, label, name_sql, join_sql):
        """Rows of one touch per customer, target and day from ``visits``
        (see ``_ecrm_web_visits_sql``), less the days the log already has
        one of ``events`` for; the first visit of the day gives the date."""
        return SQL(
            """
            WITH visits AS (%(visits)s),
            daily AS (
                SELECT DISTINCT ON (commercial_partner_id, target_id, day)
                       partner_id, commercial_partner_id, target_id, date, day, company_id
                  FROM visits
                 WHERE target_id IS NOT NULL
                 ORDER BY commercial_partner_id, target_id, day, date, partner_id
            )
            SELECT d.partner_id, %(label)s || ' ' || %(name)s AS name, d.date,
                   %(res_model)s AS res_model, d.target_id AS res_id, d.company_id
              FROM daily d
              %(join)s
             WHERE NOT EXISTS (
                       SELECT 1 FROM ecrm_interaction i
                        WHERE i.res_model = %(res_model)s AND i.res_id = d.target_id
                          AND i.commercial_partner_id = d.commercial_partner_id
                          AND i.web_event IN %(events)s
                          AND i.date >= d.day AND i.date < d.day + interval '1 day')
            """,
            visits=visits,
            label=label,
            name=name_sql,
            res_model=res_model,
            join=join_sql,
            events=tuple(events),
        )

    @api.model
    def _ecrm_web_products_sql(self, now, since):
        lang = self.env.lang or "en_US"
        visits = self._ecrm_web_visits_sql(SQL("t.product_id"), since, now)
        rows = self._ecrm_web_daily_sql(
            "product",
            ("product", "wishlist"),
            "product.product",
            visits,
            self.env._("Product viewed:"),
            SQL("COALESCE(pt.name->>%s, pt.name->>'en_US')", lang),
            SQL(
                "JOIN product_product pp ON pp.id = d.target_id JOIN product_template pt ON pt.id = pp.product_tmpl_id"
            ),
        )
        return self._ecrm_web_insert_sql("product", rows)

    @api.model
    def _ecrm_web_categories_sql(self, now, since):
        lang = self.env.lang or "en_US"
        target = SQL("substring(t.url from %s)::int", CATEGORY_URL_RE)
        visits = self._ecrm_web_visits_sql(target, since, now)
        rows = self._ecrm_web_daily_sql(
            "category",
            ("category",),
            "product.public.category",
            visits,
            self.env._("Category viewed:"),
            SQL("COALESCE(c.name->>%s, c.name->>'en_US')", lang),
            SQL("JOIN product_public_category c ON c.id = d.target_id"),
        )
        return self._ecrm_web_insert_sql("category", rows)

    @api.model
    def _ecrm_web_wishlist_sql(self, now, since):
        """Wishlist adds (website_sale_wishlist, when installed) of customers."""
        lang = self.env.lang or "en_US"
        visits = SQL(
            """
            SELECT wl.partner_id, p.commercial_partner_id, wl.product_id AS target_id, wl.create_date AS date,
                   date_trunc('day', wl.create_date) AS day, w.company_id
              FROM product_wishlist wl
              JOIN website w ON w.id = wl.website_id
              JOIN res_partner p ON p.id = wl.partner_id
             WHERE wl.create_date >= %(since)s AND wl.create_date <= %(now)s
               AND NOT EXISTS (SELECT 1 FROM res_users u WHERE u.partner_id = wl.partner_id AND NOT u.share)
            """,
            since=since,
            now=now,
        )
        rows = self._ecrm_web_daily_sql(
            "wishlist",
            ("product", "wishlist"),
            "product.product",
            visits,
            self.env._("Added to wishlist:"),
            SQL("COALESCE(pt.name->>%s, pt.name->>'en_US')", lang),
            SQL(
                "JOIN product_product pp ON pp.id = d.target_id JOIN product_template pt ON pt.id = pp.product_tmpl_id"
            ),
        )
        return self._ecrm_web_insert_sql("wishlist", rows)

    @api.model
    def _cron_ecrm_purge_web_activity(self):
        """Remove the web touches older than their company's retention: one statement."""
        self.flush_model()
        self.env.cr.execute(
            SQL(
                """
                DELETE FROM ecrm_interaction i
                 USING res_company c
                 WHERE c.id = i.company_id AND i.web_event IS NOT NULL
                   AND i.date < %s - make_interval(days => GREATEST(c.ecrm_web_retention_days, 1))
                """,
                fields.Datetime.now(),
            )
        )
        removed = self.env.cr.rowcount
        self.invalidate_model()
        return removed
