# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from freezegun import freeze_time

from odoo.tests import tagged

from .common import EcrmCaseCommon


@tagged("post_install", "-at_install")
class TestCaseReports(EcrmCaseCommon):
    def report(self, cases):
        self.env.flush_all()
        self.env["ecrm.case.report"].invalidate_model()  # read at the current clock
        return self.env["ecrm.case.report"].search([("case_id", "in", cases.ids)])

    def test_sla_status_met_breached_running(self):
        with freeze_time("2026-11-23 09:00"):
            met, late = self.new_case(), self.new_case(channel="email")
            # open cases are compared with the ORM's clock at read time
            running = self.new_case()
        met.first_response_date = self.dt("2026-11-23 10:00")
        late.first_response_date = self.dt("2026-11-23 15:00")
        overdue = self.new_case(date_open=self.dt("2026-11-16 09:00"))
        with freeze_time("2026-11-23 09:30"):
            rows = {row.case_id: row for row in self.report(met | late | overdue | running)}
        self.assertEqual(rows[met].response_status, "met")
        self.assertEqual(rows[late].response_status, "breached")
        self.assertEqual(rows[overdue].response_status, "breached")
        self.assertEqual(rows[running].response_status, "running")
        self.assertAlmostEqual(rows[met].hours_to_first_response, 1.0)
        with freeze_time("2026-12-31 09:00"):  # the same open case, read later, is breached
            self.assertEqual(self.report(running).response_status, "breached")

    def test_breaches_grouped_by_channel(self):
        with freeze_time("2026-11-23 09:00"):
            phone, email = self.new_case(channel="phone"), self.new_case(channel="email")
        (phone | email).first_response_date = self.dt("2026-11-24 09:00")
        self.env.flush_all()
        groups = self.env["ecrm.case.report"]._read_group(
            [("case_id", "in", (phone | email).ids)], ["channel"], ["response_breached:sum", "__count"]
        )
        self.assertEqual(sorted(groups), [("email", 1, 1), ("phone", 1, 1)])
