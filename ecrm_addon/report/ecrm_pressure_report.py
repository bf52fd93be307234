# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import fields, models
from odoo.tools import SQL

from ..models.res_partner_pressure import pressure_sql


class EcrmPressureReport(models.Model):
    """Weighted contact pressure per customer and company, sortable and pivotable.

    A query over the interaction log, computed when read with each company's
    half-life: the same figure as ``res.partner.ecrm_pressure``.
    """

    _name = "ecrm.pressure.report"
    _description = "Contact Pressure per Customer"
    _auto = False
    _order = "pressure desc"
    _rec_name = "partner_id"
    _depends = {
        "ecrm.interaction": ["commercial_partner_id", "company_id", "date", "direction", "category", "weight"],
        "res.company": ["ecrm_pressure_half_life_days"],
    }

    partner_id = fields.Many2one("res.partner", string="Customer", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    pressure = fields.Float(string="Contact Pressure", digits=(16, 2), readonly=True, aggregator="sum")
    touch_count = fields.Integer(string="Outbound Touches (30 days)", readonly=True)
    marketing_count = fields.Integer(string="Marketing Touches (30 days)", readonly=True)
    last_touch = fields.Datetime(string="Last Outbound Touch", readonly=True)

    @property
    def _table_query(self):
        # The ORM's clock (not the database's), as res.partner.ecrm_pressure.
        now = SQL("%s::timestamp", fields.Datetime.now())
        return SQL(
            """
            SELECT row_number() OVER (ORDER BY i.commercial_partner_id, i.company_id) AS id,
                   i.commercial_partner_id AS partner_id,
                   i.company_id,
                   %(pressure)s AS pressure,
                   COUNT(*) FILTER (WHERE i.date > %(now)s - interval '30 days') AS touch_count,
                   COUNT(*) FILTER (WHERE i.date > %(now)s - interval '30 days' AND i.category = 'marketing')
                       AS marketing_count,
                   MAX(i.date) AS last_touch
              FROM ecrm_interaction i
              JOIN res_company c ON c.id = i.company_id
             WHERE i.direction = 'outbound'
             GROUP BY i.commercial_partner_id, i.company_id
            """,
            now=now,
            pressure=pressure_sql("i", now, SQL("c.ecrm_pressure_half_life_days")),
        )
