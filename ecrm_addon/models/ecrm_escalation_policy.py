# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from datetime import timedelta

from odoo import api, fields, models
from odoo.addons.resource.models.utils import make_aware
from odoo.exceptions import UserError, ValidationError
from odoo.tools.safe_eval import safe_eval

from .ecrm_case import CASE_CHANNELS, CASE_PRIORITIES

# Working time read at once around the first start of a batch of plans (see _ecrm_plan)
PLAN_BEFORE = timedelta(days=14)
PLAN_AFTER = timedelta(days=28)


class EcrmEscalationPolicy(models.Model):
    """An SLA policy: which cases it covers, their targets in working hours and
    the chain of escalation levels that fire around the deadlines."""

    _name = "ecrm.escalation.policy"
    _description = "SLA Policy"
    _order = "sequence, id"

    name = fields.Char(required=True, translate=True)
    sequence = fields.Integer(default=10, help="The first policy in this order that covers a case applies to it.")
    active = fields.Boolean(default=True)
    company_id = fields.Many2one(
        "res.company",
        default=lambda self: self.env.company,
        index=True,
        help="Empty: a policy shared by every company (only Settings administrators configure those).",
    )
    priority = fields.Selection(CASE_PRIORITIES, help="Covers only cases of this priority. Empty: every priority.")
    channel = fields.Selection(CASE_CHANNELS, help="Covers only cases from this channel. Empty: every channel.")
    category_ids = fields.Many2many(
        "ecrm.case.category", string="Categories", help="Covers only cases of these categories. Empty: every category."
    )
    domain = fields.Char(default="[]", help="Covers only the cases this filter keeps.")
    calendar_id = fields.Many2one(
        "resource.calendar",
        string="Working Hours",
        required=True,
        default=lambda self: self.env.company.resource_calendar_id,
        help="Targets and escalation delays count these working hours; its public holidays are skipped.",
    )
    response_hours = fields.Float(help="Working hours to the first response. 0: no response target.")
    resolution_hours = fields.Float(help="Working hours to the resolution. 0: no resolution target.")
    level_ids = fields.One2many("ecrm.escalation.level", "policy_id", string="Escalation Levels", copy=True)
    case_count = fields.Integer(compute="_compute_case_count", string="Cases")

    def _compute_case_count(self):
        counts = dict(self.env["ecrm.case"]._read_group([("policy_id", "in", self.ids)], ["policy_id"], ["__count"]))
        for policy in self:
            policy.case_count = counts.get(policy, 0)

    @api.constrains("response_hours", "resolution_hours")
    def _check_hours(self):
        for policy in self:
            if policy.response_hours < 0 or policy.resolution_hours < 0:
                raise ValidationError(
                    self.env._("The targets of the SLA policy %(name)s cannot be negative.", name=policy.name)
                )

    @api.constrains("company_id")
    def _check_company(self):
        # a shared policy covers, notifies and reassigns every company's cases
        if self.env.su or self.env.user.has_group("base.group_system"):
            return
        for policy in self.filtered(lambda p: not p.company_id):
            raise ValidationError(
                self.env._(
                    "The SLA policy %(name)s needs a company: only Settings administrators configure "
                    "policies shared by every company.",
                    name=policy.name,
                )
            )

    @api.constrains("domain")
    def _check_domain(self):
        for policy in self:
            try:
                self.env["ecrm.case"].search_count(policy._ecrm_domain(), limit=1)
            except Exception as error:
                raise ValidationError(
                    self.env._(
                        "The filter of the SLA policy %(name)s is not valid: %(error)s", name=policy.name, error=error
                    )
                ) from error

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            if not vals.get("calendar_id"):
                company = self.env["res.company"].browse(vals.get("company_id")) or self.env.company
                if not company.resource_calendar_id:
                    raise UserError(
                        self.env._(
                            "The SLA policy %(name)s needs working hours: the company %(company)s has none, "
                            "choose a working-hours calendar on the policy.",
                            name=vals.get("name", ""),
                            company=company.name,
                        )
                    )
                vals["calendar_id"] = company.resource_calendar_id.id
        return super().create(vals_list)

    def _ecrm_domain(self):
        self.ensure_one()
        return safe_eval(self.domain or "[]")

    def _ecrm_covers(self, case):
        """Whether this policy applies to ``case`` (a single record)."""
        self.ensure_one()
        if self.company_id and self.company_id != case.company_id:
            return False
        if self.priority and self.priority != case.priority:
            return False
        if self.channel and self.channel != case.channel:
            return False
        if self.category_ids and case.category_id not in self.category_ids:
            return False
        domain = self._ecrm_domain()
        return not domain or bool(case.filtered_domain(domain))

    def _ecrm_plan(self, start, hours, memo=None):
        """The moment ``hours`` working hours (negative: before) from ``start``,
        skipping the calendar's days off and public holidays.

        ``memo``: a dict shared by the plans of one batch (the two deadlines of
        new cases, their escalation levels): the calendar's working intervals
        are read once around the first start (``PLAN_BEFORE``/``PLAN_AFTER``)
        and walked for the others, instead of two queries per plan; a plan that
        runs out of them is left to ``plan_hours``, as is every plan without it."""
        self.ensure_one()
        if not hours:
            return start
        calendar = self.calendar_id
        if memo is not None and len(calendar) == 1 and not calendar.flexible_hours:
            planned = self._ecrm_plan_from(self._ecrm_work_intervals(start, memo), start, hours)
            if planned is not None:
                return planned
        return calendar.plan_hours(hours, start, compute_leaves=True) or False

    def _ecrm_work_intervals(self, start, memo):
        """(from, to, [(start, stop)]) of the calendar's working time (public
        holidays out) around ``start``, kept in ``memo`` per calendar."""
        aware, _revert = make_aware(start)
        window = memo.get(self.calendar_id.id)
        if not window or not window[0] <= aware <= window[1]:
            low, high = aware - PLAN_BEFORE, aware + PLAN_AFTER
            intervals = self.calendar_id._work_intervals_batch(low, high)[False]
            window = memo[self.calendar_id.id] = (low, high, [(begin, end) for begin, end, _meta in intervals])
        return window

    @api.model
    def _ecrm_plan_from(self, window, start, hours):
        """``plan_hours`` over the intervals of ``window`` (the same walk); None
        when they end before the hours do."""
        aware, revert = make_aware(start)
        _low, _high, intervals = window
        if hours > 0:
            for begin, end in intervals:
                if end <= aware:
                    continue
                first = max(begin, aware)
                interval_hours = (end - first).total_seconds() / 3600
                if hours <= interval_hours:
                    return revert(first + timedelta(hours=hours))
                hours -= interval_hours
        else:
            hours = -hours
            for begin, end in reversed(intervals):
                if begin >= aware:
                    continue
                last = min(end, aware)
                interval_hours = (last - begin).total_seconds() / 3600
                if hours <= interval_hours:
                    return revert(last - timedelta(hours=hours))
                hours -= interval_hours
        return None

    def _ecrm_work_hours(self, start, stop):
        """Working hours of the calendar between two naive UTC datetimes."""
        self.ensure_one()
        if not start or not stop or stop <= start:
            return 0.0
        return self.calendar_id.get_work_hours_count(start, stop, compute_leaves=True)
