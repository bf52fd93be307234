# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from collections import defaultdict

from odoo import api, fields, models
from odoo.osv import expression
from odoo.tools import SQL, Query

from .ecrm_case import INTERNAL
from .ecrm_rfm_score import ecrm_empty_matches


class EcrmCase(models.Model):
    """Routing of new cases: a team by the routing rules, an assignee by the
    team's assignment method among the members working now."""

    _inherit = "ecrm.case"

    ecrm_segment_id = fields.Many2one(
        "ecrm.rfm.segment",
        string="RFM Segment",
        compute="_compute_ecrm_segment_id",
        search="_search_ecrm_segment_id",
        groups=INTERNAL,
        help="The customer's RFM segment in the case's company.",
    )

    @api.depends("commercial_partner_id", "company_id")
    def _compute_ecrm_segment_id(self):
        segments = self._ecrm_segments({(c.commercial_partner_id.id, c.company_id.id) for c in self})
        for case in self:
            case.ecrm_segment_id = segments.get((case.commercial_partner_id.id, case.company_id.id), False)

    def _search_ecrm_segment_id(self, operator, value):
        """Cases whose customer's score row in the case's own company matches;
        customers without a row have no segment."""
        segments = self.env["ecrm.rfm.segment"]._search([("id", operator, value)])
        scored = SQL(
            """SELECT 1 FROM ecrm_rfm_score s
                WHERE s.partner_id = ecrm_case.commercial_partner_id AND s.company_id = ecrm_case.company_id""",
        )
        query = Query(self.env, self._table, SQL.identifier(self._table))
        query.add_where(SQL("EXISTS (%s AND s.segment_id IN %s)", scored, segments.subselect()))
        domain = [("id", "in", query)]
        if ecrm_empty_matches(operator, value, False):
            unscored = Query(self.env, self._table, SQL.identifier(self._table))
            unscored.add_where(SQL("NOT EXISTS (%s AND s.segment_id IS NOT NULL)", scored))
            domain = expression.OR([domain, [("id", "in", unscored)]])
        return domain

    @api.model
    def _ecrm_segments(self, keys):
        """{(commercial partner id, company id): segment id} for these pairs (one
        query); during a creation of cases, pairs already read (by the routing,
        then by the policies' domains) are not read again."""
        memo = self._ecrm_memo("segments")
        keys = {(partner, company) for partner, company in keys if partner and company}
        missing = keys - memo.keys()
        if missing:
            memo.update(dict.fromkeys(missing, False))
            memo.update(self._ecrm_read_segments(missing))
        return {key: memo[key] for key in keys if memo[key]}

    @api.model
    def _ecrm_read_segments(self, keys):
        """{(commercial partner id, company id): segment id} of these pairs that have one (one query)."""
        # sudo: the segment routes and covers the case, whoever opens it (portal, mail gateway)
        scores = (
            self.env["ecrm.rfm.score"]
            .sudo()
            .search_fetch(
                [
                    ("partner_id", "in", list({partner for partner, _company in keys})),
                    ("company_id", "in", list({company for _partner, company in keys})),
                    ("segment_id", "!=", False),
                ],
                ["partner_id", "company_id", "segment_id"],
            )
        )
        return {(s.partner_id.id, s.company_id.id): s.segment_id.id for s in scores}

    @api.model_create_multi
    def create(self, vals_list):
        vals_list = [dict(vals) for vals in vals_list]  # the caller's dicts (maybe one repeated) stay as given
        # the segments read by the routing serve the policies' domains too
        with self._ecrm_creation_memo():
            self._ecrm_route(vals_list)
            return super().create(vals_list)

    @api.model
    def _ecrm_route(self, vals_list):
        """Fill ``team_id`` and ``user_id`` of the new cases given neither (a
        team from the routing rules), and ``user_id`` of those given only a
        team, in place. One pass for the whole batch: the rules, segments,
        working members and open-case counts are read once."""
        to_route = [vals for vals in vals_list if not vals.get("user_id")]
        if not to_route:
            return
        defaults = self.default_get(["channel", "company_id"])
        # sudo: routing follows the shop's rules and teams whoever opens the case (portal, mail gateway)
        rules = self.env["ecrm.case.routing.rule"].sudo().search([])
        partners = (
            self.env["res.partner"].sudo().browse({vals["partner_id"] for vals in to_route if vals.get("partner_id")})
        )
        commercial = {partner.id: partner.commercial_partner_id.id for partner in partners}

        def company_of(vals):
            return vals.get("company_id") or defaults.get("company_id") or self.env.company.id

        # without any rule, no team is picked: the segments are not needed
        segments = (
            self._ecrm_segments({(commercial.get(vals.get("partner_id")), company_of(vals)) for vals in to_route})
            if rules
            else {}
        )
        by_team = defaultdict(list)  # (team id, company id): the vals to assign
        for vals in to_route:
            company_id = company_of(vals)
            if not vals.get("team_id"):
                segment_id = segments.get((commercial.get(vals.get("partner_id")), company_id))
                channel = vals.get("channel") or defaults.get("channel")
                rule = next(
                    (r for r in rules if r._ecrm_matches(company_id, vals.get("category_id"), channel, segment_id)),
                    None,
                )
                if not rule:
                    continue
                vals["team_id"] = rule.team_id.id
            by_team[vals["team_id"], company_id].append(vals)
        teams = self.env["crm.team"].sudo().browse({team_id for team_id, _company in by_team})
        teams = teams.filtered(lambda team: team.ecrm_assignment != "manual")
        if not teams:
            return
        teams._ecrm_lock()
        now = fields.Datetime.now()
        Company = self.env["res.company"]
        for (team_id, company_id), team_vals in by_team.items():
            team = teams.browse(team_id)
            if team not in teams:
                continue
            for vals, user in zip(
                team_vals, team._ecrm_assignees(Company.browse(company_id), len(team_vals), now), strict=True
            ):
                if user:
                    vals["user_id"] = user.id
