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
        help="The member the latest routed case went to, with fewest open cases: ties go to the "
        "members after them. Round-robin keeps its turn in a counter of the team instead.",
    )

    def _ecrm_turn_sequence(self):
        """The name of this team's round-robin counter, a PostgreSQL sequence
        (created on first use): ``nextval`` takes no row lock and is not rolled
        back, so concurrent routings to the team never wait for nor conflict
        with each other."""
        self.ensure_one()
        name = f"ecrm_crm_team_turn_{self.id}"
        exists = self.env.execute_query(SQL("SELECT to_regclass(%s)", name))[0][0]
        if not exists:
            # two first routings at once: the second waits for the first's commit,
            # then finds the sequence (catalog lookups see committed objects)
            self.env.execute_query(SQL("SELECT pg_advisory_xact_lock(hashtext(%s))", name))
            self.env.execute_query(SQL("CREATE SEQUENCE IF NOT EXISTS %s MINVALUE 0 START 0", SQL.identifier(name)))
        return name

    def _ecrm_next_turns(self, count):
        """``count`` consecutive turns of this team's round-robin counter."""
        name = self._ecrm_turn_sequence()
        rows = self.env.execute_query(SQL("SELECT nextval(%s) FROM generate_series(1, %s)", name, count))
        return [turn for (turn,) in rows]

    def unlink(self):
        names = [f"ecrm_crm_team_turn_{team_id}" for team_id in self.ids]
        res = super().unlink()
        for name in names:
            self.env.execute_query(SQL("DROP SEQUENCE IF EXISTS %s", SQL.identifier(name)))
        return res

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
        """Lock the rows of these teams assigning the fewest open cases until
        the transaction ends: concurrent routings to such a team see each
        other's cases (the second one retries). Round-robin teams are not
        locked: their turns come from a sequence."""
        teams = self.filtered(lambda team: team.ecrm_assignment == "least_open")
        if teams.ids:
            self.env.execute_query(
                SQL("SELECT id FROM crm_team WHERE id IN %s ORDER BY id FOR UPDATE", tuple(teams.ids))
            )
            teams.invalidate_recordset(["ecrm_last_user_id"])

    def _ecrm_assignees(self, company, count, now):
        """The assignees of ``count`` new cases of ``company`` routed to this
        team (a list of users, empty ones where nobody works now), following
        the team's assignment method. Round-robin: the working member at the
        next turn of the team's counter (members sorted by id), so that each
        gets every n-th case while the same n members work. Fewest open cases:
        remembers the last one."""
        self.ensure_one()
        if self.ecrm_assignment == "manual" or not count:
            return [self.env["res.users"]] * count
        members = self._ecrm_working_members(company, now)[self]
        if not members:
            return [self.env["res.users"]] * count
        if self.ecrm_assignment == "round_robin":
            return [members[turn % len(members)] for turn in self._ecrm_next_turns(count)]
        last = self.ecrm_last_user_id
        start = next((index for index, user in enumerate(members) if user.id > last.id), 0)
        turn = list(members[start:] | members[:start])  # round-robin order after the last assignee
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
            user = min(turn, key=lambda u: (load.get(u, 0), turn.index(u)))
            load[user] = load.get(user, 0) + 1
            turn.remove(user)
            turn.append(user)
            assignees.append(user)
        self.sudo().ecrm_last_user_id = assignees[-1]  # sudo: the turn is the system's, not the router's
        return assignees
