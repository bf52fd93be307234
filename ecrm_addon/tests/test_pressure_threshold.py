# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import importlib.util
from collections import Counter
from datetime import timedelta
from pathlib import Path

from freezegun import freeze_time
from psycopg2 import IntegrityError

from odoo.addons.ecrm_addon.tools.pressure import pressure_capacity
from odoo.exceptions import AccessError, ValidationError
from odoo.tests import TransactionCase, new_test_user, tagged
from odoo.tools import mute_logger

from .test_pressure_engine import NOW, PressureCase
from .test_pressure_mailing import PressureMailingCase


class ThresholdCase(PressureCase):
    """Emails weigh 1, a half-life is 10 days: touches of now weigh exactly 1,
    touches of 10 days ago exactly 0.5 (the edges are exact in floating point)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company.ecrm_pressure_half_life_days = 10
        Weight = cls.env["ecrm.pressure.weight"]
        Weight.search([("company_id", "=", cls.company.id)]).unlink()
        Weight.create(
            [
                {"company_id": cls.company.id, "channel": "email", "weight": 1.0},
                {"company_id": cls.company.id, "channel": "sms", "weight": 2.0},
            ]
        )

    def _touches(self, partner, count, date=NOW, channel="email"):
        for _i in range(count):
            self._touch(partner, date, channel=channel)

    def _check(self, partners, channel="email", now=NOW):
        return self.Rule._ecrm_check(self.company, channel, "marketing", partner_ids=partners.ids, now=now)


@tagged("post_install", "-at_install")
class TestPressureThreshold(ThresholdCase):
    def test_reaching_the_threshold_exactly_is_allowed(self):
        self.Rule.create({"name": "Cap 3", "max_count": 0, "max_pressure": 3.0})
        self._touches(self.alice, 2)  # pressure 2 + this message 1 = 3: at the cap, not past it
        verdict = self._check(self.alice)[self.alice.id]
        self.assertFalse(verdict.rule_id)
        self.assertEqual(verdict.limits[self.alice.id][0], 1, "exactly one more message")

    def test_passing_the_threshold_is_blocked(self):
        rule = self.Rule.create({"name": "Cap 3", "max_count": 0, "max_pressure": 3.0})
        self._touches(self.alice, 3)  # 3 + 1 = 4 > 3
        self._touches(self.bob, 2)
        self._touch(self.bob, NOW - timedelta(days=10))  # 2.5 + 1 = 3.5 > 3
        self._touches(self.carol, 1)
        self._touch(self.carol, NOW - timedelta(days=20))  # 1.25 + 1 = 2.25 <= 3
        self.assertEqual(
            self._blocked(self.alice | self.bob | self.carol), {self.alice.id: rule.id, self.bob.id: rule.id}
        )

    def test_message_weight_is_the_channel_weight(self):
        rule = self.Rule.create({"name": "Cap 3 SMS", "channel": "sms", "max_count": 0, "max_pressure": 3.0})
        self._touches(self.alice, 1)  # an email: 1 + an SMS of 2 = 3, allowed
        self._touches(self.bob, 1, date=NOW - timedelta(days=10), channel="sms")  # 1 + 2 = 3, allowed
        self._touches(self.carol, 2)  # 2 + 2 = 4, blocked
        self.assertEqual(self._blocked(self.alice | self.bob | self.carol, channel="sms"), {self.carol.id: rule.id})

    def test_blocked_until_the_pressure_has_decayed_for_one_more(self):
        self.Rule.create({"name": "Cap 3", "max_count": 0, "max_pressure": 3.0})
        self._touches(self.alice, 4)  # 4 must halve to 2 (+1 = 3): one half-life
        verdict = self._check(self.alice)[self.alice.id]
        self.assertAlmostEqual((verdict.blocked_until - (NOW + timedelta(days=10))).total_seconds(), 0, delta=1)
        self.assertTrue(self._blocked(self.alice, now=NOW + timedelta(days=10, minutes=-1)))
        self.assertFalse(self._blocked(self.alice, now=NOW + timedelta(days=10, minutes=1)))

    def test_capacity_is_what_keeps_the_pressure_at_the_cap(self):
        self.Rule.create({"name": "Cap 3", "max_count": 0, "max_pressure": 3.0})
        self._touches(self.alice, 1)
        capacity, until, _sequence, _rule = self._check(self.alice)[self.alice.id].limits[self.alice.id]
        self.assertEqual(capacity, 2)
        # after those two, 3 must decay to 2: log2(3 / 2) half-lives
        self.assertAlmostEqual(
            (until - NOW).total_seconds(), 10 * 86400 * 0.5849625007211562, delta=1, msg="10 d x log2(1.5)"
        )

    def test_pressure_counts_every_outbound_touch_like_the_profile(self):
        self.Rule.create({"name": "Cap 3", "max_count": 0, "max_pressure": 3.0})
        self._touch(self.alice, NOW, category="transactional")
        self._touch(self.alice, NOW, channel="sms")  # 2
        self._touch(self.alice, NOW, direction="inbound")  # inbound: no pressure
        with freeze_time(NOW):
            self.alice.invalidate_recordset(["ecrm_pressure"])
            self.assertEqual(self.alice.ecrm_pressure, 3.0)
        self.assertTrue(self._blocked(self.alice), "3 + 1 > 3")

    def test_count_and_pressure_on_one_rule_the_tighter_wins(self):
        rule = self.Rule.create({"name": "2 per month, cap 10", "max_count": 2, "max_pressure": 10.0})
        self._touches(self.alice, 2)
        self.assertEqual(self._blocked(self.alice), {self.alice.id: rule.id}, "the count blocks")
        rule.max_count = 20
        capacity = self._check(self.alice)[self.alice.id].limits[self.alice.id][0]
        self.assertEqual(capacity, 8, "the cap leaves 8")

    def test_a_message_heavier_than_the_cap_never_frees(self):
        self.Rule.create({"name": "Cap 1.5 SMS", "channel": "sms", "max_count": 0, "max_pressure": 1.5})
        verdict = self._check(self.alice, channel="sms")[self.alice.id]
        self.assertEqual(verdict.blocked_until.year, 9999)

    def test_engine_matches_the_reference(self):
        self.Rule.create({"name": "Cap 3.7", "max_count": 0, "max_pressure": 3.7})
        for partner, ages in ((self.alice, (0, 3, 17)), (self.bob, (1, 1, 2, 40)), (self.carol, (5,))):
            for age in ages:
                self._touch(partner, NOW - timedelta(days=age, hours=5))
        customers = self.alice | self.bob | self.carol
        verdicts = self._check(customers)
        # the profile's own statement, unrounded (the field shows two decimals)
        self.env.flush_all()
        self.env.cr.execute(self.env["res.partner"]._ecrm_pressure_sql(self.company, customers.ids, now=NOW))
        pressures = dict(self.env.cr.fetchall())
        for partner in customers:
            capacity, days = pressure_capacity(pressures[partner.id], 3.7, 1.0, 10)
            got, until, _sequence, _rule = verdicts[partner.id].limits[partner.id]
            self.assertEqual(got, capacity, partner.name)
            self.assertAlmostEqual((until - NOW).total_seconds(), days * 86400, delta=1, msg=partner.name)

    def test_pressure_rule_needs_a_cap_without_count(self):
        with self.assertRaisesRegex(ValidationError, "at least 1"):
            self.Rule.create({"name": "Nothing", "max_count": 0, "max_pressure": 0.0})
        with self.assertRaisesRegex(ValidationError, "cannot be negative"):
            self.Rule.create({"name": "Negative", "max_pressure": -1.0})

    def test_count_rules_alone_still_one_query(self):
        self.Rule.create({"name": "Cap", "max_count": 0, "max_pressure": 3.0})
        partners = self.env["res.partner"].create([{"name": f"T {i}", "email": f"t{i}@example.com"} for i in range(20)])
        for partner in partners[:5]:
            self._touches(partner, 3)
        self.env["ecrm.pressure.weight"]._ecrm_weights(self.company)
        self.env.flush_all()
        # the rules' search, then the verdicts (one statement; the weights are cached)
        with self.assertQueryCount(2):
            result = self.Rule._ecrm_check(
                self.company, "email", "marketing", keys=partners.mapped("email_normalized"), now=NOW
            )
        self.assertEqual(sum(1 for v in result.values() if v.rule_id), 5)


@tagged("post_install", "-at_install")
class TestPressureThresholdMailing(PressureMailingCase):
    """A pressure cap in a mailing: the same trace, simulation, deferral and override as count rules."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.email_rule.active = cls.sms_rule.active = False
        cls.company.ecrm_pressure_half_life_days = 10
        cls.env["ecrm.pressure.weight"].search(
            [("company_id", "=", cls.company.id), ("channel", "=", "email")]
        ).weight = 1.0
        cls.cap = cls.Rule.create({"name": "Cap 2", "max_count": 0, "max_pressure": 2.0})
        # Alice: one email and one SMS an hour ago, about 1 + 1: a new email passes the cap
        cls._touch(cls.bob, cls.now - timedelta(hours=1))  # Bob: about 1 + 1 <= 2, allowed

    def test_capped_recipient_gets_cancelled_trace_naming_the_rule(self):
        mailing = self._partner_mailing(self.alice | self.bob)
        mailing.action_send_mail()
        traces = self._traces(mailing)
        alice = traces.filtered(lambda t: t.res_id == self.alice.id)
        self.assertEqual((alice.trace_status, alice.ecrm_pressure_rule_id), ("cancel", self.cap))
        self.assertIn(self.cap.name, alice.failure_reason)
        self.assertNotEqual(traces.filtered(lambda t: t.res_id == self.bob.id).trace_status, "cancel")

    def test_simulation_equals_sending(self):
        mailing = self._partner_mailing(self.alice | self.bob | self.carol)
        action = mailing.action_ecrm_pressure_simulate()
        simulation = self.env["ecrm.pressure.simulation"].browse(action["res_id"])
        expected = {line.rule_id: line.excluded_count for line in simulation.line_ids}
        self.assertEqual(expected, {self.cap: 1})
        mailing.action_send_mail()
        sent = Counter(
            self._traces(mailing).filtered(lambda t: t.failure_type == "ecrm_pressure").mapped("ecrm_pressure_rule_id")
        )
        self.assertEqual(dict(sent), expected)

    def test_capped_recipient_is_deferred_until_the_pressure_decays(self):
        mailing = self._partner_mailing(
            self.alice, ecrm_pressure_defer=True, ecrm_pressure_defer_until=self.now + timedelta(days=20)
        )
        mailing.action_send_mail()
        deferral = mailing.ecrm_pressure_deferral_ids
        self.assertEqual((deferral.state, deferral.rule_id), ("waiting", self.cap))
        # about 2 must halve to 1: one half-life after the touches
        self.assertAlmostEqual((deferral.until - self.now).total_seconds(), 10 * 86400 - 3600, delta=120)
        with freeze_time(deferral.until + timedelta(seconds=1)):
            self.env["ecrm.pressure.deferral"]._cron_ecrm_retry_deferred()
        self.assertEqual(deferral.state, "done")
        self.assertFalse(self._traces(mailing).failure_type)

    def test_override_sends_past_the_cap(self):
        mailing = self._partner_mailing(self.alice, ecrm_ignore_pressure=True)
        mailing.action_send_mail()
        self.assertNotEqual(self._traces(mailing).trace_status, "cancel")


@tagged("post_install", "-at_install")
class TestPressureWeights(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Weight = cls.env["ecrm.pressure.weight"]
        cls.customer = cls.env["res.partner"].create({"name": "Weighed", "email": "weighed@example.com"})

    def test_every_company_starts_with_the_shipped_weights(self):
        weights = {row.channel: row.weight for row in self.Weight.search([("company_id", "=", self.env.company.id)])}
        self.assertEqual((weights["meeting"], weights["phone"], weights["email"]), (5.0, 3.0, 1.0))

    def test_log_takes_the_weight_of_the_touch_company(self):
        other = self.env["res.company"].create({"name": "Heavy Calls Co"})
        self.Weight.create({"company_id": other.id, "channel": "phone", "weight": 9.0})
        rows = self.env["ecrm.interaction"]._log(
            [
                {"partner_id": self.customer.id, "name": "Here", "channel": "phone"},
                {"partner_id": self.customer.id, "name": "There", "channel": "phone", "company_id": other.id},
                {"partner_id": self.customer.id, "name": "There", "channel": "chat", "company_id": other.id},
            ]
        )
        self.assertEqual(rows.mapped("weight"), [3.0, 9.0, 2.0], "a channel without a row weighs the default")

    def test_weights_are_read_once_and_again_after_a_change(self):
        Interaction = self.env["ecrm.interaction"]
        self.assertEqual(Interaction._channel_weights()["phone"], 3.0)
        with self.assertQueryCount(0):
            Interaction._channel_weights()
        row = self.Weight.search([("channel", "=", "phone"), ("company_id", "=", self.env.company.id)])
        row.weight = 4.0
        self.assertEqual(Interaction._channel_weights()["phone"], 4.0)
        row.unlink()
        self.assertEqual(Interaction._channel_weights()["phone"], 3.0, "the shipped default again")
        self.Weight.create({"channel": "phone", "weight": 6.0})
        self.assertEqual(Interaction._channel_weights()["phone"], 6.0)

    def test_one_weight_per_company_and_channel(self):
        with self.assertRaises(IntegrityError), mute_logger("odoo.sql_db"), self.cr.savepoint():
            self.Weight.create({"channel": "email", "weight": 2.0})
            self.env.flush_all()
        with self.assertRaisesRegex(ValidationError, "negative"):
            self.Weight.search([("channel", "=", "sms"), ("company_id", "=", self.env.company.id)]).weight = -1

    def test_users_read_managers_write(self):
        user = new_test_user(self.env, login="ecrm_w_user", groups="ecrm_addon.group_ecrm_user")
        manager = new_test_user(self.env, login="ecrm_w_manager", groups="ecrm_addon.group_ecrm_manager")
        admin = new_test_user(self.env, login="ecrm_w_admin", groups="base.group_user,base.group_system")
        row = self.Weight.search([("channel", "=", "sms"), ("company_id", "=", self.env.company.id)])
        self.assertEqual(row.with_user(user).weight, 1.0)
        with self.assertRaises(AccessError):
            row.with_user(user).weight = 4.0
        row.with_user(manager).weight = 4.0
        row.with_user(admin).weight = 5.0
        self.assertEqual(self.env["ecrm.interaction"]._channel_weights()["sms"], 5.0)

    def test_other_company_weights_are_invisible(self):
        other = self.env["res.company"].create({"name": "Secret Weights Co"})
        row = self.Weight.create({"company_id": other.id, "channel": "letter", "weight": 4.0})
        user = new_test_user(self.env, login="ecrm_w_user2", groups="ecrm_addon.group_ecrm_manager")
        self.assertFalse(self.Weight.with_user(user).search([("id", "=", row.id)]))
        with self.assertRaises(AccessError):
            row.with_user(user).weight = 1.0


@tagged("post_install", "-at_install")
class TestPressureWeightMigration(TransactionCase):
    """``migrations/18.0.1.2.0/post-pressure-weights.py`` on a database of 18.0.1.1.0."""

    def _migrate(self):
        path = Path(__file__).parents[1] / "migrations" / "18.0.1.2.0" / "post-pressure-weights.py"
        spec = importlib.util.spec_from_file_location("ecrm_migration_pressure_weights", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        module.migrate(self.env.cr, "18.0.1.1.0")

    def test_parameters_become_rows_per_company(self):
        second = self.env["res.company"].create({"name": "Second Weights Co"})
        Weight = self.env["ecrm.pressure.weight"]
        Weight.search([]).unlink()  # as 18.0.1.1.0 left it: no table rows, parameters
        params = self.env["ir.config_parameter"].sudo()
        params.set_param("ecrm_addon.weight.phone", "7.5")
        params.set_param("ecrm_addon.weight.email", "not a number")
        self._migrate()
        for company in self.env.company | second:
            weights = {row.channel: row.weight for row in Weight.search([("company_id", "=", company.id)])}
            self.assertEqual((weights["phone"], weights["email"], weights["meeting"]), (7.5, 1.0, 5.0))
        self.assertFalse(params.get_param("ecrm_addon.weight.phone"), "the parameter is gone")
        Weight.search([("channel", "=", "phone"), ("company_id", "=", second.id)]).weight = 2.0
        self._migrate()  # twice: the edited row stays
        self.assertEqual(Weight.search([("channel", "=", "phone"), ("company_id", "=", second.id)]).weight, 2.0)
        self.assertEqual(Weight.search_count([("company_id", "=", second.id)]), 10)
