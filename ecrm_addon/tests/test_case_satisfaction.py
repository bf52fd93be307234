# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from unittest.mock import patch

import lxml.html
from freezegun import freeze_time

from odoo import fields, http
from odoo.tests import HttpCase, new_test_user, tagged

from .common import EcrmCaseCommon


class SatisfactionCommon(EcrmCaseCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.stage_cancelled = cls.env.ref("ecrm_addon.ecrm_case_stage_cancelled")
        cls.rating_template = cls.env.ref("ecrm_addon.ecrm_case_mail_template_rating")
        cls.company.email = "help@shop.example"

    def requests(self, case):
        return case.message_ids.filtered(lambda m: m.body and "/rate/" in m.body)

    def rate(self, case, value, feedback=None):
        """The customer's answer, as the public rating page applies it, at the
        ORM's clock: the rating's write date is its transaction's timestamp,
        which freeze_time does not move (as Odoo's own tests, patch it)."""
        token = case.sudo()._rating_get_access_token()
        with patch.object(self.env.cr, "now", fields.Datetime.now):
            rating = case.sudo().rating_apply(value, token=token, feedback=feedback)
            self.env.flush_all()
        return rating


@tagged("post_install", "-at_install")
class TestCaseRatingRequest(SatisfactionCommon):
    def test_solving_a_case_asks_for_a_rating_once(self):
        case = self.new_case()
        case.stage_id = self.stage_solved
        request = self.requests(case)
        self.assertEqual(len(request), 1)
        self.assertEqual(request.partner_ids, self.customer)
        rating = case.rating_ids
        self.assertEqual(len(rating), 1)
        self.assertIn(f"/rate/{rating.access_token}/5", request.body)
        self.assertEqual(rating.rated_partner_id, case.user_id.partner_id)
        # reopened and solved again: no second request
        case.stage_id = self.stage_progress
        case.stage_id = self.stage_solved
        self.assertEqual(len(self.requests(case)), 1)
        self.assertEqual(len(case.rating_ids), 1)

    def test_cancelled_case_is_not_rated(self):
        case = self.new_case()
        case.stage_id = self.stage_cancelled
        self.assertFalse(self.requests(case))
        self.assertFalse(case.rating_ids)

    def test_blacklisted_customer_gets_no_rating_request(self):
        self.env["mail.blacklist"]._add(self.customer.email)
        case = self.new_case()
        case.stage_id = self.stage_solved
        self.assertFalse(self.requests(case))

    def test_rating_request_is_transactional_never_blocked_and_logged(self):
        self.env["ecrm.pressure.rule"].create(
            {"name": "One email a month", "channel": "email", "max_count": 1, "period_days": 30}
        )
        self.env["ecrm.interaction"]._log(
            [
                {
                    "partner_id": self.customer.id,
                    "name": "Newsletter",
                    "channel": "email",
                    "direction": "outbound",
                    "category": "marketing",
                    "company_id": self.company.id,
                }
            ]
        )
        verdicts = self.env["ecrm.pressure.rule"]._ecrm_check(
            self.company, "email", "marketing", partner_ids=self.customer.ids
        )
        self.assertTrue(verdicts[self.customer.id].rule_id)  # no more marketing email this month
        case = self.new_case()
        case.stage_id = self.stage_solved
        self.assertEqual(len(self.requests(case)), 1)
        log = self.env["ecrm.interaction"].search(
            [("res_model", "=", "ecrm.case"), ("res_id", "=", case.id), ("name", "like", "Rating requested")]
        )
        self.assertEqual((log.direction, log.category, log.channel), ("outbound", "transactional", "email"))

    def test_rating_lands_on_the_case_the_log_and_the_360(self):
        case = self.new_case()
        case.stage_id = self.stage_solved
        self.rate(case, 1, "The parcel never came")
        self.assertEqual(case.rating_last_value, 1)
        self.assertEqual(case.rating_last_feedback, "The parcel never came")
        self.assertTrue(case.message_ids.filtered(lambda m: m.rating_id and "never came" in m.body))
        log = (
            self.env["ecrm.interaction"]
            .search([("res_model", "=", "ecrm.case"), ("res_id", "=", case.id), ("direction", "=", "inbound")])
            .filtered(lambda i: "rated" in i.name)
        )
        self.assertEqual(len(log), 1)
        self.assertIn("Dissatisfied", log.name)
        self.assertIn("The parcel never came", log.name)
        self.assertIn(log, self.customer.ecrm_timeline_ids)
        self.customer.invalidate_recordset()
        self.assertEqual(
            (
                self.customer.ecrm_rating_count,
                self.customer.ecrm_csat,
                self.customer.ecrm_last_rating_text,
                self.customer.ecrm_last_rating_feedback,
            ),
            (1, 0.0, "ko", "The parcel never came"),
        )


@tagged("post_install", "-at_install")
class TestCaseCsat(SatisfactionCommon):
    """CSAT (share of happy ratings, 4 or more out of 5, among the rated cases)
    against a hand-counted set of cases."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.champions = cls.env.ref("ecrm_addon.ecrm_rfm_segment_champions")
        cls.lost = cls.env.ref("ecrm_addon.ecrm_rfm_segment_lost")
        cls.ana = cls.env["res.partner"].create({"name": "Ana", "email": "ana@example.com"})
        cls.bob = cls.env["res.partner"].create({"name": "Bob", "email": "bob@example.com"})
        cls.env["ecrm.rfm.score"].create(
            [
                {"partner_id": cls.ana.id, "company_id": cls.company.id, "segment_id": cls.champions.id},
                {"partner_id": cls.bob.id, "company_id": cls.company.id, "segment_id": cls.lost.id},
            ]
        )
        # the hand count is the whole count: no rating of the database's cases (demo shop)
        cls.env["rating.rating"].search([("res_model", "=", "ecrm.case")]).unlink()
        cls.team_a, cls.team_b = cls.env["crm.team"].create([{"name": "Team A"}, {"name": "Team B"}])
        complaint = cls.env.ref("ecrm_addon.ecrm_case_category_complaint")
        ret = cls.env.ref("ecrm_addon.ecrm_case_category_return")
        # (customer, channel, category, team, assignee, rating or None)
        cls.plan = [
            (cls.ana, "email", complaint, cls.team_a, cls.agent, 5),
            (cls.ana, "email", ret, cls.team_a, cls.manager, 5),
            (cls.ana, "phone", complaint, cls.team_b, cls.agent, 1),
            (cls.ana, "phone", complaint, cls.team_b, cls.agent, None),  # asked, never answered
            (cls.bob, "email", ret, cls.team_b, cls.manager, 3),
            (cls.bob, "portal", complaint, cls.team_a, cls.agent, 4),
        ]

    def make_cases(self):
        cases = self.env["ecrm.case"].create(
            [
                {
                    "subject": f"Case {number}",
                    "partner_id": partner.id,
                    "channel": channel,
                    "category_id": category.id,
                    "team_id": team.id,
                    "user_id": user.id,
                }
                for number, (partner, channel, category, team, user, _rating) in enumerate(self.plan)
            ]
        )
        cases.stage_id = self.stage_solved
        for case, plan in zip(cases, self.plan, strict=True):
            if plan[-1] is not None:
                self.rate(case, plan[-1])
        return cases

    def csat_by(self, groupby, cases):
        groups = self.env["ecrm.case.report"]._read_group(
            [("case_id", "in", cases.ids)], [groupby], ["rating_count:sum", "rating_happy:sum", "csat:avg"]
        )
        return {key: (rated, happy, round(csat, 2) if csat is not None else None) for key, rated, happy, csat in groups}

    def test_csat_by_segment_channel_category_team_and_agent(self):
        cases = self.make_cases()
        complaint = self.env.ref("ecrm_addon.ecrm_case_category_complaint")
        ret = self.env.ref("ecrm_addon.ecrm_case_category_return")
        self.assertEqual(self.csat_by("segment_id", cases), {self.champions: (3, 2, 66.67), self.lost: (2, 1, 50.0)})
        self.assertEqual(
            self.csat_by("channel", cases),
            {"email": (3, 2, 66.67), "phone": (1, 0, 0.0), "portal": (1, 1, 100.0)},
        )
        self.assertEqual(self.csat_by("category_id", cases), {complaint: (3, 2, 66.67), ret: (2, 1, 50.0)})
        self.assertEqual(self.csat_by("team_id", cases), {self.team_a: (3, 3, 100.0), self.team_b: (2, 0, 0.0)})
        self.assertEqual(self.csat_by("user_id", cases), {self.agent: (3, 2, 66.67), self.manager: (2, 1, 50.0)})

    def test_a_changed_rating_counts_once_with_its_last_value(self):
        cases = self.make_cases()
        self.rate(cases[2], 5)  # the customer rated 1, then came back and rated 5
        self.assertEqual(self.csat_by("segment_id", cases)[self.champions], (3, 3, 100.0))

    def test_overview_shows_csat_of_the_last_30_days(self):
        with freeze_time("2026-10-01 10:00"):
            old = self.new_case(partner_id=self.ana.id)
            old.stage_id = self.stage_solved
            self.rate(old, 5)
        with freeze_time("2026-11-20 10:00"):
            self.make_cases()
        with freeze_time("2026-11-25 10:00"):
            tile = self.env.ref("ecrm_addon.ecrm_dashboard_cases").with_user(self.manager)
            data = tile._ecrm_tile_cases()[0]
        # 5 rated in the last 30 days, 3 happy (5, 5, 4); the old case is left out
        self.assertEqual((data["csat_cases"], data["csat"]), (5, 60))

    def test_overview_csat_counts_the_ratings_given_in_the_last_30_days(self):
        """The ratings customers gave in the 30 days before 2026-11-25 (since
        2026-10-26 10:00), whenever their case was closed."""
        cases = self.env["ecrm.case"]
        for name, closed_on, rated_on, rating in (
            ("Late answer", "2026-09-20", "2026-11-10", 5),  # closed long ago, rated in the window: counts
            ("Reopened", "2026-10-05", "2026-10-05", 1),  # rated before the window, closed again in it: not
            ("Unhappy", "2026-11-15", "2026-11-16", 2),  # counts
            ("Quick", "2026-11-01", "2026-11-02", 4),  # counts
            ("Never answered", "2026-11-18", None, None),  # asked, not rated: not
        ):
            with freeze_time(f"{closed_on} 10:00"):
                case = self.new_case(subject=name, partner_id=self.ana.id)
                case.stage_id = self.stage_solved
            if rated_on:
                with freeze_time(f"{rated_on} 12:00"):
                    self.rate(case, rating)
            cases |= case
        reopened = cases.filtered(lambda case: case.subject == "Reopened")
        with freeze_time("2026-11-20 10:00"):
            reopened.stage_id = self.stage_progress
            reopened.stage_id = self.stage_solved
        self.assertEqual(fields.Datetime.to_string(reopened.date_closed), "2026-11-20 10:00:00")
        self.assertEqual(len(reopened.rating_ids), 1, "one request per case")
        with freeze_time("2026-11-25 10:00"):
            tile = self.env.ref("ecrm_addon.ecrm_dashboard_cases").with_user(self.manager)
            data = tile._ecrm_tile_cases()[0]
            action = tile.action_open_csat_analysis()
            rows = self.env["ecrm.case.report"].with_user(self.manager).search(action["domain"])
        # 3 ratings given in the window (5, 2, 4), 2 happy: 67 %
        self.assertEqual((data["csat_cases"], data["csat"]), (3, 67))
        self.assertEqual(rows.case_id, cases.filtered(lambda case: case.subject in ("Late answer", "Unhappy", "Quick")))
        self.assertEqual(
            fields.Datetime.to_string(rows.filtered(lambda row: row.case_id.subject == "Late answer").rating_date),
            "2026-11-10 12:00:00",
        )


@tagged("post_install", "-at_install")
class TestCaseRatingPage(HttpCase):
    """The customer rates from Odoo's public page (/rate/<token>/<score>)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env.company.email = "help@shop.example"
        cls.customer = cls.env["res.partner"].create({"name": "Rita", "email": "rita@example.com"})
        cls.agent = new_test_user(cls.env, login="ecrm_rating_agent", groups="ecrm_addon.group_ecrm_user")
        cls.case = cls.env["ecrm.case"].create(
            {"subject": "Late parcel", "partner_id": cls.customer.id, "user_id": cls.agent.id}
        )
        cls.case.stage_id = cls.env.ref("ecrm_addon.ecrm_case_stage_solved")

    def test_customer_rates_from_the_public_page(self):
        rating = self.case.rating_ids
        self.assertEqual(len(rating), 1)
        self.authenticate(None, None)
        page = self.url_open(f"/rate/{rating.access_token}/5")
        self.assertEqual(page.status_code, 200)
        form = next(f for f in lxml.html.fromstring(page.content).xpath("//form") if "/rate/" in f.get("action", ""))
        self.assertEqual(form.get("action"), f"/rate/{rating.access_token}/submit_feedback")
        self.assertFalse(rating.consumed)  # opening the page does not rate
        response = self.url_open(
            f"/rate/{rating.access_token}/submit_feedback",
            data={"rate": 5, "feedback": "Quick and kind", "csrf_token": http.Request.csrf_token(self)},
        )
        self.assertEqual(response.status_code, 200)
        self.assertTrue(rating.consumed)
        self.assertEqual((self.case.rating_last_value, self.case.rating_last_feedback), (5, "Quick and kind"))
        log = (
            self.env["ecrm.interaction"]
            .search([("res_model", "=", "ecrm.case"), ("res_id", "=", self.case.id), ("direction", "=", "inbound")])
            .filtered(lambda i: "Quick and kind" in i.name)
        )
        self.assertEqual(len(log), 1)
        self.assertEqual(log.partner_id, self.customer)
        self.assertEqual((self.customer.ecrm_rating_count, self.customer.ecrm_csat), (1, 100.0))
        report = self.env["ecrm.case.report"].search([("case_id", "=", self.case.id)])
        self.assertEqual((report.rating_count, report.rating_happy, report.csat), (1, 1, 100.0))
