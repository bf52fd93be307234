from odoo import api, fields, models, modules
from odoo.exceptions import AccessError, UserError
from odoo.osv import expression
from odoo.tools import SQL

from ..tools.pressure import PRESSURE_HORIZON_HALF_LIVES
from .ecrm_rfm_score import RFM_SCORE_FIELDS, ecrm_empty_matches


class ResPartner(models.Model):
    _inherit = "res.partner"

    # --- Identity keys, matching, duplicates, customer 360 -----------------

    # --- RFM -----------------------------------------------------------------
    # The figures live in the narrow ecrm.rfm.score table (one row per company
    # and commercial partner); the partner shows the current company's row.

    ecrm_recency_days = fields.Integer(
        string="Recency (days)",
        compute="_compute_ecrm_rfm",
        search="_search_ecrm_recency_days",
        groups="ecrm_addon.group_ecrm_user",
        help="Days since the last purchase in the RFM window (current company).",
    )
    ecrm_frequency = fields.Integer(
        string="Frequency",
        compute="_compute_ecrm_rfm",
        search="_search_ecrm_frequency",
        groups="ecrm_addon.group_ecrm_user",
        help="Purchases in the RFM window (current company).",
    )
    ecrm_monetary = fields.Monetary(
        string="Monetary Value",
        compute="_compute_ecrm_rfm",
        search="_search_ecrm_monetary",
        currency_field="ecrm_currency_id",
        groups="ecrm_addon.group_ecrm_user",
        help="Untaxed amount bought in the RFM window, refunds deducted, in the company currency.",
    )
    ecrm_currency_id = fields.Many2one(
        "res.currency", compute="_compute_ecrm_currency_id", groups="ecrm_addon.group_ecrm_user"
    )
    ecrm_r_score = fields.Integer(
        string="R Score",
        compute="_compute_ecrm_rfm",
        search="_search_ecrm_r_score",
        groups="ecrm_addon.group_ecrm_user",
        help="1 (oldest) to 5 (most recent); 0 = no purchase in the window.",
    )
    ecrm_f_score = fields.Integer(
        string="F Score",
        compute="_compute_ecrm_rfm",
        search="_search_ecrm_f_score",
        groups="ecrm_addon.group_ecrm_user",
        help="1 (fewest purchases) to 5 (most); 0 = no purchase in the window.",
    )
    ecrm_m_score = fields.Integer(
        string="M Score",
        compute="_compute_ecrm_rfm",
        search="_search_ecrm_m_score",
        groups="ecrm_addon.group_ecrm_user",
        help="1 (lowest value) to 5 (highest); 0 = no purchase in the window.",
    )
    ecrm_segment_id = fields.Many2one(
        "ecrm.rfm.segment",
        string="RFM Segment",
        compute="_compute_ecrm_rfm",
        search="_search_ecrm_segment_id",
        groups="ecrm_addon.group_ecrm_user",
    )

    ecrm_rfm_score_ids = fields.One2many(
        "ecrm.rfm.score", "partner_id", string="RFM Scores", groups="ecrm_addon.group_ecrm_user"
    )

    @api.depends_context("company")
    def _compute_ecrm_currency_id(self):
        self.ecrm_currency_id = self.env.company.currency_id

    @api.depends_context("company")
    @api.depends("commercial_partner_id")
    def _compute_ecrm_rfm(self):
        commercial_ids = [pid for pid in set(self.commercial_partner_id._origin.ids) if pid]
        rows = {}
        if commercial_ids:
            scores = self.env["ecrm.rfm.score"].search_fetch(
                [("company_id", "=", self.env.company.id), ("partner_id", "in", commercial_ids)],
                ["partner_id", *RFM_SCORE_FIELDS.values()],
            )
            rows = {score.partner_id.id: score for score in scores}
        empty = self.env["ecrm.rfm.score"]
        for partner in self:
            score = rows.get(partner.commercial_partner_id._origin.id, empty)
            for partner_field, score_field in RFM_SCORE_FIELDS.items():
                partner[partner_field] = score[score_field]

    def _search_ecrm_rfm(self, partner_field, operator, value):
        """Partners whose commercial partner's score row (current company)
        matches; partners without a row count as 0 / no segment."""
        score_field = RFM_SCORE_FIELDS[partner_field]
        scores = self.env["ecrm.rfm.score"]
        company_domain = [("company_id", "=", self.env.company.id)]
        matching = scores._search(expression.AND([company_domain, [(score_field, operator, value)]]))
        domain = [("commercial_partner_id", "in", matching.subselect("partner_id"))]
        if ecrm_empty_matches(operator, value, False if partner_field == "ecrm_segment_id" else 0):
            scored = scores._search(company_domain)
            domain = expression.OR([domain, [("commercial_partner_id", "not in", scored.subselect("partner_id"))]])
        return domain

    def _search_ecrm_recency_days(self, operator, value):
        return self._search_ecrm_rfm("ecrm_recency_days", operator, value)

    def _search_ecrm_frequency(self, operator, value):
        return self._search_ecrm_rfm("ecrm_frequency", operator, value)

    def _search_ecrm_monetary(self, operator, value):
        return self._search_ecrm_rfm("ecrm_monetary", operator, value)

    def _search_ecrm_r_score(self, operator, value):
        return self._search_ecrm_rfm("ecrm_r_score", operator, value)

    def _search_ecrm_f_score(self, operator, value):
        return self._search_ecrm_rfm("ecrm_f_score", operator, value)

    def _search_ecrm_m_score(self, operator, value):
        return self._search_ecrm_rfm("ecrm_m_score", operator, value)

    def _search_ecrm_segment_id(self, operator, value):
        return self._search_ecrm_rfm("ecrm_segment_id", operator, value)

    @api.model
    def _ecrm_compute_rfm(self):
        """Recompute the RFM scores of every company (set-based, see ecrm.rfm.score)."""
        for company in self.env["res.company"].sudo().search([]):
            self._ecrm_compute_rfm_company(company)
        return True

    @api.model
    def _ecrm_compute_rfm_company(self, company):
        """Recompute one company's scores; False when another transaction is at it."""
        # sudo: the engine reads every invoice / order of the company and writes
        # the score table; callers are the cron and managers (checked upstream).
        return self.env["ecrm.rfm.score"].sudo()._rfm_refresh_company(company.sudo())

    @api.model
    def _cron_ecrm_compute_rfm(self):
        """Daily refresh, one company per slice, committed between slices outside
        tests. A company another worker is refreshing is skipped (advisory lock)."""
        companies = self.env["res.company"].sudo().search([])
        cron = self.env["ir.cron"]
        for done, company in enumerate(companies, start=1):
            self._ecrm_compute_rfm_company(company)
            cron._notify_progress(done=done, remaining=len(companies) - done)
            if not modules.module.current_test:
                self.env.cr.commit()  # pylint: disable=invalid-commit
        return True

    @api.model
    def action_ecrm_compute_rfm(self):
        """ "Recompute now": wakes the daily cron up so that the browser does not wait."""
        if not self.env.user.has_group("ecrm_addon.group_ecrm_manager"):
            raise AccessError(self.env._("Only e-CRM managers can recompute the RFM scores."))
        # sudo: managers may not read crons; triggering this one is all they get.
        self.env.ref("ecrm_addon.ecrm_rfm_cron").sudo()._trigger()
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "info",
                "message": self.env._("The RFM scores are being recomputed; they will be up to date in a few minutes."),
                "sticky": False,
            },
        }

    # --- Contact pressure ----------------------------------------------------

    ecrm_pressure = fields.Float(
        string="Contact Pressure",
        compute="_compute_ecrm_pressure",
        search="_search_ecrm_pressure",
        digits=(16, 2),
        groups="ecrm_addon.group_ecrm_user",
        help="Weight of every outbound touch of the current company, halved every half-life (Settings).",
    )
    ecrm_pressure_email_blocked_until = fields.Datetime(
        string="Marketing Emails Blocked Until",
        compute="_compute_ecrm_pressure_blocked",
        groups="ecrm_addon.group_ecrm_user",
    )
    ecrm_pressure_email_rule_id = fields.Many2one(
        "ecrm.pressure.rule",
        string="Email Blocked By",
        compute="_compute_ecrm_pressure_blocked",
        groups="ecrm_addon.group_ecrm_user",
    )
    ecrm_pressure_sms_blocked_until = fields.Datetime(
        string="Marketing SMS Blocked Until",
        compute="_compute_ecrm_pressure_blocked",
        groups="ecrm_addon.group_ecrm_user",
    )
    ecrm_pressure_sms_rule_id = fields.Many2one(
        "ecrm.pressure.rule",
        string="SMS Blocked By",
        compute="_compute_ecrm_pressure_blocked",
        groups="ecrm_addon.group_ecrm_user",
    )

    @api.model
    def _ecrm_pressure_sql(self, company, partner_ids=None, now=None):
        """Weighted pressure per commercial partner: rows (partner_id, pressure).

        ``sum(weight * 0.5 ^ (age_days / half_life))`` over the company's
        outbound touches (future-dated ones count at full weight); touches older
        than ten half-lives weigh less than 0.1% and are left out. All partners
        with a touch when ``partner_ids`` is None.
        """
        half_life = company.ecrm_pressure_half_life_days or 30
        where = (
            SQL("TRUE") if partner_ids is None else SQL("i.commercial_partner_id = ANY(%s::int[])", list(partner_ids))
        )
        return SQL(
            """
            SELECT i.commercial_partner_id AS partner_id,
                   SUM(i.weight * power(0.5, GREATEST(EXTRACT(EPOCH FROM (%(now)s - i.date)), 0)
                                            / 86400.0 / %(half_life)s)) AS pressure
              FROM ecrm_interaction i
             WHERE i.direction = 'outbound'
               AND i.company_id = %(company)s
               AND i.date > %(now)s - make_interval(days => %(horizon)s)
               AND %(where)s
             GROUP BY i.commercial_partner_id
            """,
            now=now or fields.Datetime.now(),
            half_life=float(half_life),
            company=company.id,
            horizon=half_life * PRESSURE_HORIZON_HALF_LIVES,
            where=where,
        )

    def _compute_ecrm_pressure(self):
        self.env["ecrm.interaction"].flush_model()
        commercial_ids = set(self.commercial_partner_id.ids)
        pressure = {}
        if commercial_ids:
            self.env.cr.execute(self._ecrm_pressure_sql(self.env.company, commercial_ids))
            pressure = dict(self.env.cr.fetchall())
        for partner in self:
            partner.ecrm_pressure = pressure.get(partner.commercial_partner_id.id, 0.0)

    def _search_ecrm_pressure(self, operator, value):
        if operator not in ("<", "<=", ">", ">=", "=", "!="):
            raise UserError(self.env._("Unsupported search on the contact pressure: %(operator)s", operator=operator))
        self.env["ecrm.interaction"].flush_model()
        query = SQL(
            "SELECT partner_id FROM (%s) pressure WHERE pressure.pressure %s %s",
            self._ecrm_pressure_sql(self.env.company),
            SQL(operator),
            float(value or 0.0),
        )
        self.env.cr.execute(query)
        commercial_ids = [row[0] for row in self.env.cr.fetchall()]
        domain = [("commercial_partner_id", "in", commercial_ids)]
        # Customers without any touch have a pressure of 0.
        zero_matches = {
            "<": value > 0,
            "<=": value >= 0,
            ">": value < 0,
            ">=": value <= 0,
            "=": not value,
            "!=": bool(value),
        }[operator]
        if zero_matches:
            self.env.cr.execute(SQL("SELECT partner_id FROM (%s) pressure", self._ecrm_pressure_sql(self.env.company)))
            touched = [row[0] for row in self.env.cr.fetchall()]
            domain = ["|", *domain, ("commercial_partner_id", "not in", touched)]
        return domain

    def _compute_ecrm_pressure_blocked(self):
        commercial_ids = list(set(self.commercial_partner_id.ids))
        Rule = self.env["ecrm.pressure.rule"]
        verdicts = {
            channel: Rule._ecrm_check(self.env.company, channel, "marketing", partner_ids=commercial_ids)
            for channel in ("email", "sms")
        }
        for partner in self:
            for channel in ("email", "sms"):
                verdict = verdicts[channel].get(partner.commercial_partner_id.id)
                partner[f"ecrm_pressure_{channel}_blocked_until"] = verdict.blocked_until if verdict else False
                partner[f"ecrm_pressure_{channel}_rule_id"] = verdict.rule_id if verdict else False
