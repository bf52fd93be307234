# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from collections import Counter
from datetime import timedelta

from freezegun import freeze_time

from odoo.addons.ecrm_addon.tools.pressure import allocate, rule_capacity
from odoo.exceptions import AccessError
from odoo.tests import new_test_user, tagged

from .test_pressure_engine import NOW
from .test_pressure_mailing import PressureMailingCase


class PressureBatchCase(PressureMailingCase):
    """A shop (one customer) with three contacts: three addresses, one customer."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        (cls.email_rule | cls.sms_rule).active = False
        cls.shop = cls.env["res.partner"].create({"name": "Batch Shop", "is_company": True})
        cls.buyers = cls.env["res.partner"].create(
            [
                {
                    "name": f"Buyer {i}",
                    "parent_id": cls.shop.id,
                    "email": f"buyer{i}@batchshop.example",
                    "mobile": f"+32 470 55 66 7{i}",
                }
                for i in range(3)
            ]
        )

    def _pressure_traces(self, mailing):
        return self._traces(mailing).filtered(lambda t: t.failure_type == "ecrm_pressure")

    def _sent_traces(self, mailing):
        return self._traces(mailing).filtered(lambda t: t.trace_status != "cancel")


@tagged("post_install", "-at_install")
class TestPressureWithinBatch(PressureBatchCase):
    def test_email_batch_sends_only_what_max_count_leaves(self):
        rule = self.Rule.create({"name": "Two a month", "max_count": 2, "period_days": 30})
        self._touch(self.shop, self.now - timedelta(days=3))
        mailing = self._partner_mailing(self.buyers)
        mailing.action_send_mail()
        self.assertEqual(len(self._sent_traces(mailing)), 1, "2 allowed, 1 already sent: one more")
        self.assertEqual(self._sent_traces(mailing).res_id, self.buyers[0].id, "the first in sending order")
        refused = self._pressure_traces(mailing)
        self.assertEqual(len(refused), 2)
        self.assertEqual(refused.ecrm_pressure_rule_id, rule)
        self.assertEqual(len(self._logged(mailing)), 1, "the shop is logged once")

    def test_email_batch_sends_one_under_a_minimum_gap(self):
        self.Rule.create({"name": "Gap", "max_count": 10, "period_days": 30, "min_interval_hours": 24})
        mailing = self._partner_mailing(self.buyers)
        mailing.action_send_mail()
        self.assertEqual(len(self._sent_traces(mailing)), 1)
        self.assertEqual(len(self._pressure_traces(mailing)), 2)

    def test_email_batch_with_room_sends_all(self):
        self.Rule.create({"name": "Four", "max_count": 4, "period_days": 30})
        self._touch(self.shop, self.now - timedelta(days=3))
        mailing = self._partner_mailing(self.buyers)
        mailing.action_send_mail()
        self.assertEqual(len(self._sent_traces(mailing)), 3, "exactly max_count with the one already sent")
        self.assertFalse(self._pressure_traces(mailing))

    def test_sms_batch_sends_only_what_max_count_leaves(self):
        rule = self.Rule.create({"name": "SMS two", "channel": "sms", "max_count": 2, "period_days": 30})
        self._touch(self.shop, self.now - timedelta(days=3), channel="sms")
        mailing = self._partner_mailing(self.buyers, mailing_type="sms", body_plaintext="Sale!")
        mailing.action_send_sms()
        self.assertEqual(len(self._sent_traces(mailing)), 1)
        refused = self._pressure_traces(mailing)
        self.assertEqual((len(refused), refused.ecrm_pressure_rule_id), (2, rule))

    def test_batches_of_one_mailing_count_each_other(self):
        self.Rule.create({"name": "Two a month", "max_count": 2, "period_days": 30})
        self._touch(self.shop, self.now - timedelta(days=3))
        self.env["ir.config_parameter"].sudo().set_param("mail.batch_size", "1")
        mailing = self._partner_mailing(self.buyers)
        mailing.action_send_mail()
        self.assertEqual(len(self._sent_traces(mailing)), 1)
        self.assertEqual(len(self._pressure_traces(mailing)), 2)

    def test_mailing_list_contacts_of_one_customer_share_its_limit(self):
        self.Rule.create({"name": "Two a month", "max_count": 2, "period_days": 30})
        self._touch(self.shop, self.now - timedelta(days=3))
        mailing_list = self.env["mailing.list"].create({"name": "Shop buyers"})
        self.env["mailing.contact"].create(
            [{"name": buyer.name, "email": buyer.email, "list_ids": [(4, mailing_list.id)]} for buyer in self.buyers]
        )
        mailing = self.env["mailing.mailing"].create(
            {
                "subject": "News",
                "body_html": "<p>News</p>",
                "mailing_model_id": self.env["ir.model"]._get_id("mailing.list"),
                "contact_list_ids": [(4, mailing_list.id)],
            }
        )
        mailing.action_send_mail()
        self.assertEqual((len(self._sent_traces(mailing)), len(self._pressure_traces(mailing))), (1, 2))

    def test_batch_overflow_is_deferred_when_mailing_defers(self):
        self.Rule.create({"name": "Gap", "max_count": 10, "period_days": 30, "min_interval_hours": 24})
        mailing = self._partner_mailing(
            self.buyers, ecrm_pressure_defer=True, ecrm_pressure_defer_until=self.now + timedelta(days=3)
        )
        mailing.action_send_mail()
        self.assertEqual(len(self._traces(mailing)), 1, "one sent, the others wait without a trace")
        self.assertEqual(len(mailing.ecrm_pressure_deferral_ids), 2)
        # their window frees one at a time: each cron run sends one more
        deferrals = mailing.ecrm_pressure_deferral_ids
        with freeze_time(max(deferrals.mapped("until")) + timedelta(seconds=1)):
            self.env["ecrm.pressure.deferral"]._cron_ecrm_retry_deferred()
        self.assertEqual(len(self._sent_traces(mailing)), 2)
        self.assertEqual(sorted(deferrals.mapped("state")), ["done", "waiting"])

    def test_filter_verdicts_match_reference_on_every_record(self):
        rule = self.Rule.create({"name": "Two a month", "max_count": 2, "period_days": 30})
        self._touch(self.alice, self.now - timedelta(hours=2))  # Alice: full
        self._touch(self.shop, self.now - timedelta(days=3))  # the shop: one more
        alice, bob, carol = (p.email_normalized for p in (self.alice, self.bob, self.carol))
        buyers = self.buyers.mapped("email_normalized")
        keys_by_res_id = {
            1: [alice],
            2: [buyers[0]],
            3: [bob],
            4: [buyers[1]],
            5: ["nobody@nowhere.example"],
            6: [bob, buyers[2]],
            7: [bob],
            8: [bob],
            9: [carol],
        }
        mailing = self._partner_mailing(self.alice)
        blocked, partners = mailing._ecrm_pressure_filter(keys_by_res_id, now=self.now)
        self.assertEqual(sorted(blocked), [1, 4, 6, 8], "Alice full, the shop once, Bob twice")
        self.assertEqual(set(blocked[6].partner_ids), {self.bob.id, self.shop.id})
        self.assertEqual({verdict.rule_id for verdict in blocked.values()}, {rule.id})
        self.assertEqual(
            {res_id: list(pids) for res_id, pids in partners.items()},
            {
                1: self.alice.ids,
                2: self.shop.ids,
                3: self.bob.ids,
                4: self.shop.ids,
                6: sorted((self.bob | self.shop).ids),
                7: self.bob.ids,
                8: self.bob.ids,
                9: self.carol.ids,
            },
        )
        # the reference: one Verdict per key, every record through allocate
        keys = [*buyers, alice, bob, carol]
        verdicts = self.Rule._ecrm_check(self.company, "email", "marketing", keys=keys, now=self.now)
        records, limits = [], {}
        for res_id, record_keys in keys_by_res_id.items():
            found = sorted({pid for key in record_keys if key in verdicts for pid in verdicts[key].partner_ids})
            if found:
                records.append((res_id, found))
            for key in record_keys:
                if key in verdicts:
                    limits.update(verdicts[key].limits)
        expected = allocate(records, limits)
        self.assertEqual(
            {res_id: (verdict.blocked_until, verdict.rule_id) for res_id, verdict in blocked.items()},
            {res_id: (until, rule_id) for res_id, (until, _sequence, rule_id) in expected.items()},
        )
        self.assertEqual(verdicts[alice].rule_id, rule.id, "a key of a full customer names the rule")
        self.assertFalse(verdicts[bob].rule_id)

    def test_engine_limits_match_reference(self):
        rules = self.Rule.create(
            [
                {"name": "Count", "max_count": 3, "period_days": 10},
                {"name": "Gap", "max_count": 2, "period_days": 20, "min_interval_hours": 30},
            ]
        )
        dates = [NOW - timedelta(days=9), NOW - timedelta(days=4)]
        for date in dates:
            self._touch(self.shop, date)
        for rule in rules:
            others = rules - rule
            others.active = False
            verdict = self.Rule._ecrm_check(self.company, "email", "marketing", partner_ids=self.shop.ids, now=NOW)
            capacity, until, _sequence, rule_id = verdict[self.shop.id].limits[self.shop.id]
            expected = rule_capacity(dates, NOW, rule.max_count, rule.period_days, rule.min_interval_hours)
            self.assertEqual((capacity, until, rule_id), (*expected, rule.id), rule.name)
            others.active = True


@tagged("post_install", "-at_install")
class TestPressureSimulationEqualsSending(PressureBatchCase):
    """Simulate, then send: per rule, the simulated figures are the cancelled traces."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.email_rule.active = cls.sms_rule.active = True
        cls.gap_rule = cls.Rule.create(
            {"name": "Gap 24h", "channel": "all", "max_count": 10, "period_days": 30, "min_interval_hours": 24}
        )
        cls.env["ir.config_parameter"].sudo().set_param("mail.batch_size", "2")
        cls.mailing_list = cls.env["mailing.list"].create({"name": "Mixed"})
        Contact = cls.env["mailing.contact"]
        rows = [
            ("Alice (pressured)", "alice.pressure@example.com", "+32 470 11 22 33"),
            ("Carol (free)", "carol.pressure@example.com", False),
            ("Stranger", "stranger@example.com", "+32 470 00 00 01"),
            ("Opted out", "optout@example.com", "+32 470 00 00 02"),
            ("Blacklisted", "blacklisted@example.com", "+32 470 00 00 03"),
            ("Stranger twin", "stranger@example.com", "+32 470 00 00 01"),
            ("Buyer 0", "buyer0@batchshop.example", "+32 470 55 66 70"),
            ("Buyer 1", "buyer1@batchshop.example", "+32 470 55 66 71"),
            ("Buyer 2", "buyer2@batchshop.example", "+32 470 55 66 72"),
            ("Alice twin", "alice.pressure@example.com", "+32 470 11 22 33"),
        ]
        cls.contacts = Contact.create(
            [
                {"name": name, "email": email, "mobile": mobile, "list_ids": [(4, cls.mailing_list.id)]}
                for name, email, mobile in rows
            ]
        )
        opted_out = cls.contacts.filtered(lambda c: c.name == "Opted out")
        cls.env["mailing.subscription"].search(
            [("contact_id", "=", opted_out.id), ("list_id", "=", cls.mailing_list.id)]
        ).opt_out = True
        cls.env["mail.blacklist"]._add("blacklisted@example.com")
        cls.env["phone.blacklist"].sudo().add("+32470000003")

    def _list_mailing(self, **values):
        return self.env["mailing.mailing"].create(
            {
                "subject": "Mixed news",
                "body_html": "<p>News</p>",
                "body_plaintext": "News",
                "mailing_model_id": self.env["ir.model"]._get_id("mailing.list"),
                "contact_list_ids": [(4, self.mailing_list.id)],
                **values,
            }
        )

    def _simulate(self, mailing):
        action = mailing.action_ecrm_pressure_simulate()
        simulation = self.env["ecrm.pressure.simulation"].browse(action["res_id"])
        return simulation, {line.rule_id: (line.excluded_count, line.deferred_count) for line in simulation.line_ids}

    def _sent_figures(self, mailing):
        excluded = Counter(trace.ecrm_pressure_rule_id for trace in self._pressure_traces(mailing))
        deferred = Counter(deferral.rule_id for deferral in mailing.ecrm_pressure_deferral_ids)
        return {rule: (excluded[rule], deferred[rule]) for rule in set(excluded) | set(deferred)}

    def test_email_list_simulation_equals_sending(self):
        mailing = self._list_mailing()
        simulation, simulated = self._simulate(mailing)
        self.assertFalse(mailing.ecrm_pressure_deferral_ids or self._traces(mailing), "nothing written")
        self.assertFalse(self._logged(mailing))
        mailing.action_send_mail()
        self.assertEqual(simulated, self._sent_figures(mailing))
        # Alice (pressured) and two of the shop's three buyers (24 h gap)
        self.assertEqual(simulation.excluded_count, 3)
        self.assertEqual(Counter(self._traces(mailing).mapped("failure_type"))["mail_dup"], 2, "Odoo's duplicates kept")

    def test_sms_list_simulation_equals_sending(self):
        mailing = self._list_mailing(mailing_type="sms")
        simulation, simulated = self._simulate(mailing)
        self.assertFalse(self._traces(mailing))
        mailing.action_send_sms()
        self.assertEqual(simulated, self._sent_figures(mailing))
        self.assertEqual(simulation.excluded_count, 3)
        self.assertTrue(self._traces(mailing).filtered(lambda t: t.failure_type == "sms_blacklist"))

    def test_deferring_mailing_simulation_equals_sending(self):
        # only the gaps block now: every blocked recipient frees before the limit date
        self.email_rule.max_count = 5
        mailing = self._list_mailing(ecrm_pressure_defer=True, ecrm_pressure_defer_until=self.now + timedelta(days=5))
        simulation, simulated = self._simulate(mailing)
        mailing.action_send_mail()
        self.assertEqual(simulated, self._sent_figures(mailing))
        # Alice and two of the shop's buyers (Alice's twin shares her batch: Odoo's duplicate)
        self.assertEqual((simulation.deferred_count, simulation.excluded_count), (3, 0))

    def test_simulation_after_a_partial_send_counts_the_remaining(self):
        mailing = self._list_mailing()
        mailing.action_send_mail(res_ids=self.contacts[:3].ids)
        _simulation, simulated = self._simulate(mailing)
        before = self._sent_figures(mailing)
        mailing.action_send_mail()
        after = self._sent_figures(mailing)
        delta = {
            rule: tuple(a - b for a, b in zip(after[rule], before.get(rule, (0, 0)), strict=True)) for rule in after
        }
        self.assertEqual(simulated, {rule: counts for rule, counts in delta.items() if any(counts)})


@tagged("post_install", "-at_install")
class TestPressureDeferralCompany(PressureMailingCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.email_rule.max_count = 2
        cls.other_company = cls.env["res.company"].create({"name": "Pressure Deferral Other Co"})
        cls.other_sender = new_test_user(
            cls.env,
            login="ecrm_pd_other_sender",
            groups="base.group_user,mass_mailing.group_mass_mailing_user",
            company_id=cls.other_company.id,
            company_ids=[(6, 0, cls.other_company.ids)],
        )
        cls.other_rule = cls.Rule.create(
            {
                "name": "Other gap",
                "channel": "email",
                "max_count": 5,
                "min_interval_hours": 48,
                "company_id": cls.other_company.id,
            }
        )
        cls._touch(cls.carol, cls.now - timedelta(hours=1), company=cls.other_company)

    def _defer_mailing(self, partners, **values):
        return self._partner_mailing(
            partners, ecrm_pressure_defer=True, ecrm_pressure_defer_until=self.now + timedelta(days=5), **values
        )

    def test_deferral_takes_the_mailing_company(self):
        mine = self._defer_mailing(self.alice)
        theirs = self._defer_mailing(self.carol, user_id=self.other_sender.id)
        (mine | theirs).action_send_mail()
        self.assertEqual(mine.ecrm_pressure_deferral_ids.company_id, self.company)
        self.assertEqual(theirs.ecrm_pressure_deferral_ids.company_id, self.other_company)
        self.assertEqual(theirs.ecrm_pressure_deferral_ids.rule_id, self.other_rule)

    def test_user_of_another_company_sees_no_deferral(self):
        mine = self._defer_mailing(self.alice)
        mine.action_send_mail()
        self.assertTrue(mine.ecrm_pressure_deferral_ids)
        Deferral = self.env["ecrm.pressure.deferral"]
        self.assertFalse(Deferral.with_user(self.other_sender).search([]))
        with self.assertRaises(AccessError):
            mine.ecrm_pressure_deferral_ids.with_user(self.other_sender).read(["until"])

    def test_cron_retries_each_company_in_its_company(self):
        mine = self._defer_mailing(self.alice)
        theirs = self._defer_mailing(self.carol, user_id=self.other_sender.id)
        (mine | theirs).action_send_mail()
        deferrals = (mine | theirs).ecrm_pressure_deferral_ids
        self.assertEqual(len(deferrals), 2)
        with freeze_time(max(deferrals.mapped("until")) + timedelta(seconds=1)):
            self.env["ecrm.pressure.deferral"]._cron_ecrm_retry_deferred()
        self.assertEqual(set(deferrals.mapped("state")), {"done"})
        self.assertEqual(self._traces(mine).res_id, self.alice.id)
        self.assertEqual(self._traces(theirs).res_id, self.carol.id)
        logged = self._logged(theirs)
        self.assertEqual((logged.partner_id, logged.company_id), (self.carol, self.other_company))
