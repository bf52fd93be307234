# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from datetime import datetime, timedelta

from freezegun import freeze_time

from odoo.exceptions import AccessError, ValidationError
from odoo.tests import TransactionCase, new_test_user, tagged

NOW = datetime(2026, 3, 2, 12, 0, 0)


class ResponseCase(TransactionCase):
    """Hand-built sends and traces: each mailing logged as sent to customers
    (as the composers log it) with a trace per recipient whose events the
    tests set."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["ecrm.pressure.rule"].search([]).active = False
        cls.company = cls.env.company
        cls.company.write({"ecrm_response_sends": 4, "ecrm_unresponsive_sends": 3, "ecrm_response_window_days": 90})
        cls.alice, cls.bob, cls.carol = cls.env["res.partner"].create(
            [
                {"name": "Alice Response", "email": "alice.response@example.com", "mobile": "+32 470 11 22 44"},
                {"name": "Bob Response", "email": "bob.response@example.com"},
                {"name": "Carol Response", "email": "carol.response@example.com"},
            ]
        )
        cls.Trace = cls.env["mailing.trace"]
        cls.Score = cls.env["ecrm.response.score"]

    @classmethod
    def _mailing(cls, subject="Spring sale", mailing_type="mail"):
        return cls.env["mailing.mailing"].create(
            {
                "subject": subject,
                "body_html": "<p>Hello</p>",
                "body_plaintext": "Hello",
                "mailing_type": mailing_type,
                "mailing_model_id": cls.env["ir.model"]._get_id("res.partner"),
                "user_id": cls.env.uid,
            }
        )

    @classmethod
    def _send(cls, mailing, partners, date, **events):
        """Log ``mailing`` as sent to ``partners`` at ``date`` and give each a
        trace; ``events``: trace values (open_datetime, trace_status...)."""
        Interaction = cls.env["ecrm.interaction"]
        channel = "sms" if mailing.mailing_type == "sms" else "email"
        Interaction._log(
            [
                Interaction._log_values(
                    mailing, partner.id, mailing.subject, channel, "outbound", "marketing", date=date
                )
                for partner in partners
            ]
        )
        return cls.Trace.create(
            [
                {
                    "mass_mailing_id": mailing.id,
                    "model": "res.partner",
                    "res_id": partner.id,
                    "trace_type": "sms" if channel == "sms" else "mail",
                    "email": partner.email if channel == "email" else False,
                    "sms_number": partner.ecrm_phone_key if channel == "sms" else False,
                    "trace_status": "sent",
                    "sent_datetime": date,
                    **events,
                }
                for partner in partners
            ]
        )

    def _responses(self, partner=None):
        # only ours: the cron also folds the traces the database already had
        partners = partner or (self.alice | self.bob | self.carol)
        domain = [("ecrm_response", "!=", False), ("partner_id", "in", partners.ids)]
        return self.env["ecrm.interaction"].search(domain)

    def _score(self, partner, channel="email"):
        return self.Score.search([("partner_id", "=", partner.id), ("channel", "=", channel)])


@tagged("post_install", "-at_install")
class TestResponseFold(ResponseCase):
    def test_trace_events_become_inbound_marketing_interactions(self):
        mailing = self._mailing()
        opened = NOW - timedelta(days=2)
        clicked = NOW - timedelta(days=1)
        trace = self._send(
            mailing, self.alice, NOW - timedelta(days=3), open_datetime=opened, links_click_datetime=clicked
        )
        self.assertEqual(trace._ecrm_fold_responses(), 2)
        responses = self._responses(self.alice)
        self.assertEqual(sorted((r.ecrm_response, r.date) for r in responses), [("click", clicked), ("open", opened)])
        self.assertEqual(set(responses.mapped("direction")), {"inbound"})
        self.assertEqual(set(responses.mapped("category")), {"marketing"})
        self.assertEqual(set(responses.mapped("channel")), {"email"})
        self.assertEqual({(r.res_model, r.res_id) for r in responses}, {("mailing.mailing", mailing.id)})
        self.assertEqual(responses.company_id, self.company)
        self.assertEqual(responses.commercial_partner_id, self.alice)
        self.assertIn("Spring sale", responses[0].name)

    def test_reply_bounce_and_sms_click_are_folded(self):
        mailing, sms = self._mailing(), self._mailing("Flash SMS", mailing_type="sms")
        replied = NOW - timedelta(hours=5)
        self._send(mailing, self.alice, NOW - timedelta(days=1), trace_status="reply", reply_datetime=replied)
        self._send(mailing, self.bob, NOW - timedelta(days=1), trace_status="bounce")
        self._send(sms, self.alice, NOW - timedelta(days=1), links_click_datetime=replied)
        self.Trace._cron_ecrm_fold_responses()
        self.assertEqual(
            {(r.partner_id, r.channel, r.ecrm_response) for r in self._responses()},
            {(self.alice, "email", "reply"), (self.bob, "email", "bounce"), (self.alice, "sms", "click")},
        )

    def test_fold_is_idempotent(self):
        mailing = self._mailing()
        traces = self._send(mailing, self.alice | self.bob, NOW - timedelta(days=3), open_datetime=NOW)
        traces._ecrm_fold_responses()
        self.Trace._cron_ecrm_fold_responses()
        self.assertEqual(traces._ecrm_fold_responses(), 0)
        traces.set_opened()
        self.assertEqual(len(self._responses()), 2)

    def test_setters_fold_each_batch(self):
        mailing = self._mailing()
        traces = self._send(mailing, self.alice | self.bob | self.carol, NOW - timedelta(days=1))
        with freeze_time(NOW):
            traces[:2].set_clicked()
        self.assertEqual(
            {(r.partner_id, r.ecrm_response, r.date) for r in self._responses()},
            {(self.alice, "click", NOW), (self.bob, "click", NOW)},
        )

    def test_unsubscribe_is_folded_once(self):
        mailing = self._mailing()
        trace = self._send(mailing, self.carol, NOW - timedelta(days=1))
        with freeze_time(NOW):
            self.Trace.set_ecrm_unsubscribed(domain=[("id", "=", trace.id)])
        with freeze_time(NOW + timedelta(hours=1)):
            trace.set_ecrm_unsubscribed()
        self.assertEqual(trace.ecrm_unsubscribed_datetime, NOW)
        self.assertEqual([(r.ecrm_response, r.date) for r in self._responses(self.carol)], [("unsubscribe", NOW)])

    def test_address_of_an_unknown_customer_is_skipped(self):
        mailing = self._mailing()
        trace = self._send(mailing, self.alice, NOW - timedelta(days=1), open_datetime=NOW)
        trace.email = "nobody@example.com"
        self.assertEqual(trace._ecrm_fold_responses(), 0)


@tagged("post_install", "-at_install")
class TestResponseFigures(ResponseCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # Five mailings a week apart (N = 4 counted, K = 3 for unresponsive).
        cls.mailings = [cls._mailing(f"Week {week}") for week in range(5)]
        for week, mailing in enumerate(cls.mailings):
            sent = NOW - timedelta(days=7 * (5 - week))
            # Alice opens the first, third and fifth mailings.
            cls._send(mailing, cls.alice, sent, open_datetime=sent + timedelta(hours=2) if week % 2 == 0 else False)
            # Bob clicked the first two, then went silent.
            cls._send(mailing, cls.bob, sent, links_click_datetime=sent + timedelta(hours=1) if week < 2 else False)
        # Carol got two mailings, unanswered: too few sends to judge.
        for mailing in cls.mailings[-2:]:
            cls._send(mailing, cls.carol, NOW - timedelta(days=3))
        with freeze_time(NOW):
            cls.Trace._cron_ecrm_fold_responses()

    def test_rate_over_last_sends_and_last_response(self):
        with freeze_time(NOW):
            score = self._score(self.alice)
            # last four sends: weeks 1..4, answered 2 and 4
            self.assertEqual((score.sends, score.responses, score.response_rate), (4, 2, 50.0))
            self.assertEqual(score.last_response_date, NOW - timedelta(days=7) + timedelta(hours=2))
            self.assertFalse(score.unresponsive)
            self.assertEqual(self.alice.ecrm_email_response_rate, 50.0)
            self.assertFalse(self.alice.ecrm_sms_response_rate)

    def test_unresponsive_after_k_unanswered_sends(self):
        with freeze_time(NOW):
            self.assertTrue(self._score(self.bob).unresponsive)
            self.assertEqual(self._score(self.bob).response_rate, 25.0)
            self.assertFalse(self._score(self.carol).unresponsive)
            self.assertEqual(self._score(self.carol).response_rate, 0.0)
            self.assertTrue(self.bob.ecrm_email_unresponsive)
            partners = self.env["res.partner"].search(
                [("ecrm_email_unresponsive", "=", True), ("id", "in", (self.alice | self.bob | self.carol).ids)]
            )
            self.assertEqual(partners, self.bob)
            not_flagged = self.env["res.partner"].search(
                [("ecrm_email_unresponsive", "=", False), ("id", "in", (self.alice | self.bob | self.carol).ids)]
            )
            self.assertEqual(not_flagged, self.alice | self.carol)

    def test_new_answer_clears_unresponsive(self):
        bob_last = self.Trace.search([("mass_mailing_id", "=", self.mailings[-1].id), ("res_id", "=", self.bob.id)])
        with freeze_time(NOW):
            bob_last.set_opened()
            self.assertFalse(self._score(self.bob).unresponsive)
            self.assertEqual(self._score(self.bob).last_response_date, NOW)

    def test_sends_leaving_the_window_leave_the_figures(self):
        with freeze_time(NOW + timedelta(days=200)):
            self.Score._cron_ecrm_refresh()
            score = self._score(self.bob)
            self.assertEqual((score.sends, score.unresponsive), (0, False))
            self.assertFalse(score.response_rate)
            self.assertTrue(score.last_response_date, "the last answer is kept")

    def test_settings_change_the_counts(self):
        self.company.ecrm_unresponsive_sends = 4
        with freeze_time(NOW):
            self.Score._ecrm_refresh()
            self.assertFalse(self._score(self.bob).unresponsive)

    def test_settings_must_be_positive(self):
        with self.assertRaises(ValidationError):
            self.company.ecrm_unresponsive_sends = 0

    def test_rfm_analysis_carries_the_figures(self):
        rfm = self.env["ecrm.rfm.score"].create(
            [{"partner_id": partner.id, "company_id": self.company.id} for partner in (self.alice, self.bob)]
        )
        with freeze_time(NOW):
            self.Score._ecrm_refresh()
        self.assertEqual(rfm.mapped("email_response_rate"), [50.0, 25.0])
        self.assertEqual(rfm.mapped("email_unresponsive"), [False, True])
        groups = self.env["ecrm.rfm.score"]._read_group(
            [("id", "in", rfm.ids)], ["email_unresponsive"], ["email_response_rate:avg"]
        )
        self.assertEqual(sorted(groups), [(False, 50.0), (True, 25.0)])

    def test_unresponsive_only_rule_caps_only_unresponsive_customers(self):
        rule = self.env["ecrm.pressure.rule"].create(
            {"name": "Silent ones", "channel": "email", "max_count": 1, "period_days": 30, "unresponsive_only": True}
        )
        partners = self.alice | self.bob | self.carol
        with freeze_time(NOW):
            verdicts = self.env["ecrm.pressure.rule"]._ecrm_check(
                self.company, "email", "marketing", partner_ids=partners.ids, now=NOW
            )
        self.assertEqual({pid for pid, verdict in verdicts.items() if verdict.rule_id}, {self.bob.id})
        self.assertEqual(verdicts[self.bob.id].rule_id, rule.id)
        # on SMS nobody is unresponsive: the rule does not apply
        rule.channel = "all"
        with freeze_time(NOW):
            verdicts = self.env["ecrm.pressure.rule"]._ecrm_check(
                self.company, "sms", "marketing", partner_ids=partners.ids, now=NOW
            )
        self.assertFalse([pid for pid, verdict in verdicts.items() if verdict.rule_id])

    def test_unresponsive_only_rule_next_to_an_all_channels_rule(self):
        # sales messages have no personal limit: the last rule of the check is
        # the all-channels one, and the audience stays the message's channel
        Rule = self.env["ecrm.pressure.rule"]
        rule = Rule.create(
            {
                "name": "Silent ones",
                "category": "sales",
                "channel": "email",
                "max_count": 1,
                "period_days": 30,
                "unresponsive_only": True,
            }
        )
        Rule.create({"name": "Generous", "category": "sales", "channel": "all", "max_count": 100, "period_days": 30})
        self.env["ecrm.interaction"].create(
            {
                "name": "Offer",
                "partner_id": self.bob.id,
                "channel": "email",
                "direction": "outbound",
                "category": "sales",
                "date": NOW - timedelta(days=1),
                "company_id": self.company.id,
            }
        )
        with freeze_time(NOW):
            verdicts = Rule._ecrm_check(self.company, "email", "sales", partner_ids=[self.bob.id], now=NOW)
        self.assertEqual(verdicts[self.bob.id].rule_id, rule.id)

    def test_unresponsive_only_rule_in_mailing_send_simulation_and_override(self):
        rule = self.env["ecrm.pressure.rule"].create(
            {"name": "Silent ones", "channel": "email", "max_count": 1, "period_days": 30, "unresponsive_only": True}
        )
        partners = self.alice | self.bob
        with freeze_time(NOW):
            mailing = self._mailing("Last chance")
            mailing.mailing_domain = repr([("id", "in", partners.ids)])
            checked, per_rule = mailing._ecrm_pressure_simulate()
            self.assertEqual((checked, per_rule), (2, {rule.id: (1, 0)}))
            mailing.action_send_mail()
            traces = self.Trace.search([("mass_mailing_id", "=", mailing.id)])
            bob_trace = traces.filtered(lambda t: t.res_id == self.bob.id)
            self.assertEqual((bob_trace.failure_type, bob_trace.ecrm_pressure_rule_id), ("ecrm_pressure", rule))
            self.assertNotEqual(traces.filtered(lambda t: t.res_id == self.alice.id).trace_status, "cancel")
            forced = self._mailing("Forced")
            forced.write({"mailing_domain": repr([("id", "=", self.bob.id)]), "ecrm_ignore_pressure": True})
            forced.action_send_mail()
            forced_trace = self.Trace.search([("mass_mailing_id", "=", forced.id)])
            self.assertNotEqual(forced_trace.failure_type, "ecrm_pressure")


@tagged("post_install", "-at_install")
class TestResponseReport(ResponseCase):
    def test_revenue_and_response_rate_per_mailing_and_segment(self):
        champions = self.env.ref("ecrm_addon.ecrm_rfm_segment_champions")
        self.env["ecrm.rfm.score"].create(
            {"partner_id": self.alice.id, "company_id": self.company.id, "segment_id": champions.id}
        )
        mailing = self._mailing()
        self._send(mailing, self.alice, NOW - timedelta(days=2), open_datetime=NOW - timedelta(days=1))
        self._send(mailing, self.bob, NOW - timedelta(days=2))
        self.Trace._cron_ecrm_fold_responses()
        product = self.env["product.product"].create({"name": "Tea", "list_price": 30.0})
        orders = self.env["sale.order"].create(
            [
                {
                    "partner_id": partner.id,
                    "source_id": mailing.source_id.id,
                    "date_order": NOW - timedelta(days=1),
                    "order_line": [(0, 0, {"product_id": product.id, "product_uom_qty": qty, "price_unit": 30.0})],
                }
                for partner, qty in ((self.alice, 2), (self.carol, 1))
            ]
        )
        orders.action_confirm()
        orders.date_order = NOW - timedelta(days=1)
        Report = self.env["ecrm.response.report"]
        with freeze_time(NOW):
            per_mailing = Report._read_group(
                [("mailing_id", "=", mailing.id)],
                [],
                ["sent:sum", "response_rate:avg", "order_count:sum", "revenue:sum"],
            )
            self.assertEqual(per_mailing, [(2, 50.0, 2, 90.0)])
            per_segment = Report._read_group(
                [("mailing_id", "=", mailing.id)], ["segment_id"], ["response_rate:avg", "revenue:sum"]
            )
            no_segment = self.env["ecrm.rfm.segment"]
            self.assertEqual(
                sorted(per_segment, key=lambda row: row[0].id), [(no_segment, 0.0, 30.0), (champions, 100.0, 60.0)]
            )

    def test_report_needs_ecrm_rights(self):
        plain = new_test_user(self.env, login="ecrm_resp_plain", groups="base.group_user")
        with self.assertRaises(AccessError):
            self.env["ecrm.response.report"].with_user(plain).search([])
        with self.assertRaises(AccessError):
            self.env["ecrm.response.score"].with_user(plain).search([])
