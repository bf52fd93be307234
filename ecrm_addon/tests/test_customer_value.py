# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import random
from datetime import date, timedelta
from unittest.mock import patch

import numpy as np

from odoo import Command
from odoo.addons.account.tests.common import AccountTestInvoicingCommon
from odoo.exceptions import AccessError, ValidationError
from odoo.tests import new_test_user, tagged
from odoo.tools import SQL

from ..models import ecrm_clv_score
from ..tools import clv

REFERENCE = date(2024, 6, 30)  # calibration of 730 days: purchases from 2022-07-01 on


def background_population(seed=4, size=40):
    """Purchases (day offset from REFERENCE - 729, untaxed amount) of ``size``
    customers drawn from the models' story: exponential gaps, a dropout
    chance after each purchase, amounts around a mean of the customer's own.
    Enough repeat buyers for fits that converge."""
    rng = random.Random(seed)
    population = []
    for _i in range(size):
        day = rng.randint(0, 700)
        rate = rng.gammavariate(0.8, 1 / 40)
        dropout = rng.betavariate(1.0, 3.0)
        mean_amount = rng.gammavariate(3, 30)
        days = [day]
        while True:
            day += max(1, round(rng.expovariate(rate)))
            if day > 729:
                break
            days.append(day)
            if rng.random() < dropout:
                break
        population.append([(day, round(mean_amount * rng.gammavariate(4, 0.25), 2) + 1) for day in sorted(set(days))])
    return population


def every(start, step_days, count):
    return [start + timedelta(days=step_days * n) for n in range(count)]


class ClvCase(AccountTestInvoicingCommon):
    """Posted invoices of a background population plus hand-built customers
    (reference date 2024-06-30, calibration 730 days):

    ========== ============================================================
    one_time   one invoice of 80 on 2024-03-01
    lapsed     10 invoices of 90, every 15 days from 2022-09-01 (last 2023-01-15)
    active     12 invoices of 60, every 30 days from 2023-07-10 (last 2024-06-04)
    refund     100 (2024-01-10), 200 (2024-03-10), refund 50 (2024-03-20)
    same_day   two invoices of 100 on 2024-02-01: one purchase
    eur        300 EUR on 2024-02-01 and 2024-04-01 at 2 EUR per company unit
    ========== ============================================================
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company = cls.company_data["company"]
        cls.company.write({"ecrm_rfm_date": REFERENCE, "ecrm_rfm_source": "invoice", "ecrm_clv_calibration_days": 730})
        cls.eur = cls.setup_other_currency("EUR")  # 2.0 EUR per company unit
        Partner = cls.env["res.partner"]
        names = ["one_time", "lapsed", "active", "refund", "same_day", "eur"]
        cls.p = {name: Partner.create({"name": f"CLV {name}"}) for name in names}
        start = REFERENCE - timedelta(days=729)
        population = background_population()
        crowd = Partner.create([{"name": f"CLV crowd {n}"} for n in range(len(population))])
        docs = [
            (partner, start + timedelta(days=day), amount, "out_invoice", None)
            for partner, purchases in zip(crowd, population, strict=True)
            for day, amount in purchases
        ]
        mine = [
            ("one_time", date(2024, 3, 1), 80, "out_invoice", None),
            *[("lapsed", when, 90, "out_invoice", None) for when in every(date(2022, 9, 1), 15, 10)],
            *[("active", when, 60, "out_invoice", None) for when in every(date(2023, 7, 10), 30, 12)],
            ("refund", date(2024, 1, 10), 100, "out_invoice", None),
            ("refund", date(2024, 3, 10), 200, "out_invoice", None),
            ("refund", date(2024, 3, 20), 50, "out_refund", None),
            ("same_day", date(2024, 2, 1), 100, "out_invoice", None),
            ("same_day", date(2024, 2, 1), 100, "out_invoice", None),
            ("eur", date(2024, 2, 1), 300, "out_invoice", cls.eur),
            ("eur", date(2024, 4, 1), 300, "out_invoice", cls.eur),
        ]
        docs += [(cls.p[who], *rest) for who, *rest in mine]
        cls.env["account.move"].create([cls._invoice_vals(*doc) for doc in docs]).action_post()
        cls.user = new_test_user(cls.env, login="clv_user", groups="ecrm_addon.group_ecrm_user")
        cls.plain = new_test_user(cls.env, login="clv_plain", groups="base.group_user")

    @classmethod
    def _invoice_vals(cls, partner, when, amount, move_type, currency, company=None):
        company = company or cls.company
        return {
            "move_type": move_type,
            "partner_id": partner.id,
            "invoice_date": when,
            "date": when,
            "company_id": company.id,
            "currency_id": (currency or company.currency_id).id,
            "invoice_line_ids": [Command.create({"name": "CLV line", "price_unit": amount, "tax_ids": []})],
        }

    def _rows(self, company=None):
        company = company or self.company
        rows = self.env["ecrm.clv.score"].search([("company_id", "=", company.id)])
        return {row.partner_id: row for row in rows}

    def assertSameFigures(self, rows, expected):
        """The same rows of figures, floats up to the optimiser's precision:
        each fit starts from the latest parameters, and a search started
        elsewhere stops within about 1e-6 of the same optimum."""
        self.assertEqual(len(rows), len(expected))
        for row, expected_row in zip(rows, expected, strict=True):
            for value, expected_value in zip(row, expected_row, strict=True):
                if isinstance(expected_value, float):
                    self.assertAlmostEqual(value, expected_value, delta=1e-4 * max(1.0, abs(expected_value)), msg=row)
                else:
                    self.assertEqual(value, expected_value, row)

    def _latest_fit(self, company=None):
        return self.env["ecrm.clv.fit"].search([("company_id", "=", (company or self.company).id)], limit=1)


@tagged("post_install", "-at_install")
class TestCustomerValue(ClvCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["ecrm.rfm.score"]._rfm_refresh_company(cls.company)

    def test_rfm_run_fits_the_model_and_stores_its_health(self):
        fit = self._latest_fit()
        self.assertEqual((fit.date, fit.calibration_days, fit.state), (REFERENCE, 730, "ok"), fit.health)
        self.assertEqual(fit.customer_count, 46)
        self.assertGreaterEqual(fit.repeat_customer_count, 30)
        self.assertTrue(fit.bgnbd_r > 0 and fit.bgnbd_alpha > 0 and fit.bgnbd_a > 0 and fit.bgnbd_b > 0)
        self.assertLess(fit.bgnbd_log_likelihood, 0)
        self.assertTrue(fit.gg_q > 1)
        self.assertIn("46 customers", fit.health)
        self.assertEqual(self.company.ecrm_clv_fit_id, fit)

    def test_inputs_count_purchase_days_refunds_and_company_currency(self):
        rows = self._rows()
        figures = {
            name: (
                rows[self.p[name]].frequency,
                rows[self.p[name]].recency_days,
                rows[self.p[name]].age_days,
                rows[self.p[name]].past_value,
            )
            for name in ("one_time", "refund", "same_day", "eur")
        }
        self.assertEqual(
            figures,
            {
                "one_time": (0, 0, 122, 80.0),  # 2024-03-01 to the end of 2024-06-30
                "refund": (1, 60, 173, 250.0),  # the refund reduces the value, is no purchase
                "same_day": (0, 0, 151, 200.0),  # two invoices of one day: one purchase
                "eur": (1, 60, 151, 300.0),  # 600 EUR at 2 EUR per company unit
            },
        )

    def test_one_time_buyer_is_alive_by_the_model_and_lapsed_frequent_buyer_is_not(self):
        rows = self._rows()
        self.assertEqual(rows[self.p["one_time"]].p_alive, 1.0)
        self.assertEqual(rows[self.p["one_time"]].churn_risk, "low")
        lapsed, active = rows[self.p["lapsed"]], rows[self.p["active"]]
        self.assertLess(lapsed.p_alive, 0.05)
        self.assertEqual(lapsed.churn_risk, "high")
        self.assertGreater(active.p_alive, 0.8)
        self.assertEqual(active.churn_risk, "low")
        self.assertGreater(active.expected_purchases, 1.5)  # one every 30 days
        self.assertLess(lapsed.expected_purchases, 0.05)
        self.assertGreater(active.expected_value, 10 * lapsed.expected_value)

    def test_figures_are_the_pure_model_of_the_stored_parameters(self):
        fit = self._latest_fit()
        bgnbd = clv.BgNbdParams(fit.bgnbd_r, fit.bgnbd_alpha, fit.bgnbd_a, fit.bgnbd_b)
        gamma_gamma = clv.GammaGammaParams(fit.gg_p, fit.gg_q, fit.gg_v)
        row = self._rows()[self.p["refund"]]
        x, t_x, age = row.frequency, row.recency_days, row.age_days
        self.assertAlmostEqual(row.p_alive, clv.p_alive(bgnbd, x, t_x, age), places=5)
        self.assertAlmostEqual(row.expected_purchases, clv.expected_purchases(bgnbd, 90, x, t_x, age), places=3)
        # mean repeat purchase value: (250 - 100) / 1
        expected = clv.expected_purchases(bgnbd, 365, x, t_x, age) * clv.expected_spend(gamma_gamma, x, 150.0)
        self.assertAlmostEqual(row.expected_value, expected, places=2)

    def test_churn_thresholds_come_from_the_settings(self):
        lapsed_p = self._rows()[self.p["lapsed"]].p_alive
        self.company.write({"ecrm_churn_high_below": lapsed_p / 2, "ecrm_churn_medium_below": 0.999999})
        self.env["ecrm.rfm.score"]._rfm_refresh_company(self.company)
        rows = self._rows()
        self.assertEqual(rows[self.p["lapsed"]].churn_risk, "medium")
        self.assertEqual(rows[self.p["one_time"]].churn_risk, "low")
        with self.assertRaises(ValidationError):
            self.company.write({"ecrm_churn_high_below": 0.8, "ecrm_churn_medium_below": 0.5})

    def test_partner_fields_show_the_current_company_row_and_search(self):
        Partner = self.env["res.partner"].with_user(self.user).with_company(self.company)
        lapsed = Partner.browse(self.p["lapsed"].id)
        self.assertEqual(lapsed.ecrm_churn_risk, "high")
        self.assertAlmostEqual(lapsed.ecrm_p_alive, self._rows()[self.p["lapsed"]].p_alive, places=4)
        ours = [("id", "in", [partner.id for partner in self.p.values()])]
        at_risk = Partner.search([*ours, ("ecrm_churn_risk", "=", "high")])
        self.assertEqual(at_risk.mapped("name"), ["CLV lapsed"])
        self.assertNotIn(self.p["active"].id, Partner.search([*ours, ("ecrm_p_alive", "<", 0.5)]).ids)
        self.assertIn(self.p["active"].id, Partner.search([*ours, ("ecrm_expected_value", ">", 0)]).ids)
        nobody = Partner.browse(self.env["res.partner"].create({"name": "CLV nobody"}).id)
        self.assertIn(nobody, Partner.search([("id", "=", nobody.id), ("ecrm_churn_risk", "=", False)]))
        self.assertEqual((nobody.ecrm_p_alive, nobody.ecrm_churn_risk), (0.0, False))

    def test_high_value_at_risk_filter(self):
        rows = self._rows()
        values = sorted(row.past_value for row in rows.values())
        self.assertTrue(rows[self.p["lapsed"]].high_value)  # 900, among the top fifth
        self.assertEqual(
            sum(row.high_value for row in rows.values()), sum(v >= np.quantile(values, 0.8) for v in values)
        )
        Partner = self.env["res.partner"].with_user(self.user).with_company(self.company)
        domain = [("ecrm_churn_risk", "=", "high"), ("ecrm_high_value", "=", True)]
        found = Partner.search(domain)
        self.assertIn(self.p["lapsed"].id, found.ids)
        self.assertEqual(
            set(found.ids),
            {row.partner_id.id for row in rows.values() if row.churn_risk == "high" and row.high_value},
        )

    def test_rows_carry_the_rfm_segment_for_the_value_per_segment_report(self):
        rows = self._rows()
        rfm = {
            row.partner_id: row.segment_id
            for row in self.env["ecrm.rfm.score"].search([("company_id", "=", self.company.id)])
        }
        self.assertTrue(rfm)
        for partner, row in rows.items():
            self.assertEqual(row.segment_id, rfm.get(partner, self.env["ecrm.rfm.segment"]))
        self.assertFalse(rows[self.p["lapsed"]].segment_id)  # no purchase in the RFM window of 365 days
        groups = self.env["ecrm.clv.score"]._read_group(
            [("company_id", "=", self.company.id)], ["segment_id"], ["expected_value:sum"]
        )
        self.assertAlmostEqual(
            sum(total for __, total in groups), sum(rows_v.expected_value for rows_v in rows.values()), places=2
        )

    def test_two_companies_are_fitted_separately_and_a_failed_fit_does_not_fail_the_run(self):
        company_2 = self.setup_other_company(name="CLV Company 2")["company"]
        company_2.write({"ecrm_rfm_date": REFERENCE})
        self.env["account.move"].create(
            [
                self._invoice_vals(self.p["active"], date(2024, 6, 1), 80, "out_invoice", None, company=company_2),
                self._invoice_vals(self.p["active"], date(2024, 6, 15), 80, "out_invoice", None, company=company_2),
            ]
        ).action_post()
        self.env["res.partner"]._ecrm_compute_rfm()
        fit_2 = self._latest_fit(company_2)
        self.assertEqual(fit_2.state, "failed")
        self.assertIn("could not be fitted", fit_2.health)
        self.assertTrue(fit_2.error)
        self.assertFalse(self._rows(company_2))  # no figures rather than wrong ones
        self.assertTrue(self.env["ecrm.rfm.score"].search([("company_id", "=", company_2.id)]))  # RFM done
        self.assertEqual(self._latest_fit().state, "ok")
        self.user.write({"company_ids": [Command.link(company_2.id)]})
        active = self.p["active"].with_user(self.user)
        self.assertEqual(active.with_company(self.company).ecrm_churn_risk, "low")
        self.assertFalse(active.with_company(company_2).ecrm_churn_risk)

    def test_failed_fit_scores_with_the_latest_working_parameters(self):
        good = self._latest_fit()
        with patch.object(ecrm_clv_score.clv, "fit_bgnbd", side_effect=ValueError("the fit did not converge")):
            self.env["ecrm.rfm.score"]._rfm_refresh_company(self.company)
        failed = self._latest_fit()
        self.assertEqual((failed.state, failed.params_fit_id), ("failed", good))
        self.assertTrue(failed.error.startswith("the fit did not converge"))
        self.assertIn("parameters fitted for", failed.health)
        rows = self._rows()
        self.assertEqual(rows[self.p["lapsed"]].churn_risk, "high")  # scored with the good fit's parameters
        bgnbd = clv.BgNbdParams(good.bgnbd_r, good.bgnbd_alpha, good.bgnbd_a, good.bgnbd_b)
        row = rows[self.p["refund"]]
        self.assertAlmostEqual(row.p_alive, clv.p_alive(bgnbd, row.frequency, row.recency_days, row.age_days), places=5)

    def test_a_run_starts_its_fit_from_the_latest_fitted_parameters(self):
        good = self._latest_fit()
        with (
            patch.object(ecrm_clv_score.clv, "fit_bgnbd", wraps=clv.fit_bgnbd) as fit_bgnbd,
            patch.object(ecrm_clv_score.clv, "fit_gamma_gamma", wraps=clv.fit_gamma_gamma) as fit_gamma_gamma,
        ):
            self.env["ecrm.rfm.score"]._rfm_refresh_company(self.company)
        self.assertEqual(
            fit_bgnbd.call_args.kwargs["start"],
            clv.BgNbdParams(good.bgnbd_r, good.bgnbd_alpha, good.bgnbd_a, good.bgnbd_b),
        )
        self.assertEqual(
            fit_gamma_gamma.call_args.kwargs["start"], clv.GammaGammaParams(good.gg_p, good.gg_q, good.gg_v)
        )
        again = self._latest_fit()
        self.assertNotEqual(again, good)
        for name in ("bgnbd_r", "bgnbd_alpha", "bgnbd_a", "bgnbd_b", "gg_p", "gg_q", "gg_v"):
            self.assertAlmostEqual(again[name] / good[name], 1, places=4, msg=name)  # the same optimum

    def test_customer_who_left_the_calibration_period_loses_its_row(self):
        self.company.ecrm_clv_calibration_days = 365
        self.env["ecrm.rfm.score"]._rfm_refresh_company(self.company)
        rows = self._rows()
        self.assertNotIn(self.p["lapsed"], rows)
        self.assertIn(self.p["active"], rows)
        self.assertFalse(self.p["lapsed"].with_user(self.user).with_company(self.company).ecrm_churn_risk)

    def test_figures_written_in_batches_equal_one_statement(self):
        columns = ["partner_id", "date", "segment_id", *ecrm_clv_score.CLV_WRITE_COLUMNS]

        def stored():
            self.env.cr.execute(
                SQL(
                    "SELECT %s FROM ecrm_clv_score WHERE company_id = %s ORDER BY partner_id",
                    SQL(", ").join(SQL.identifier(name) for name in columns),
                    self.company.id,
                )
            )
            return self.env.cr.fetchall()

        one_statement = stored()
        # rows to update and rows to insert, in several batches
        self.env.cr.execute(
            SQL(
                "UPDATE ecrm_clv_score SET p_alive = 0 WHERE company_id = %(company)s; "
                "DELETE FROM ecrm_clv_score WHERE company_id = %(company)s AND partner_id IN %(gone)s",
                company=self.company.id,
                gone=(self.p["one_time"].id, self.p["lapsed"].id),
            )
        )
        self.env["ecrm.clv.score"].invalidate_model()
        row = self._rows()[self.p["active"]]
        self.assertEqual(row.p_alive, 0)  # in the ORM cache
        with patch.object(ecrm_clv_score, "CLV_WRITE_BATCH", 7):
            self.env["ecrm.clv.score"].sudo()._clv_refresh_company(self.company)
        self.assertSameFigures(stored(), one_statement)
        self.assertGreater(row.p_alive, 0.8)  # the cache was invalidated

    def test_users_read_managers_configure_others_get_nothing(self):
        self.assertTrue(self.env["ecrm.clv.score"].with_user(self.user).search([]))
        self.assertTrue(self.env["ecrm.clv.fit"].with_user(self.user).search([]))
        with self.assertRaises(AccessError):
            self.env["ecrm.clv.score"].with_user(self.plain).search([])
        with self.assertRaises(AccessError):
            self.env["ecrm.clv.fit"].with_user(self.plain).search([])
        with self.assertRaises(AccessError):
            self.p["lapsed"].with_user(self.plain).ecrm_churn_risk  # noqa: B018
        with self.assertRaises(AccessError):
            self._latest_fit().with_user(self.user).unlink()


@tagged("post_install", "-at_install")
class TestCustomerValueIncremental(ClvCase):
    """The daily run keeps each customer's inputs between runs and aggregates
    again only the customers whose documents changed or whose days entered or
    left the calibration period: the same inputs, fit and figures as the full
    computation ("Recompute now")."""

    def _stored_inputs(self):
        self.env.cr.execute(
            SQL(
                "SELECT partner_id, first_date, last_date, purchase_days, value, first_value "
                "FROM ecrm_clv_input WHERE company_id = %s ORDER BY partner_id",
                self.company.id,
            )
        )
        return self.env.cr.fetchall()

    def _full_inputs(self):
        Clv = self.env["ecrm.clv.score"]
        start, reference = Clv._clv_period(self.company)
        self.env.cr.execute(
            SQL("SELECT * FROM (%s) days ORDER BY partner_id", Clv._clv_days_sql(self.company, start, reference))
        )
        return self.env.cr.fetchall()

    def _figures(self):
        columns = ["partner_id", "date", "segment_id", *ecrm_clv_score.CLV_WRITE_COLUMNS]
        self.env.cr.execute(
            SQL(
                "SELECT %s FROM ecrm_clv_score WHERE company_id = %s ORDER BY partner_id",
                SQL(", ").join(SQL.identifier(name) for name in columns),
                self.company.id,
            )
        )
        fit = self._latest_fit()
        params = (fit.customer_count, fit.bgnbd_r, fit.bgnbd_alpha, fit.bgnbd_a, fit.bgnbd_b, fit.gg_p, fit.gg_q)
        return self.env.cr.fetchall(), params

    def _daily_run(self, reference):
        """An RFM run for ``reference``; returns whether every inputs
        aggregate it made was restricted to some customers."""
        self.company.ecrm_rfm_date = reference
        Clv = type(self.env["ecrm.clv.score"])
        original = Clv._clv_days_sql
        restricted = []

        def spy(model, company, start, reference, partners=None):
            restricted.append(partners is not None)
            return original(model, company, start, reference, partners)

        with patch.object(Clv, "_clv_days_sql", spy):
            self.env["ecrm.rfm.score"]._rfm_refresh_company(self.company)
        return bool(restricted) and all(restricted)

    def test_daily_inputs_equal_the_full_computation_after_document_changes(self):
        Partner = self.env["res.partner"]
        gone = Partner.create({"name": "CLV gone"})
        shifted = Partner.create({"name": "CLV shifted"})
        contact = Partner.create({"name": "CLV contact", "parent_id": self.p["active"].id})
        self.env["account.move"].create(
            [
                self._invoice_vals(*doc)
                for doc in [
                    (gone, date(2022, 7, 5), 40, "out_invoice", None),  # its only purchase leaves the period
                    (shifted, date(2022, 7, 5), 50, "out_invoice", None),  # its first purchase day leaves
                    (shifted, date(2022, 7, 10), 10, "out_refund", None),  # a refund-only day leaves
                    (shifted, date(2023, 1, 1), 70, "out_invoice", None),
                    (shifted, date(2023, 6, 1), 30, "out_invoice", None),
                ]
            ]
        ).action_post()
        self.env["ecrm.rfm.score"]._rfm_refresh_company(self.company, full=True)
        self.assertEqual(self._stored_inputs(), self._full_inputs())
        self.assertIn(gone.id, [row[0] for row in self._stored_inputs()])

        # documents created, refunded, in another currency, cancelled, of a
        # contact, and a customer moved under another commercial partner
        self.env["account.move"].create(
            [
                self._invoice_vals(*doc)
                for doc in [
                    (self.p["one_time"], REFERENCE + timedelta(days=1), 45, "out_invoice", None),
                    (self.p["active"], date(2024, 5, 1), 30, "out_refund", None),
                    (self.p["refund"], date(2024, 6, 1), 100, "out_invoice", self.eur),
                    (contact, date(2024, 6, 15), 25, "out_invoice", None),
                ]
            ]
        ).action_post()
        first_lapsed = self.env["account.move"].search(
            [("partner_id", "=", self.p["lapsed"].id), ("invoice_date", "=", date(2022, 9, 1))]
        )
        first_lapsed.button_draft()
        first_lapsed.button_cancel()
        self.p["same_day"].parent_id = self.p["eur"]

        self.assertTrue(self._daily_run(REFERENCE + timedelta(days=1)))
        self.assertEqual(self._stored_inputs(), self._full_inputs())
        # 20 days later: the days before 2022-07-22 left the period
        self.assertTrue(self._daily_run(REFERENCE + timedelta(days=21)))
        inputs = self._stored_inputs()
        self.assertEqual(inputs, self._full_inputs())
        by_partner = {row[0]: row[1:] for row in inputs}
        self.assertNotIn(gone.id, by_partner)
        self.assertNotIn(self.p["same_day"].id, by_partner)
        self.assertEqual(by_partner[shifted.id][:3], (date(2023, 1, 1), date(2023, 6, 1), 2))
        self.assertEqual(by_partner[self.p["lapsed"].id][0], date(2022, 9, 16))
        daily = self._figures()
        self.assertNotIn(gone.id, [row[0] for row in daily[0]])

        self.env["ecrm.rfm.score"]._rfm_refresh_company(self.company, full=True)  # "Recompute now"
        rows, params = self._figures()
        self.assertSameFigures(rows, daily[0])
        self.assertSameFigures([params], [daily[1]])
        self.assertEqual(self._stored_inputs(), inputs)


@tagged("post_install", "-at_install")
class TestProductRules(AccountTestInvoicingCommon):
    """Confirmed orders of the RFM window (reference 2024-06-30):

    == ======================
    O1 A B C D E G H
    O2 A B C D E G H
    O3 A B C F H
    O4 A B F
    O5 A B
    O6 C F
    O7 A C   (the customer X)
    == ======================

    D is archived and E not for sale once the orders are done.
    """

    BASKETS = ["ABCDEGH", "ABCDEGH", "ABCFH", "ABF", "AB", "CF", "AC"]

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company = cls.company_data["company"]
        cls.company.write({"ecrm_rfm_date": REFERENCE})
        cls.products = {
            code: cls.env["product.product"].create({"name": f"Product {code}", "type": "consu", "list_price": 10})
            for code in "ABCDEFGH"
        }
        partners = cls.env["res.partner"].create([{"name": f"Rules buyer {n}"} for n in range(len(cls.BASKETS))])
        cls.buyer = partners[-1]
        orders = cls.env["sale.order"].create(
            [
                {
                    "partner_id": partner.id,
                    "order_line": [
                        Command.create({"product_id": cls.products[code].id, "product_uom_qty": 1, "price_unit": 10})
                        for code in basket
                    ],
                }
                for partner, basket in zip(partners, cls.BASKETS, strict=True)
            ]
        )
        orders.action_confirm()
        orders.write({"date_order": "2024-06-01 10:00:00"})
        quotation = cls.env["sale.order"].create(
            {"partner_id": partners[0].id, "order_line": [Command.create({"product_id": cls.products["F"].id})]}
        )
        quotation.date_order = "2024-06-01 10:00:00"
        cls.products["D"].active = False
        cls.products["E"].sale_ok = False
        cls.code = {product.id: code for code, product in cls.products.items()}

    def _rules(self):
        rules = self.env["ecrm.product.rule"].search([("company_id", "=", self.company.id)])
        return {
            (self.code[r.product_id.id], self.code[r.recommended_product_id.id]): (
                r.order_count,
                round(r.support, 2),
                round(r.confidence, 2),
                round(r.lift, 4),
            )
            for r in rules
        }

    def _reference_rules(self, min_support, min_confidence, min_lift):
        baskets = [set(basket) for basket in self.BASKETS]
        n = len(baskets)
        minimum = max(2, int(np.ceil(min_support / 100 * n - 1e-9)))
        count = {code: sum(code in b for b in baskets) for code in "ABCDEFGH"}
        rules = {}
        for x in "ABCDEFGH":
            for y in "ABCDEFGH":
                both = sum(x in b and y in b for b in baskets)
                if x == y or count[x] < minimum or count[y] < minimum or both < minimum:
                    continue
                confidence, lift = 100 * both / count[x], both * n / (count[x] * count[y])
                if confidence >= min_confidence - 1e-9 and lift >= min_lift - 1e-9:
                    rules[x, y] = (both, round(100 * both / n, 2), round(confidence, 2), round(lift, 4))
        return rules

    def test_rules_have_support_confidence_and_lift_of_the_confirmed_orders(self):
        self.env["ecrm.product.rule"]._cron_ecrm_refresh_rules()
        rules = self._rules()
        self.assertEqual(rules[("A", "B")], (5, 71.43, 83.33, 1.1667))
        self.assertNotIn(("A", "F"), rules)  # lift 0.78 < 1
        self.assertEqual(rules, self._reference_rules(1.0, 10.0, 1.0))

    def test_rule_minimums_come_from_the_settings(self):
        self.company.write({"ecrm_rule_min_support": 40, "ecrm_rule_min_confidence": 50, "ecrm_rule_min_lift": 0})
        self.env["ecrm.product.rule"]._rule_refresh_company(self.company)
        self.assertEqual(self._rules(), self._reference_rules(40, 50, 0))
        self.assertIn(("A", "C"), self._rules())  # 4 orders of 7 (57 %), confidence 67 %
        self.assertNotIn(("A", "G"), self._rules())  # 2 orders of 7

    def test_top_3_offers_skip_owned_archived_and_unsellable_products(self):
        self.company.write({"ecrm_rule_min_lift": 0})
        self.env["ecrm.product.rule"]._rule_refresh_company(self.company)
        buyer = self.buyer.with_company(self.company)
        # B (83 % after A), H (60 % after C), G (40 %, lift 1.4), then F (40 %, lift 0.93) is cut;
        # C is owned, D archived, E not for sale
        self.assertEqual([self.code[p.id] for p in buyer.ecrm_offer_product_ids], ["B", "H", "G"])
        self.assertIn("<li>Product B</li>", str(buyer.ecrm_offer_html))
        self.assertFalse(self.env["res.partner"].create({"name": "No orders"}).ecrm_offer_html)

    def test_mailing_renders_each_customer_own_offer(self):
        self.company.write({"ecrm_rule_min_lift": 0})
        self.env["ecrm.product.rule"]._rule_refresh_company(self.company)
        mailing = self.env["mailing.mailing"].create(
            {
                "subject": "For you",
                "mailing_model_id": self.env["ir.model"]._get_id("res.partner"),
                "body_html": '<p>Hello</p><t t-out="object.ecrm_offer_html"/>',
            }
        )
        first = self.env["sale.order"].search([("partner_id.name", "=", "Rules buyer 5")]).partner_id  # bought C, F
        bodies = mailing._render_field("body_html", (self.buyer | first).ids)
        self.assertIn("<li>Product B</li>", bodies[self.buyer.id])
        self.assertIn("<li>Product H</li>", bodies[self.buyer.id])
        self.assertNotIn("Product F", bodies[self.buyer.id])
        self.assertNotEqual(bodies[self.buyer.id], bodies[first.id])
