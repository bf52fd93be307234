# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import random
from datetime import date
from unittest.mock import patch

from freezegun import freeze_time

from odoo import Command, sql_db
from odoo.addons.account.tests.common import AccountTestInvoicingCommon
from odoo.exceptions import AccessError
from odoo.tests import new_test_user, tagged
from odoo.tools import SQL

from .. import uninstall_hook
from ..models.ecrm_rfm_score import RFM_LOCK_KEY
from ..tools.scoring import tie_aware_scores

REFERENCE = date(2024, 6, 30)  # window of 365 days: purchases from 2023-07-01 on


class RfmCase(AccountTestInvoicingCommon):
    """Hand-built invoices with known figures (reference date 2024-06-30):

    ======== ===================================================== ==== ======= ==========
    customer posted documents in the window                          F    M       last
    ======== ===================================================== ==== ======= ==========
    A        invoices 100 (06-01), 200 (03-01), 300 (2023-12-01)    3    600     2024-06-01
    B        invoice 100 (06-01), refund 40 (06-10)                 1    60      2024-06-01
    C        invoices 500 (01-15), 500 (2023-08-01)                 2    1000    2024-01-15
    D        invoice 50 (2023-09-01); draft 1000 and cancelled 900  1    50      2023-09-01
    E        invoice 70 (2023-05-01), outside the window            -    -       -
    G        invoice 250 (04-01) + contact G1's invoice 250 (05-01) 2    500     2024-05-01
    H        invoice 300 EUR (02-01) at 2 EUR per company unit      1    150     2024-02-01
    ======== ===================================================== ==== ======= ==========
    """

    EXPECTED = {
        "A": (3, 600.0, date(2024, 6, 1)),
        "B": (1, 60.0, date(2024, 6, 1)),
        "C": (2, 1000.0, date(2024, 1, 15)),
        "D": (1, 50.0, date(2023, 9, 1)),
        "G": (2, 500.0, date(2024, 5, 1)),
        "H": (1, 150.0, date(2024, 2, 1)),
    }

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company = cls.company_data["company"]
        cls.company.write({"ecrm_rfm_date": REFERENCE, "ecrm_rfm_window_days": 365, "ecrm_rfm_source": "invoice"})
        cls.eur = cls.setup_other_currency("EUR")  # 2.0 EUR per company unit since 2017
        Partner = cls.env["res.partner"]
        cls.p = {
            name: Partner.create({"name": f"RFM {name}", "email": f"{name.lower()}@rfm.example.com"})
            for name in "ABCDEH"
        }
        cls.p["G"] = Partner.create({"name": "RFM G", "is_company": True, "email": "g@rfm.example.com"})
        cls.p["G1"] = Partner.create({"name": "RFM G1", "parent_id": cls.p["G"].id, "email": "g1@rfm.example.com"})
        docs = [
            ("A", "2024-06-01", 100, "out_invoice", None),
            ("A", "2024-03-01", 200, "out_invoice", None),
            ("A", "2023-12-01", 300, "out_invoice", None),
            ("B", "2024-06-01", 100, "out_invoice", None),
            ("B", "2024-06-10", 40, "out_refund", None),
            ("C", "2024-01-15", 500, "out_invoice", None),
            ("C", "2023-08-01", 500, "out_invoice", None),
            ("D", "2023-09-01", 50, "out_invoice", None),
            ("E", "2023-05-01", 70, "out_invoice", None),
            ("G", "2024-04-01", 250, "out_invoice", None),
            ("G1", "2024-05-01", 250, "out_invoice", None),
            ("H", "2024-02-01", 300, "out_invoice", cls.eur),
        ]
        cls.env["account.move"].create([cls._invoice_vals(*doc) for doc in docs]).action_post()
        draft, cancelled = cls.env["account.move"].create(
            [
                cls._invoice_vals("D", "2024-06-20", 1000, "out_invoice", None),
                cls._invoice_vals("D", "2024-06-21", 900, "out_invoice", None),
            ]
        )
        cancelled.button_cancel()
        cls.user = new_test_user(
            cls.env, login="rfm_user", groups="ecrm_addon.group_ecrm_user,base.group_partner_manager"
        )
        cls.manager = new_test_user(cls.env, login="rfm_manager", groups="ecrm_addon.group_ecrm_manager")
        cls.plain = new_test_user(cls.env, login="rfm_plain", groups="base.group_user")

    @classmethod
    def _invoice_vals(cls, who, when, amount, move_type, currency, company=None):
        company = company or cls.company
        return {
            "move_type": move_type,
            "partner_id": cls.p[who].id,
            "invoice_date": when,
            "date": when,
            "company_id": company.id,
            "currency_id": (currency or company.currency_id).id,
            "invoice_line_ids": [Command.create({"name": "RFM line", "price_unit": amount, "tax_ids": []})],
        }

    def _scores(self, company=None):
        company = company or self.company
        rows = self.env["ecrm.rfm.score"].search([("company_id", "=", company.id)])
        return {row.partner_id: row for row in rows}

    def _expected_scores(self, expected):
        names = list(expected)
        freq = tie_aware_scores([expected[n][0] for n in names])
        mon = tie_aware_scores([expected[n][1] for n in names])
        rec = tie_aware_scores([expected[n][2].toordinal() for n in names])
        return {n: (rec[i], freq[i], mon[i]) for i, n in enumerate(names)}


@tagged("post_install", "-at_install")
class TestRfmEngine(RfmCase):
    def test_figures_follow_posted_invoices_and_refunds(self):
        self.env["ecrm.rfm.score"]._rfm_refresh_company(self.company)
        scores = self._scores()
        got = {
            name: (
                scores[self.p[name]].frequency,
                scores[self.p[name]].monetary,
                scores[self.p[name]].last_purchase_date,
            )
            for name in self.EXPECTED
        }
        self.assertEqual(got, self.EXPECTED)
        self.assertEqual(scores[self.p["A"]].recency_days, 29)

    def test_scores_match_reference_tie_aware_quintiles(self):
        self.env["ecrm.rfm.score"]._rfm_refresh_company(self.company)
        scores = self._scores()
        got = {
            name: (scores[self.p[name]].r_score, scores[self.p[name]].f_score, scores[self.p[name]].m_score)
            for name in self.EXPECTED
        }
        self.assertEqual(got, self._expected_scores(self.EXPECTED))
        # Known answers: A and B tie on recency (both top), three one-time buyers share F = 1.
        self.assertEqual(got["A"][0], got["B"][0])
        self.assertEqual(got["A"], (4, 5, 4))
        self.assertEqual({got[n][1] for n in "BDH"}, {1})

    def test_no_purchase_in_window_means_no_row_and_zero_scores(self):
        self.env["ecrm.rfm.score"]._rfm_refresh_company(self.company)
        self.assertNotIn(self.p["E"], self._scores())
        self.assertNotIn(self.p["G1"], self._scores())
        partner_e = self.p["E"].with_user(self.user)
        self.assertEqual((partner_e.ecrm_r_score, partner_e.ecrm_frequency), (0, 0))
        self.assertFalse(partner_e.ecrm_segment_id)

    def test_segment_is_first_match_in_sequence(self):
        self.env["ecrm.rfm.score"]._rfm_refresh_company(self.company)
        segments = self.env["ecrm.rfm.segment"].search([])
        for partner, row in self._scores().items():
            first = segments.filtered(
                lambda s, row=row: s.r_min <= row.r_score <= s.r_max
                and s.f_min <= row.f_score <= s.f_max
                and s.m_min <= row.m_score <= s.m_max
            )[:1]
            self.assertEqual(row.segment_id, first, partner.name)

    def test_customer_leaving_window_is_dropped_and_move_recorded(self):
        Score = self.env["ecrm.rfm.score"]
        Score._rfm_refresh_company(self.company)
        segment_d = self._scores()[self.p["D"]].segment_id
        self.assertTrue(segment_d)
        self.company.ecrm_rfm_date = date(2024, 9, 15)  # window from 2023-09-16: D's only invoice is out
        Score._rfm_refresh_company(self.company)
        self.assertNotIn(self.p["D"], self._scores())
        partner_d = self.p["D"].with_user(self.user).with_company(self.company)
        figures = (partner_d.ecrm_frequency, partner_d.ecrm_r_score, partner_d.ecrm_segment_id.id)
        self.assertEqual(figures, (0, 0, False))
        move = self.env["ecrm.rfm.snapshot"].search(
            [("partner_id", "=", self.p["D"].id), ("date", "=", date(2024, 9, 15))]
        )
        self.assertEqual((move.segment_id, move.previous_segment_id), (self.env["ecrm.rfm.segment"], segment_d))
        self.assertEqual((move.frequency, move.monetary), (0, 0.0))

    def test_two_companies_score_a_shared_customer_separately(self):
        company_2 = self.setup_other_company(name="RFM Company 2")["company"]
        company_2.write({"ecrm_rfm_date": REFERENCE})
        moves = self.env["account.move"].create(
            [
                self._invoice_vals("A", "2024-06-15", 80, "out_invoice", None, company=company_2),
                self._invoice_vals("C", "2024-01-01", 30, "out_invoice", None, company=company_2),
            ]
        )
        moves.action_post()
        self.env["res.partner"]._ecrm_compute_rfm()
        row_2 = self._scores(company_2)[self.p["A"]]
        self.assertEqual((row_2.frequency, row_2.monetary, row_2.r_score), (1, 80.0, 3))
        self.assertEqual(self._scores()[self.p["A"]].monetary, 600.0)
        partner_a = self.p["A"].with_user(self.user)
        self.user.write({"company_ids": [Command.link(company_2.id), Command.link(self.company.id)]})
        self.assertEqual(partner_a.with_company(self.company).ecrm_monetary, 600.0)
        self.assertEqual(partner_a.with_company(company_2).ecrm_monetary, 80.0)

    def test_sale_order_source_counts_confirmed_orders_in_company_currency(self):
        pricelist_eur = self.env["product.pricelist"].create({"name": "EUR", "currency_id": self.eur.id})
        Order = self.env["sale.order"]
        line = [
            Command.create({"product_id": self.product_a.id, "product_uom_qty": 1, "price_unit": 100, "tax_id": []})
        ]
        confirmed = Order.create(
            [
                {"partner_id": self.p["A"].id, "order_line": line},
                {"partner_id": self.p["G1"].id, "order_line": line},
                {"partner_id": self.p["H"].id, "order_line": line, "pricelist_id": pricelist_eur.id},
            ]
        )
        confirmed.action_confirm()
        cancelled = Order.create({"partner_id": self.p["B"].id, "order_line": line})
        cancelled.action_confirm()
        cancelled._action_cancel()
        Order.create({"partner_id": self.p["C"].id, "order_line": line})  # quotation only
        (confirmed | cancelled).write({"date_order": "2024-06-20 10:00:00"})
        confirmed._compute_currency_rate()
        self.company.ecrm_rfm_source = "sale"
        self.env["ecrm.rfm.score"]._rfm_refresh_company(self.company)
        scores = self._scores()
        self.assertEqual(
            {partner.name: (row.frequency, row.monetary) for partner, row in scores.items()},
            {"RFM A": (1, 100.0), "RFM G": (1, 100.0), "RFM H": (1, 50.0)},
        )

    def test_cron_twice_in_a_row_gives_same_rows(self):
        Score = self.env["ecrm.rfm.score"]
        Score._cron_ecrm_compute_rfm()
        first = {p.id: (r.r_score, r.f_score, r.m_score, r.segment_id.id) for p, r in self._scores().items()}
        snapshots = self.env["ecrm.rfm.snapshot"].search_count([("company_id", "=", self.company.id)])
        Score._cron_ecrm_compute_rfm()
        second = {p.id: (r.r_score, r.f_score, r.m_score, r.segment_id.id) for p, r in self._scores().items()}
        self.assertEqual(first, second)
        self.assertEqual(self.env["ecrm.rfm.snapshot"].search_count([("company_id", "=", self.company.id)]), snapshots)
        # the second run keeps the segment before the first one (none) as previous
        self.assertFalse(
            self.env["ecrm.rfm.snapshot"].search([("company_id", "=", self.company.id)]).previous_segment_id
        )
        cells = self.env["ecrm.rfm.migration"].search([("company_id", "=", self.company.id)])
        self.assertFalse(cells.previous_segment_id)
        self.assertEqual(sum(cells.mapped("customer_count")), len(first))

    def test_next_day_rewrites_only_customers_whose_figures_changed(self):
        Score = self.env["ecrm.rfm.score"]
        Score._rfm_refresh_company(self.company)
        before = {p: (r.date, r.r_score, r.f_score, r.m_score, r.frequency) for p, r in self._scores().items()}
        self.company.ecrm_rfm_date = date(2024, 7, 1)
        self.env["account.move"].create(self._invoice_vals("C", "2024-07-01", 10, "out_invoice", None)).action_post()
        Score._rfm_refresh_company(self.company)
        after = {p: (r.date, r.r_score, r.f_score, r.m_score, r.frequency) for p, r in self._scores().items()}
        changed = {p for p in after if after[p][1:] != before[p][1:]}
        self.assertIn(self.p["C"], changed)
        self.assertLess(len(changed), len(after))
        for partner, row in after.items():
            expected_date = date(2024, 7, 1) if partner in changed else REFERENCE
            self.assertEqual(row[0], expected_date, partner.name)
        history = self.env["ecrm.rfm.snapshot"].search(
            [("company_id", "=", self.company.id), ("date", "=", date(2024, 7, 1))]
        )
        self.assertEqual(set(history.partner_id), changed)
        # recency follows the new reference date for every customer, rewritten or not
        self.assertEqual(self._scores()[self.p["A"]].recency_days, 30)
        self.assertEqual(self.p["A"].with_user(self.user).with_company(self.company).ecrm_recency_days, 30)

    def test_history_rebuilds_every_run_state(self):
        Score = self.env["ecrm.rfm.score"]
        states = {}
        runs = [(REFERENCE, None), (date(2024, 7, 20), ("B", "2024-07-20", 900)), (date(2024, 9, 15), None)]
        for reference, invoice in runs:
            if invoice:
                self.env["account.move"].create(self._invoice_vals(*invoice, "out_invoice", None)).action_post()
            self.company.ecrm_rfm_date = reference
            Score._rfm_refresh_company(self.company)
            states[reference] = {
                p.id: (r.frequency, r.monetary, r.r_score, r.f_score, r.m_score, r.segment_id.id or None)
                for p, r in self._scores().items()
            }
        Score = self.env["ecrm.rfm.score"]
        for reference, state in states.items():
            self.env.cr.execute(Score._rfm_history_sql(self.company, reference))
            rebuilt = {
                row[0]: (row[1], float(row[2]), row[3], row[4], row[5], row[6]) for row in self.env.cr.fetchall()
            }
            self.assertEqual(rebuilt, state, reference)

    def test_second_run_of_a_date_keeps_the_moves_of_the_first(self):
        Score = self.env["ecrm.rfm.score"]
        Score._rfm_refresh_company(self.company)
        segment_d = self._scores()[self.p["D"]].segment_id
        self.company.ecrm_rfm_date = date(2024, 9, 15)
        Score._rfm_refresh_company(self.company)
        Migration = self.env["ecrm.rfm.migration"]
        domain = [("company_id", "=", self.company.id), ("date", "=", date(2024, 9, 15))]
        first = {(r.previous_segment_id.id, r.segment_id.id): r.customer_count for r in Migration.search(domain)}
        Score._rfm_refresh_company(self.company)
        second = {(r.previous_segment_id.id, r.segment_id.id): r.customer_count for r in Migration.search(domain)}
        self.assertEqual(first, second)
        self.assertEqual(second[(segment_d.id, False)], 1)

    def test_refresh_skips_company_another_transaction_is_refreshing(self):
        other = sql_db.db_connect(self.env.cr.dbname).cursor()
        try:
            other.execute(SQL("SELECT pg_advisory_lock(%s, %s)", RFM_LOCK_KEY, self.company.id))
            self.assertFalse(self.env["ecrm.rfm.score"]._rfm_refresh_company(self.company))
            self.assertFalse(self._scores())
        finally:
            other.execute(SQL("SELECT pg_advisory_unlock(%s, %s)", RFM_LOCK_KEY, self.company.id))
            other.close()
        self.assertTrue(self.env["ecrm.rfm.score"]._rfm_refresh_company(self.company))

    def test_empty_reference_date_means_today(self):
        self.company.ecrm_rfm_date = False
        with freeze_time("2024-07-10"):
            self.env["ecrm.rfm.score"]._rfm_refresh_company(self.company)
        self.assertEqual(self._scores()[self.p["A"]].recency_days, 39)

    def test_sql_scores_equal_reference_on_random_ties(self):
        rng = random.Random(4)
        partners = self.env["res.partner"].create([{"name": f"RFM random {n}"} for n in range(30)])
        vals, expected = [], {}
        for partner in partners:
            days = sorted(rng.sample(range(0, 300, 10), rng.randint(1, 3)))  # recency ties on a 10-day grid
            amount = rng.choice([20, 50, 50, 80])  # monetary ties
            for day in days:
                when = date.fromordinal(REFERENCE.toordinal() - day)
                self.p[partner.name] = partner
                vals.append(self._invoice_vals(partner.name, when, amount, "out_invoice", None))
            expected[partner.name] = (
                len(days),
                float(amount * len(days)),
                date.fromordinal(REFERENCE.toordinal() - days[0]),
            )
        self.env["account.move"].create(vals).action_post()
        expected.update(self.EXPECTED)
        self.env["ecrm.rfm.score"]._rfm_refresh_company(self.company)
        rows = self._scores()
        got = {
            name: (rows[self.p[name]].r_score, rows[self.p[name]].f_score, rows[self.p[name]].m_score)
            for name in expected
        }
        self.assertEqual(got, self._expected_scores(expected))

    def test_refresh_turns_jit_off_for_its_statement_only(self):
        cr = self.env.cr
        for setting in ("on", "off"):
            cr.execute(SQL("SELECT set_config('jit', %s, true)", setting))
            self.env["ecrm.rfm.score"]._rfm_refresh_company(self.company)
            cr.execute("SELECT current_setting('jit')")
            self.assertEqual(cr.fetchone()[0], setting)

    def test_engine_query_count_does_not_grow_with_customers(self):
        Score = self.env["ecrm.rfm.score"]
        Score._rfm_refresh_company(self.company)  # warm caches
        # settings of the stored run, lock, refresh with its history, reference date; then the
        # customer value (ecrm_rfm_score_clv): its inputs, the latest working fit (this one fails
        # on so few customers), the fit row and the figures; then the segment actions
        # (ecrm_rfm_score_actions): one statement claims the date's moves
        with self.assertQueryCount(9):
            Score._rfm_refresh_company(self.company)


@tagged("post_install", "-at_install")
class TestRfmDailyRun(RfmCase):
    """A daily run aggregates again only the customers touched since the stored
    run (triggers log them) and those whose purchases entered or left the
    window; it must give exactly the rows a full run gives."""

    def _touched(self):
        self.env.flush_all()
        self.env.cr.execute(
            SQL("SELECT DISTINCT partner_id FROM ecrm_rfm_touched WHERE company_id = %s", self.company.id)
        )
        return {row[0] for row in self.env.cr.fetchall()}

    def _stored_rows(self):
        self.env.cr.execute(
            SQL(
                """SELECT partner_id, frequency, last_purchase_date, monetary, r_score, f_score, m_score, segment_id
                     FROM ecrm_rfm_score WHERE company_id = %s""",
                self.company.id,
            )
        )
        return {row[0]: row[1:] for row in self.env.cr.fetchall()}

    def _full_rows(self):
        """The rows a full run of the current state would write (read only):
        the whole window aggregated, scored with the engine's limits and
        segment lookup."""
        Score = self.env["ecrm.rfm.score"]
        reference, date_from = Score._rfm_window(self.company)
        self.env.flush_all()
        self.env.cr.execute(
            SQL(
                """
                WITH fresh AS MATERIALIZED (%(aggregate)s),
                limits AS MATERIALIZED (%(limits)s),
                segments AS MATERIALIZED (%(segments)s)
                SELECT x.*, %(segment)s AS segment_id
                  FROM (SELECT n.partner_id, n.frequency::int, n.last_purchase_date, n.monetary, %(scores)s
                          FROM fresh n, limits) x, segments
                """,
                aggregate=Score._rfm_aggregate_sql(self.company, date_from, reference),
                limits=Score._rfm_limits_sql(SQL("SELECT * FROM fresh")),
                segments=Score._rfm_segment_ids_sql(),
                scores=Score._rfm_score_columns_sql("n"),
                segment=Score._rfm_segment_sql("x"),
            )
        )
        return {row[0]: row[1:] for row in self.env.cr.fetchall()}

    def test_triggers_log_the_customers_of_changed_counted_documents(self):
        Move = self.env["account.move"]
        self._touched()
        self.env.cr.execute("DELETE FROM ecrm_rfm_touched")
        draft = Move.create(self._invoice_vals("A", "2024-06-20", 10, "out_invoice", None))
        draft.write({"invoice_date": "2024-06-21", "ref": "still a draft"})
        self.assertEqual(self._touched(), set(), "a draft counts for nothing")
        draft.action_post()
        self.assertEqual(self._touched(), {self.p["A"].id})
        self.env.cr.execute("DELETE FROM ecrm_rfm_touched")
        draft.write({"ref": "posted, reference only"})
        self.assertEqual(self._touched(), set())
        draft.button_draft()
        self.assertEqual(self._touched(), {self.p["A"].id})
        self.env.cr.execute("DELETE FROM ecrm_rfm_touched")
        self.p["G1"].parent_id = self.p["C"]  # G1's invoice now counts for C, no longer for G
        self.assertEqual(self._touched(), {self.p["G"].id, self.p["C"].id})

    def test_daily_runs_equal_a_full_run_under_random_changes(self):
        rng = random.Random(18)
        Partner = self.env["res.partner"]
        Move = self.env["account.move"]
        Score = self.env["ecrm.rfm.score"]
        names = ["A", "B", "C", "D", "E", "G", "G1", "H"]
        extra = Partner.create([{"name": f"RFM daily {n}", "email": f"daily{n}@rfm.example.com"} for n in range(8)])
        for partner in extra:
            self.p[partner.name] = partner
            names.append(partner.name)
        # purchases near the window's start, which leave it during the days below
        edge = [
            self._invoice_vals(rng.choice(names), f"2023-07-0{day}", 10 * day, "out_invoice", None)
            for day in range(1, 9)
        ]
        Move.create(edge).action_post()
        Score._rfm_refresh_company(self.company)
        reference = REFERENCE
        steps = [1, 1, 2, 0, 3, 1, 1, 40, -3, 1]  # 40: too far, -3: back in time; both run in full
        for step_no, step in enumerate(steps):
            reference = date.fromordinal(reference.toordinal() + step)
            posted = Move.search([("company_id", "=", self.company.id), ("state", "=", "posted")])
            for _change in range(3):
                kind = rng.choice(["invoice", "invoice", "refund", "old", "cancel", "draft", "reparent"])
                if kind in ("invoice", "refund", "old"):
                    age = rng.randint(400, 500) if kind == "old" else rng.randint(0, 364)
                    when = date.fromordinal(reference.toordinal() - age)
                    move_type = "out_refund" if kind == "refund" else "out_invoice"
                    vals = self._invoice_vals(rng.choice(names), when, rng.choice([30, 60, 60, 90]), move_type, None)
                    Move.create(vals).action_post()
                elif kind in ("cancel", "draft") and posted:
                    move = rng.choice(posted)
                    posted -= move
                    move.button_draft()
                    if kind == "cancel":
                        move.button_cancel()
                elif kind == "reparent":
                    contact = rng.choice(extra)
                    contact.parent_id = rng.choice([self.p["G"], self.p["C"], Partner])
            if step_no == 4:
                # Odoo's merge moves documents with raw SQL: the triggers see it too
                gone = extra[0]
                names.remove(gone.name)
                extra -= gone
                self.env["base.partner.merge.automatic.wizard"]._merge((gone | extra[0]).ids, extra[0])
            self.company.ecrm_rfm_date = reference
            daily = Score._rfm_incremental_window(self.company, reference) is not None
            self.assertEqual(daily, step in (0, 1, 2, 3), f"step {step_no}: daily run expected for {step} days")
            Score._rfm_refresh_company(self.company)
            self.assertEqual(self._stored_rows(), self._full_rows(), f"step {step_no} ({reference})")
            self.assertEqual(self._touched(), set(), "the run consumed the log")
        # a full run on top writes nothing more
        history = self.env["ecrm.rfm.snapshot"].search_count([("company_id", "=", self.company.id)])
        Score._rfm_refresh_company(self.company, full=True)
        self.assertEqual(self.env["ecrm.rfm.snapshot"].search_count([("company_id", "=", self.company.id)]), history)

    def test_daily_run_follows_sales_orders(self):
        Partner = self.env["res.partner"]
        Order = self.env["sale.order"]
        Score = self.env["ecrm.rfm.score"]
        line = [
            Command.create({"product_id": self.product_a.id, "product_uom_qty": 1, "price_unit": 100, "tax_id": []})
        ]
        orders = Order.create([{"partner_id": self.p[name].id, "order_line": line} for name in ("A", "B", "G1", "C")])
        orders.action_confirm()
        orders.write({"date_order": "2024-06-20 10:00:00"})
        self.company.ecrm_rfm_source = "sale"
        Score._rfm_refresh_company(self.company)
        self.assertEqual(len(self._stored_rows()), 4)
        # a new order, a cancelled one, one moved out of the window, a contact moving to another company
        new_order = Order.create({"partner_id": self.p["D"].id, "order_line": line})
        new_order.action_confirm()
        new_order.date_order = "2024-06-30 10:00:00"
        orders[1]._action_cancel()
        orders[3].date_order = "2023-01-01 10:00:00"
        self.p["G1"].parent_id = self.p["A"]
        self.company.ecrm_rfm_date = date(2024, 7, 1)
        self.assertIsNotNone(Score._rfm_incremental_window(self.company, date(2024, 7, 1)))
        Score._rfm_refresh_company(self.company)
        rows = self._stored_rows()
        self.assertEqual(rows, self._full_rows())
        self.assertEqual({Partner.browse(pid).name: row[0] for pid, row in rows.items()}, {"RFM A": 2, "RFM D": 1})

    def test_recompute_now_runs_in_full_and_the_cron_daily(self):
        Score = self.env["ecrm.rfm.score"]
        Score._rfm_refresh_company(self.company)
        self.company.ecrm_rfm_date = date(2024, 7, 1)
        calls = []
        original = type(Score)._rfm_refresh_company

        def spy(model, company, full=False):
            calls.append((company, full))
            return original(model, company, full=full)

        with patch.object(type(Score), "_rfm_refresh_company", spy):
            Score._cron_ecrm_compute_rfm()
            self.assertIn((self.company, False), calls)
            calls.clear()
            self.env["ecrm.rfm.segment"].with_user(self.manager).action_ecrm_compute_rfm()
            Score._cron_ecrm_compute_rfm()
            self.assertIn((self.company, True), calls)

    def test_contact_merged_into_another_company_leaves_its_company(self):
        Partner = self.env["res.partner"]
        Score = self.env["ecrm.rfm.score"]
        Score._rfm_refresh_company(self.company)
        self.assertEqual(self._stored_rows()[self.p["G"].id][0], 2)
        contact_c = Partner.create({"name": "RFM C1", "parent_id": self.p["C"].id})
        # Odoo's merge moves G1's invoice to C1 with raw SQL, then deletes G1
        self.env["base.partner.merge.automatic.wizard"]._merge((self.p["G1"] | contact_c).ids, contact_c)
        self.company.ecrm_rfm_date = date(2024, 7, 1)
        Score._rfm_refresh_company(self.company)
        rows = self._stored_rows()
        self.assertEqual(rows, self._full_rows())
        self.assertEqual((rows[self.p["G"].id][0], rows[self.p["C"].id][0]), (1, 3))

    def test_second_run_of_a_date_counts_customers_without_segment_once(self):
        Score = self.env["ecrm.rfm.score"]
        self.env["ecrm.rfm.segment"].search([]).active = False  # every customer without a segment
        Score._rfm_refresh_company(self.company)
        Score._rfm_refresh_company(self.company, full=True)
        cells = self.env["ecrm.rfm.migration"].search([("company_id", "=", self.company.id), ("date", "=", REFERENCE)])
        self.assertEqual(sum(cells.mapped("customer_count")), len(self._stored_rows()))

    def test_customer_new_and_gone_the_same_date_leaves_no_move(self):
        Score = self.env["ecrm.rfm.score"]
        Score._rfm_refresh_company(self.company)
        self.company.ecrm_rfm_date = date(2024, 7, 1)
        invoice = self.env["account.move"].create(self._invoice_vals("E", "2024-07-01", 80, "out_invoice", None))
        invoice.action_post()
        Score._rfm_refresh_company(self.company)
        self.assertIn(self.p["E"].id, self._stored_rows())
        invoice.button_draft()
        invoice.button_cancel()
        Score._rfm_refresh_company(self.company)  # the same date again: E was never a customer
        self.assertNotIn(self.p["E"].id, self._stored_rows())
        Snapshot = self.env["ecrm.rfm.snapshot"]
        self.assertFalse(Snapshot.search([("partner_id", "=", self.p["E"].id), ("date", "=", date(2024, 7, 1))]))
        cells = self.env["ecrm.rfm.migration"].search(
            [("company_id", "=", self.company.id), ("date", "=", date(2024, 7, 1))]
        )
        self.assertFalse(cells.filtered(lambda cell: not cell.previous_segment_id and not cell.segment_id))
        self.assertEqual(sum(cells.mapped("customer_count")), len(self._stored_rows()))

    def test_other_settings_run_in_full(self):
        Score = self.env["ecrm.rfm.score"]
        Score = self.env["ecrm.rfm.score"]
        Score._rfm_refresh_company(self.company)
        self.assertEqual(Score._rfm_incremental_window(self.company, REFERENCE), [])
        self.company.ecrm_rfm_window_days = 200
        self.assertIsNone(Score._rfm_incremental_window(self.company, REFERENCE))
        Score._rfm_refresh_company(self.company)
        self.assertEqual(Score._rfm_incremental_window(self.company, REFERENCE), [])
        self.company.currency_id.rounding = 0.001  # amounts rounded otherwise
        self.assertIsNone(Score._rfm_incremental_window(self.company, REFERENCE))
        Score._rfm_refresh_company(self.company)
        self.company.ecrm_rfm_source = "sale"
        self.assertIsNone(Score._rfm_incremental_window(self.company, REFERENCE))

    def _engine_objects(self):
        cr = self.env.cr
        cr.execute("SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'ecrm_rfm_touch%'")
        triggers = cr.fetchone()[0]
        cr.execute("SELECT count(*) FROM pg_proc WHERE proname LIKE 'ecrm_rfm_touch%'")
        functions = cr.fetchone()[0]
        cr.execute("SELECT to_regclass('ecrm_rfm_touched') IS NOT NULL")
        return triggers, functions, cr.fetchone()[0]

    def test_uninstall_hook_drops_the_log_and_triggers(self):
        self.assertEqual(self._engine_objects(), (8, 2, True))
        uninstall_hook(self.env)  # as the manifest's hook
        self.assertEqual(self._engine_objects(), (0, 0, False))
        # an invoice posted meanwhile does not fail for want of the log
        self.env["account.move"].create(self._invoice_vals("A", "2024-06-20", 10, "out_invoice", None)).action_post()
        self.env["ecrm.rfm.score"]._rfm_install_triggers()
        self.assertEqual(self._engine_objects(), (8, 2, True))


@tagged("post_install", "-at_install")
class TestRfmPartnerFields(RfmCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["ecrm.rfm.score"]._rfm_refresh_company(cls.company)
        cls.env = cls.env(context=dict(cls.env.context, allowed_company_ids=[cls.company.id]))

    def test_contact_shows_its_company_figures(self):
        contact = self.p["G1"].with_user(self.user).with_company(self.company)
        self.assertEqual((contact.ecrm_frequency, contact.ecrm_monetary), (2, 500.0))
        self.assertEqual(
            contact.ecrm_segment_id, self.p["G"].with_user(self.user).with_company(self.company).ecrm_segment_id
        )

    def test_reading_many_partners_costs_as_much_as_one(self):
        Partner = self.env["res.partner"].with_user(self.user).with_company(self.company)
        many = Partner.browse([partner.id for partner in self.p.values()])

        def queries(records):
            self.env.invalidate_all()
            before = self.cr.sql_log_count
            records.mapped("ecrm_r_score")
            return self.cr.sql_log_count - before

        queries(many)  # warm the access caches
        self.assertEqual(queries(many), queries(many[:1]))
        self.assertLessEqual(queries(many), 4)  # partners, commercial partners, score rows, access

    def test_search_on_score_and_segment(self):
        Partner = self.env["res.partner"].with_user(self.user).with_company(self.company)
        ours = [("id", "in", [partner.id for partner in self.p.values()])]
        top_f = Partner.search([*ours, ("ecrm_f_score", "=", 5)])
        self.assertEqual(top_f, self.p["A"].with_user(self.user))
        no_purchase = Partner.search([*ours, ("ecrm_r_score", "=", 0)])
        self.assertEqual(set(no_purchase.mapped("name")), {"RFM E"})
        segment = self.p["A"].with_user(self.user).with_company(self.company).ecrm_segment_id
        by_code = Partner.search([*ours, ("ecrm_segment_id.code", "=", segment.code)])
        by_id = Partner.search([*ours, ("ecrm_segment_id", "=", segment.id)])
        self.assertIn(self.p["A"].id, by_code.ids)
        self.assertEqual(by_code, by_id)
        without = Partner.search([*ours, ("ecrm_segment_id", "=", False)])
        self.assertEqual(set(without.mapped("name")), {"RFM E"})

    def test_search_on_recency_counts_days_to_the_reference_date(self):
        Partner = self.env["res.partner"].with_user(self.user).with_company(self.company)
        ours = [("id", "in", [partner.id for partner in self.p.values()])]
        recent = Partner.search([*ours, ("ecrm_recency_days", "<=", 29)])  # last purchase on or after 06-01
        self.assertEqual(set(recent.mapped("name")), {"RFM A", "RFM B", "RFM E"})  # E: no purchase, recency 0
        older = Partner.search([*ours, ("ecrm_recency_days", ">", 29)])
        self.assertEqual(set(older.mapped("name")), {"RFM C", "RFM D", "RFM G", "RFM G1", "RFM H"})
        self.assertEqual(Partner.search([*ours, ("ecrm_recency_days", "=", 0)]).mapped("name"), ["RFM E"])

    def test_segment_lists_its_customers_and_opens_a_mailing(self):
        segment = self.p["A"].with_user(self.user).with_company(self.company).ecrm_segment_id
        segment = segment.with_user(self.manager).with_company(self.company)
        self.manager.write({"company_ids": [Command.link(self.company.id)]})
        action = segment.action_view_customers()
        customers = self.env["res.partner"].with_user(self.manager).with_company(self.company).search(action["domain"])
        self.assertIn(self.p["A"], customers.sudo())
        self.assertEqual(segment.customer_count, len(customers))
        mailing_action = segment.action_send_mailing()
        domain = eval(mailing_action["context"]["default_mailing_domain"])  # pylint: disable=eval-used
        self.assertEqual(self.env["res.partner"].with_company(self.company).search(domain), customers.sudo())

    def test_user_without_ecrm_group_does_not_get_the_rfm_fields(self):
        Partner = self.env["res.partner"].with_user(self.plain)
        self.assertNotIn("ecrm_r_score", Partner.fields_get())
        arch = Partner.get_views([(False, "form"), (False, "list")])["views"]
        self.assertNotIn("ecrm_segment_id", arch["form"]["arch"] + arch["list"]["arch"])
        self.assertEqual(Partner.browse(self.p["A"].id).name, "RFM A")

    def test_user_without_ecrm_group_cannot_read_scores(self):
        with self.assertRaises(AccessError):
            self.env["ecrm.rfm.score"].with_user(self.plain).search([])
        with self.assertRaises(AccessError):
            self.p["A"].with_user(self.plain).ecrm_r_score  # noqa: B018
        with self.assertRaises(AccessError):
            self.env["ecrm.rfm.snapshot"].with_user(self.plain).search([])

    def test_recompute_now_triggers_the_cron_for_managers_only(self):
        cron = self.env.ref("ecrm_addon.ecrm_rfm_cron")
        before = self.env["ir.cron.trigger"].search_count([("cron_id", "=", cron.id)])
        self.env["ecrm.rfm.segment"].with_user(self.manager).action_ecrm_compute_rfm()
        self.assertEqual(self.env["ir.cron.trigger"].search_count([("cron_id", "=", cron.id)]), before + 1)
        with self.assertRaises(AccessError):
            self.env["ecrm.rfm.score"].with_user(self.user).action_ecrm_compute_rfm()

    def test_migration_report_counts_every_cell_of_the_latest_run(self):
        self.env["ecrm.rfm.score"]._rfm_refresh_company(self.company)
        before = {row.partner_id.id: row.segment_id for row in self._scores().values()}
        self.company.ecrm_rfm_date = date(2024, 9, 15)
        self.env["ecrm.rfm.score"]._rfm_refresh_company(self.company)
        Migration = self.env["ecrm.rfm.migration"].with_user(self.user)
        latest = Migration.search([("is_latest", "=", True), ("company_id", "=", self.company.id)])
        self.assertEqual(set(latest.mapped("date")), {date(2024, 9, 15)})
        scores = self._scores()
        after = {row.partner_id.id: row.segment_id for row in scores.values()}
        self.assertEqual(sum(latest.mapped("customer_count")), len(before.keys() | after.keys()))  # D left
        self.assertAlmostEqual(sum(latest.mapped("monetary")), sum(row.monetary for row in scores.values()))
        segments = self.env["ecrm.rfm.segment"]
        expected = {}
        for partner_id in before.keys() | after.keys():
            key = (before.get(partner_id, segments), after.get(partner_id, segments))
            expected[key] = expected.get(key, 0) + 1
        cells = {(row.previous_segment_id, row.segment_id): row.customer_count for row in latest}
        self.assertEqual(cells, expected)
        moves = self.env["ecrm.rfm.snapshot"].search(
            [("company_id", "=", self.company.id), ("date", "=", date(2024, 9, 15))]
        )
        movers = {p for p in before.keys() | after.keys() if before.get(p, segments) != after.get(p, segments)}
        self.assertLessEqual(movers, set(moves.partner_id.ids))
