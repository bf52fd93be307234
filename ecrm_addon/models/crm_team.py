# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from datetime import timedelta

from pytz import utc

from odoo import fields, models
from odoo.tools import SQL


class CrmTeam(models.Model):
    """Who in a team gets the cases routed to it: round-robin or the member
    with the fewest open cases, among the members working now."""

    _inherit = "crm.team"

    ecrm_assignment = fields.Selection(
        [("manual", "Manual"), ("round_robin", "Round-robin"), ("least_open", "Fewest open cases")],
        string="Case Assignment",
        default="manual",
        required=True,
        help="How cases routed to this team get an assignee. Manual: they stay unassigned. "
        "Round-robin: each working member in turn. Fewest open cases: the working member with the "
        "fewest open cases. Only members working now count (their working hours and time off, else "
        "the company's); when nobody works, the case stays unassigned.",
    )
    ecrm_last_user_id = fields.Many2one(
        "res.users",
        string="Last Case Assignee",
        readonly=True,
        copy=False,
        help="The member the latest routed case went to: round-robin continues after them.",
    )

    def _ecrm_working_members(self, company, now):
        """{team: users sorted by id} of the members of these teams who may
        take ``company``'s cases and work at ``now`` (naive UTC): inside their
        working hours, not on time off nor on a public holiday. A member without
        a resource in the company follows the company's working hours."""
        users = self.member_ids.filtered(lambda u: u.active and not u.share and company in u.company_ids)
        # sudo: resources and calendars are HR-style configuration, only whether a member works leaves
        resources = (
            self.env["resource.resource"]
            .sudo()
            .search([("user_id", "in", users.ids), ("company_id", "in", [company.id, False])], order="company_id, id")
        )
        resource_of = {}
        for resource in resources:
            resource_of.setdefault(resource.user_id.id, resource)  # the company's resource first
        start = now.replace(tzinfo=utc)
        stop = start + timedelta(minutes=1)
        default_calendar = company.sudo().resource_calendar_id
        no_resource = self.env["resource.resource"].sudo()
        by_calendar = {}  # calendar: its resources (the calendar's own hours come with key False)
        for user in users:
            resource = resource_of.get(user.id, no_resource)
            calendar = resource.calendar_id or default_calendar
            if calendar:
                by_calendar[calendar] = by_calendar.get(calendar, no_resource) | resource
        working_resources = set()
        for calendar, calendar_resources in by_calendar.items():
            intervals = calendar._work_intervals_batch(start, stop, resources=calendar_resources)
            for resource_id, resource_intervals in intervals.items():
                if any(begin <= start for begin, _end, _meta in resource_intervals):
                    working_resources.add((calendar.id, resource_id))
        working = users.browse()
        for user in users:
            resource = resource_of.get(user.id, no_resource)
            calendar = resource.calendar_id or default_calendar
            if (calendar.id, resource.id) in working_resources:
                working |= user
        return {team: (team.member_ids & working).sorted("id") for team in self}

    def _ecrm_lock(self):
        """Lock these teams' rows until the transaction ends: concurrent
        routings to a team take their turns one after the other."""
        if self.ids:
            self.env.execute_query(
                SQL("SELECT id FROM crm_team WHERE id IN %s ORDER BY id FOR UPDATE", tuple(self.ids))
            )
            self.invalidate_recordset(["ecrm_last_user_id"])

    def _ecrm_assignees(self, company, count, now):
        """The assignees of ``count`` new cases of ``company`` routed to this
        team (a list of users, empty ones where nobody works now), following
        the team's assignment method; remembers the last one."""
        self.ensure_one()
        if self.ecrm_assignment == "manual" or not count:
            return [self.env["res.users"]] * count
        members = self._ecrm_working_members(company, now)[self]
        if not members:
            return [self.env["res.users"]] * count
        last = self.ecrm_last_user_id
        start = next((index for index, user in enumerate(members) if user.id > last.id), 0)
        turn = list(members[start:] | members[:start])  # round-robin order after the last assignee
        load = {}
        if self.ecrm_assignment == "least_open":
            load = dict(
                self.env["ecrm.case"]
                .sudo()  # sudo: the count of every member's open cases, whatever the router may read
                ._read_group(
                    [("is_closed", "=", False), ("user_id", "in", members.ids), ("company_id", "=", company.id)],
                    ["user_id"],
                    ["__count"],
                )
            )
        assignees = []
        for _case in range(count):
            if self.ecrm_assignment == "least_open":
                user = min(turn, key=lambda u: (load.get(u, 0), turn.index(u)))
                load[user] = load.get(user, 0) + 1
            else:
                user = turn[0]
            turn.remove(user)
            turn.append(user)
            assignees.append(user)
        self.sudo().ecrm_last_user_id = assignees[-1]  # sudo: the turn is the system's, not the router's
        return assignees
