"""Contact pressure of the customer: weighted pressure and the rules blocking marketing now."""

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL

from ..tools.pressure import PRESSURE_HORIZON_HALF_LIVES


class ResPartner(models.Model):
    _inherit = "res.partner"

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
