# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import fields, models
from odoo.addons.rating.models.rating_data import RATING_LIMIT_MIN, RATING_LIMIT_SATISFIED
from odoo.tools import SQL

from ..models.ecrm_case import CASE_CHANNELS, CASE_PRIORITIES


class EcrmCaseReport(models.Model):
    """Cases analysis: backlog, SLA compliance (met / breached) and times to first
    response and resolution, per channel, stage, team and RFM segment; customer
    satisfaction (CSAT: share of happy ratings among the rated cases).

    A query evaluated at read time against the ORM's clock, so open cases past
    their deadline count as breached without any job having to flag them.
    """

    _name = "ecrm.case.report"
    _description = "Cases Analysis"
    _auto = False
    _order = "date_open desc"
    _rec_name = "case_id"
    _depends = {
        "ecrm.case": [
            "date_open",
            "date_closed",
            "commercial_partner_id",
            "channel",
            "priority",
            "category_id",
            "stage_id",
            "is_closed",
            "user_id",
            "team_id",
            "company_id",
            "policy_id",
            "escalation_level",
            "first_response_date",
            "response_deadline",
            "resolution_deadline",
            "ecrm_response_work_hours",
            "ecrm_resolution_work_hours",
        ],
        "ecrm.rfm.score": ["partner_id", "company_id", "segment_id"],
        "rating.rating": ["res_model", "res_id", "rating", "consumed", "write_date"],
    }

    case_id = fields.Many2one("ecrm.case", readonly=True)
    date_open = fields.Datetime(string="Opened On", readonly=True)
    date_closed = fields.Datetime(string="Closed On", readonly=True)
    partner_id = fields.Many2one("res.partner", string="Customer", readonly=True)
    channel = fields.Selection(CASE_CHANNELS, readonly=True)
    priority = fields.Selection(CASE_PRIORITIES, readonly=True)
    category_id = fields.Many2one("ecrm.case.category", readonly=True)
    stage_id = fields.Many2one("ecrm.case.stage", readonly=True)
    is_closed = fields.Boolean(string="Closed", readonly=True)
    user_id = fields.Many2one("res.users", string="Assignee", readonly=True)
    team_id = fields.Many2one("crm.team", string="Sales Team", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    policy_id = fields.Many2one("ecrm.escalation.policy", string="SLA Policy", readonly=True)
    segment_id = fields.Many2one("ecrm.rfm.segment", string="RFM Segment", readonly=True)
    escalation_level = fields.Integer(readonly=True, aggregator="max")
    response_status = fields.Selection(
        [("met", "Met"), ("breached", "Breached"), ("running", "Running"), ("none", "No target")], readonly=True
    )
    resolution_status = fields.Selection(
        [("met", "Met"), ("breached", "Breached"), ("running", "Running"), ("none", "No target")], readonly=True
    )
    response_breached = fields.Integer(string="Responses Breached", readonly=True)
    resolution_breached = fields.Integer(string="Resolutions Breached", readonly=True)
    hours_to_first_response = fields.Float(string="Hours to First Response", readonly=True, aggregator="avg")
    hours_to_resolution = fields.Float(string="Hours to Resolution", readonly=True, aggregator="avg")
    work_hours_to_first_response = fields.Float(
        string="Working Hours to First Response",
        readonly=True,
        aggregator="avg",
        help="In the working hours of the SLA policy (else the company), time waiting on the customer left out.",
    )
    work_hours_to_resolution = fields.Float(
        string="Working Hours to Resolution",
        readonly=True,
        aggregator="avg",
        help="In the working hours of the SLA policy (else the company), time waiting on the customer left out.",
    )
    case_count = fields.Integer(string="# Cases", readonly=True)
    rating = fields.Float(readonly=True, aggregator="avg", help="The case's last rating (1 to 5).")
    rating_date = fields.Datetime(
        string="Rated On",
        readonly=True,
        help="When the customer gave the case's last rating: CSAT over a period counts the ratings given in it.",
    )
    rating_count = fields.Integer(string="# Rated", readonly=True)
    rating_happy = fields.Integer(string="# Happy", readonly=True, help="Rated Satisfied (4 or more out of 5).")
    csat = fields.Float(
        string="CSAT (%)",
        readonly=True,
        aggregator="avg",
        help="Share of happy ratings among the rated cases (unrated cases do not count).",
    )

    def _status_sql(self, done, deadline, now):
        return SQL(
            """CASE WHEN %(deadline)s IS NULL THEN 'none'
                    WHEN %(done)s IS NOT NULL THEN CASE WHEN %(done)s <= %(deadline)s THEN 'met' ELSE 'breached' END
                    WHEN %(now)s > %(deadline)s THEN 'breached'
                    ELSE 'running' END""",
            done=done,
            deadline=deadline,
            now=now,
        )

    @property
    def _table_query(self):
        # The ORM's clock (not the database's), as every other deadline check.
        now = SQL("%s::timestamp", fields.Datetime.now())
        response = self._status_sql(SQL("c.first_response_date"), SQL("c.response_deadline"), now)
        resolution = self._status_sql(SQL("c.date_closed"), SQL("c.resolution_deadline"), now)
        return SQL(
            """
            SELECT c.id AS id, c.id AS case_id, c.date_open, c.date_closed,
                   c.commercial_partner_id AS partner_id, c.channel, c.priority, c.category_id,
                   c.stage_id, c.is_closed, c.user_id, c.team_id, c.company_id, c.policy_id,
                   s.segment_id, c.escalation_level, 1 AS case_count,
                   %(response)s AS response_status,
                   %(resolution)s AS resolution_status,
                   (CASE WHEN %(response)s = 'breached' THEN 1 ELSE 0 END) AS response_breached,
                   (CASE WHEN %(resolution)s = 'breached' THEN 1 ELSE 0 END) AS resolution_breached,
                   EXTRACT(EPOCH FROM (c.first_response_date - c.date_open)) / 3600.0
                       AS hours_to_first_response,
                   EXTRACT(EPOCH FROM (c.date_closed - c.date_open)) / 3600.0 AS hours_to_resolution,
                   r.rating, r.write_date AS rating_date,
                   (CASE WHEN r.rating IS NULL THEN 0 ELSE 1 END) AS rating_count,
                   (CASE WHEN r.rating >= %(happy)s THEN 1 ELSE 0 END) AS rating_happy,
                   (CASE WHEN r.rating >= %(happy)s THEN 100.0 WHEN r.rating IS NOT NULL THEN 0.0 END) AS csat,
                   (CASE WHEN c.first_response_date IS NOT NULL THEN c.ecrm_response_work_hours END)
                       AS work_hours_to_first_response,
                   (CASE WHEN c.date_closed IS NOT NULL THEN c.ecrm_resolution_work_hours END)
                       AS work_hours_to_resolution
              FROM ecrm_case c
         LEFT JOIN ecrm_rfm_score s
                ON s.partner_id = c.commercial_partner_id AND s.company_id = c.company_id
         LEFT JOIN LATERAL (
                   SELECT rr.rating, rr.write_date FROM rating_rating rr
                    WHERE rr.res_model = 'ecrm.case' AND rr.res_id = c.id
                      AND rr.consumed AND rr.rating >= %(rated)s
                 ORDER BY rr.write_date DESC, rr.id DESC
                    LIMIT 1
                   ) r ON TRUE
            """,
            response=response,
            resolution=resolution,
            happy=RATING_LIMIT_SATISFIED,
            rated=RATING_LIMIT_MIN,
        )
