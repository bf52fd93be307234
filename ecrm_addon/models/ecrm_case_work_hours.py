# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models

from .ecrm_case import INTERNAL


class EcrmCase(models.Model):
    """Times to first response and to resolution in working hours (the SLA
    policy's calendar, else the company's), time waiting on the customer left
    out: stamped when the case is answered and when it is closed, so that the
    Cases Analysis reads them as plain columns."""

    _inherit = "ecrm.case"

    ecrm_response_work_hours = fields.Float(
        string="Working Hours to First Response",
        readonly=True,
        copy=False,
        groups=INTERNAL,
        help="Working hours from the opening to the first response, time waiting on the customer left out.",
    )
    ecrm_resolution_work_hours = fields.Float(
        string="Working Hours to Resolution",
        readonly=True,
        copy=False,
        groups=INTERNAL,
        help="Working hours from the opening to the closing, time waiting on the customer left out.",
    )

    @api.model_create_multi
    def create(self, vals_list):
        cases = super().create(vals_list)
        # cases created answered or closed (imports, the system); closing on create is a write
        cases.filtered("first_response_date")._ecrm_stamp_response_work_hours()
        return cases

    def write(self, vals):
        res = super().write(vals)
        if "first_response_date" in vals:
            self._ecrm_stamp_response_work_hours()
        if "date_closed" in vals or "stage_id" in vals:
            self._ecrm_stamp_resolution_work_hours()
        return res

    def _ecrm_calendar(self):
        self.ensure_one()
        return self.policy_id.sudo().calendar_id or self.company_id.sudo().resource_calendar_id

    def _ecrm_work_hours_between(self, start, stop):
        """Working hours of the case's calendar between two naive UTC datetimes."""
        self.ensure_one()
        calendar = self._ecrm_calendar()
        if not calendar or not start or not stop or stop <= start:
            return 0.0
        return calendar.get_work_hours_count(start, stop, compute_leaves=True)

    def _ecrm_response_work_hours(self, with_pauses=True):
        """{case: working hours from the opening to the first response} of the
        answered cases; ``with_pauses``: leave out the time paused up to the
        response (the state of the case when it is answered)."""
        hours = {}
        for case in self.filtered("first_response_date"):
            worked = case._ecrm_work_hours_between(case.date_open, case.first_response_date)
            if with_pauses:
                paused = case.ecrm_paused_hours
                if case.ecrm_paused_since:
                    paused += case._ecrm_work_hours_between(case.ecrm_paused_since, case.first_response_date)
                worked -= paused
            hours[case] = max(worked, 0.0)
        return hours

    def _ecrm_resolution_work_hours(self):
        """{case: working hours from the opening to the closing, paused time left out} of the closed cases."""
        return {
            case: max(case._ecrm_work_hours_between(case.date_open, case.date_closed) - case.ecrm_paused_hours, 0.0)
            for case in self.filtered("date_closed")
        }

    def _ecrm_stamp_response_work_hours(self):
        for case, hours in self._ecrm_response_work_hours().items():
            case.sudo().ecrm_response_work_hours = hours  # sudo: a system stamp, a value per case

    def _ecrm_stamp_resolution_work_hours(self):
        """Stamp the working hours to the closing (empty again when reopened)."""
        reopened = self.filtered(lambda case: not case.date_closed)
        if reopened:
            reopened.sudo().ecrm_resolution_work_hours = False  # sudo: a system stamp
        for case, hours in self._ecrm_resolution_work_hours().items():
            case.sudo().ecrm_resolution_work_hours = hours  # sudo: a system stamp, a value per case
