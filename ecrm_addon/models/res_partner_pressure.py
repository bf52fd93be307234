# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Contact pressure of the customer: weighted pressure and the rules blocking marketing now."""

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL

from ..tools.pressure import PRESSURE_HORIZON_HALF_LIVES

# The half-life of a company that has none set (the setting's default)
DEFAULT_HALF_LIFE_DAYS = 30


def _half_life_sql(half_life):
    return SQL("GREATEST(COALESCE(%s, %s), 1)", half_life, DEFAULT_HALF_LIFE_DAYS)


def pressure_horizon_sql(interaction, now, half_life):
    """SQL condition: the touch is younger than ten half-lives (older ones
    weigh less than 0.1% and are left out, so that the log is read by date)."""
    return SQL(
        "%s.date > %s - make_interval(days => %s * %s)",
        SQL.identifier(interaction),
        now,
        PRESSURE_HORIZON_HALF_LIVES,
        _half_life_sql(half_life),
    )


def pressure_sql(interaction, now, half_life):
    """SQL of the weighted pressure of the touches aggregated:
    ``SUM(weight * 0.5 ^ (age_days / half_life))`` within the horizon,
    future-dated touches at full weight. ``interaction``: alias of the
    ecrm_interaction row; ``now``: the ORM's clock; ``half_life``: days (SQL
    or value), empty read as the setting's default."""
    row = SQL.identifier(interaction)
    return SQL(
        """SUM(CASE WHEN %(horizon)s
                    THEN %(row)s.weight * power(0.5, GREATEST(EXTRACT(EPOCH FROM (%(now)s - %(row)s.date)), 0)
                         / 86400.0 / %(half_life)s)
                    ELSE 0 END)""",
        horizon=pressure_horizon_sql(interaction, now, half_life),
        row=row,
        now=now,
        half_life=_half_life_sql(half_life),
    )


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
        """Weighted pressure per commercial partner of ``company``: rows
        (partner_id, pressure); every partner with a touch when ``partner_ids`` is None."""
        now = SQL("%s::timestamp", now or fields.Datetime.now())
        half_life = company.ecrm_pressure_half_life_days or None
        where = (
            SQL("TRUE") if partner_ids is None else SQL("i.commercial_partner_id = ANY(%s::int[])", list(partner_ids))
        )
        return SQL(
            """
            SELECT i.commercial_partner_id AS partner_id, %(pressure)s AS pressure
              FROM ecrm_interaction i
             WHERE i.direction = 'outbound'
               AND i.company_id = %(company)s
               AND %(horizon)s
               AND %(where)s
             GROUP BY i.commercial_partner_id
            """,
            pressure=pressure_sql("i", now, half_life),
            company=company.id,
            horizon=pressure_horizon_sql("i", now, half_life),
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
