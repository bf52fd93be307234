# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import json
from datetime import timedelta

from odoo import api, fields, models
from odoo.tools.misc import formatLang

RECENT_DAYS = 30
# Open cases nobody handles (routing found no member working, or no rule).
UNASSIGNED_DOMAIN = [("is_closed", "=", False), ("user_id", "=", False)]


class EcrmDashboard(models.Model):
    """The e-CRM overview: one kanban tile per record (as Odoo's journal and
    operation-type dashboards), with live figures and links to the lists.

    Figures are read as the current user, so record rules (company) and access
    rights apply; a tile whose model the user may not read is hidden by its
    groups (record rule) and computes nothing. Each tile costs a fixed number
    of grouped reads, whatever the number of cases, customers or traces.
    """

    _name = "ecrm.dashboard"
    _description = "e-CRM Overview Tile"
    _order = "sequence, id"

    name = fields.Char(required=True, translate=True)
    sequence = fields.Integer(default=10)
    kind = fields.Selection(
        [
            ("cases", "Cases"),
            ("rfm", "RFM Segments"),
            ("duplicates", "Duplicates"),
            ("pressure", "Contact Pressure"),
        ],
        required=True,
        readonly=True,
    )
    group_ids = fields.Many2many(
        "res.groups", string="Visible To", help="Users of any of these groups see the tile (empty: everyone)."
    )
    color = fields.Integer()
    kanban_dashboard = fields.Text(compute="_compute_kanban_dashboard")
    kanban_dashboard_graph = fields.Text(compute="_compute_kanban_dashboard")

    @api.depends_context("uid", "company", "allowed_company_ids")
    def _compute_kanban_dashboard(self):
        for tile in self:
            compute = getattr(tile, f"_ecrm_tile_{tile.kind}")
            data, graph = compute() if self.env[tile._ecrm_tile_model()].has_access("read") else ({}, [])
            tile.kanban_dashboard = json.dumps(data)
            tile.kanban_dashboard_graph = json.dumps(graph)

    def _ecrm_tile_model(self):
        return {
            "cases": "ecrm.case",
            "rfm": "ecrm.rfm.score",
            "duplicates": "ecrm.duplicate.group",
            "pressure": "mailing.trace",
        }[self.kind]

    # --- one method per tile: (figures, graph data) -------------------------

    def _ecrm_overdue_domain(self):
        """Open cases past their resolution deadline, or still unanswered past
        their response deadline."""
        now = fields.Datetime.to_string(fields.Datetime.now())
        return [
            ("is_closed", "=", False),
            "|",
            ("resolution_deadline", "<", now),
            "&",
            ("first_response_date", "=", False),
            ("response_deadline", "<", now),
        ]

    def _ecrm_recent_ratings_domain(self):
        """Cases Analysis rows of the ratings customers gave in the last
        RECENT_DAYS days, whenever their case was opened or closed."""
        return [("rating_date", ">=", fields.Datetime.now() - timedelta(days=RECENT_DAYS))]

    def _ecrm_tile_cases(self):
        Case = self.env["ecrm.case"]
        since = fields.Datetime.now() - timedelta(days=RECENT_DAYS)
        recent = dict(
            self.env["ecrm.case.report"]._read_group(
                [("date_open", ">=", since), ("resolution_status", "in", ("met", "breached"))],
                ["resolution_status"],
                ["__count"],
            )
        )
        decided = recent.get("met", 0) + recent.get("breached", 0)
        [(rated, happy)] = self.env["ecrm.case.report"]._read_group(
            self._ecrm_recent_ratings_domain(), [], ["rating_count:sum", "rating_happy:sum"]
        )
        return {
            "open": Case.search_count([("is_closed", "=", False)]),
            "overdue": Case.search_count(self._ecrm_overdue_domain()),
            "mine": Case.search_count([("is_closed", "=", False), ("user_id", "=", self.env.uid)]),
            "unassigned": Case.search_count(UNASSIGNED_DOMAIN),
            "sla": round(100.0 * recent.get("met", 0) / decided) if decided else False,
            "sla_cases": decided,
            "csat": round(100.0 * happy / rated) if rated else False,
            "csat_cases": rated or 0,
            "days": RECENT_DAYS,
        }, []

    def _ecrm_tile_rfm(self):
        company = self.env.company
        groups = self.env["ecrm.rfm.score"]._read_group(
            [("company_id", "=", company.id), ("segment_id", "!=", False)],
            ["segment_id"],
            ["__count", "monetary:sum"],
        )
        groups.sort(key=lambda group: (group[0].sequence, group[0].id))
        is_manager = self.env.user.has_group("ecrm_addon.group_ecrm_manager")
        segments = [
            {
                "name": segment.name,
                "customers": count,
                "revenue": formatLang(self.env, revenue, currency_obj=company.currency_id),
            }
            for segment, count, revenue in groups
        ]
        graph = [
            {
                "key": self.env._("Customers"),
                "values": [{"label": s["name"], "value": s["customers"], "type": "past"} for s in segments],
                "is_sample_data": not segments,
            }
        ]
        return {
            "customers": sum(s["customers"] for s in segments),
            "revenue": formatLang(self.env, sum(r for _s, _c, r in groups), currency_obj=company.currency_id),
            "segments": segments,
            "status": self.env["ecrm.job.request"]._ecrm_status("rfm") if is_manager else "",
        }, graph

    def _ecrm_tile_duplicates(self):
        is_manager = self.env.user.has_group("ecrm_addon.group_ecrm_manager")
        return {
            "to_review": self.env["ecrm.duplicate.group"].search_count([("state", "=", "open")]),
            "status": self.env["ecrm.job.request"]._ecrm_status("duplicates") if is_manager else "",
        }, []

    def _ecrm_tile_pressure(self):
        since = fields.Datetime.now() - timedelta(days=RECENT_DAYS)
        groups = self.env["mailing.trace"]._read_group(
            [
                ("failure_type", "=", "ecrm_pressure"),
                ("create_date", ">=", since),
                ("mass_mailing_id.user_id.company_id", "in", self.env.companies.ids),
            ],
            ["mass_mailing_id"],
            ["__count"],
            order="__count desc",
        )
        return {
            "excluded": sum(count for _mailing, count in groups),
            "mailings": [{"name": mailing.display_name, "excluded": count} for mailing, count in groups[:5]],
            "days": RECENT_DAYS,
        }, []

    # --- links -----------------------------------------------------------------

    def _ecrm_action(self, xml_id, context=None, domain=None):
        action = self.env["ir.actions.act_window"]._for_xml_id(xml_id)
        if context:
            action["context"] = context
        if domain:
            action["domain"] = domain
        return action

    @api.readonly
    def action_open_cases(self):
        return self._ecrm_action("ecrm_addon.ecrm_case_action", {"search_default_open": 1})

    @api.readonly
    def action_open_overdue_cases(self):
        action = self._ecrm_action("ecrm_addon.ecrm_case_action", domain=self._ecrm_overdue_domain())
        action["name"] = self.env._("Overdue Cases")
        return action

    @api.readonly
    def action_open_unassigned_cases(self):
        action = self._ecrm_action("ecrm_addon.ecrm_case_action", domain=UNASSIGNED_DOMAIN)
        action["name"] = self.env._("Unassigned Cases")
        return action

    @api.readonly
    def action_open_my_cases(self):
        return self._ecrm_action(
            "ecrm_addon.ecrm_case_action", {"search_default_open": 1, "search_default_my_cases": 1}
        )

    @api.readonly
    def action_open_case_analysis(self):
        return self._ecrm_action("ecrm_addon.ecrm_case_report_action")

    @api.readonly
    def action_open_csat_analysis(self):
        """The ratings behind the tile's CSAT: those given in the last RECENT_DAYS days."""
        action = self._ecrm_action("ecrm_addon.ecrm_case_report_action_csat", domain=self._ecrm_recent_ratings_domain())
        action["name"] = self.env._("Customer Satisfaction of the Last %(days)s Days", days=RECENT_DAYS)
        return action

    @api.readonly
    def action_open_rfm_analysis(self):
        return self._ecrm_action("ecrm_addon.ecrm_rfm_score_action")

    @api.readonly
    def action_open_customers(self):
        return self._ecrm_action("ecrm_addon.res_partner_action_customers")

    @api.readonly
    def action_open_duplicates(self):
        return self._ecrm_action("ecrm_addon.ecrm_duplicate_group_action", {"search_default_open": 1})

    @api.readonly
    def action_open_pressure_exclusions(self):
        return self._ecrm_action("ecrm_addon.mailing_trace_action_ecrm_pressure")

    def action_ecrm_compute_rfm(self):
        return self.env["ecrm.rfm.score"].action_ecrm_compute_rfm()

    def action_scan_duplicates(self):
        return self.env["ecrm.duplicate.group"].action_scan()
