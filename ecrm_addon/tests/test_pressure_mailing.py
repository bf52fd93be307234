# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from collections import Counter
from datetime import timedelta
from unittest.mock import patch

from freezegun import freeze_time

from odoo import fields
from odoo.addons.ecrm_addon.models.mailing_mailing import PressureSimulation, PressureSimulationDone
from odoo.exceptions import AccessError
from odoo.tests import Form, new_test_user, tagged

from .test_pressure_engine import PressureCase


class PressureMailingCase(PressureCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.now = fields.Datetime.now()
        cls.email_rule = cls.Rule.create(
            {"name": "Email 1/30d", "channel": "email", "max_count": 1, "period_days": 30, "min_interval_hours": 48}
        )
        cls.sms_rule = cls.Rule.create({"name": "SMS 1/30d", "channel": "sms", "max_count": 1, "period_days": 30})
        # Alice was mailed an hour ago; Bob and Carol were not.
        cls._touch(cls.alice, cls.now - timedelta(hours=1))
        cls._touch(cls.alice, cls.now - timedelta(hours=1), channel="sms")

    @classmethod
    def _partner_mailing(cls, partners, **values):
        return cls.env["mailing.mailing"].create(
            {
                "subject": "Spring sale",
                "body_html": "<p>Hello</p>",
                "mailing_model_id": cls.env["ir.model"]._get_id("res.partner"),
                "mailing_domain": repr([("id", "in", partners.ids)]),
                **values,
            }
        )

    def _traces(self, mailing):
        return self.env["mailing.trace"].search([("mass_mailing_id", "=", mailing.id)])

    def _logged(self, mailing):
        return self.env["ecrm.interaction"].search([("res_model", "=", "mailing.mailing"), ("res_id", "=", mailing.id)])


@tagged("post_install", "-at_install")
class TestPressureMailing(PressureMailingCase):
    def test_blocked_recipient_gets_cancelled_trace_naming_rule(self):
        mailing = self._partner_mailing(self.alice | self.bob)
        mailing.action_send_mail()
        traces = self._traces(mailing)
        alice_trace = traces.filtered(lambda t: t.res_id == self.alice.id)
        self.assertEqual(
            (alice_trace.trace_status, alice_trace.failure_type, alice_trace.ecrm_pressure_rule_id),
            ("cancel", "ecrm_pressure", self.email_rule),
        )
        self.assertIn(self.email_rule.name, alice_trace.failure_reason)
        bob_trace = traces.filtered(lambda t: t.res_id == self.bob.id)
        self.assertNotEqual(bob_trace.trace_status, "cancel")
        self.assertFalse(bob_trace.failure_type)
        self.assertEqual(mailing.ecrm_pressure_excluded_count, 1)

    def test_sent_recipients_are_logged_as_marketing_interactions(self):
        mailing = self._partner_mailing(self.alice | self.bob | self.carol)
        mailing.action_send_mail()
        logged = self._logged(mailing)
        self.assertEqual(logged.partner_id, self.bob | self.carol)
        self.assertEqual(set(logged.mapped("channel")), {"email"})
        self.assertEqual(set(logged.mapped("category")), {"marketing"})
        # the next mailing finds them within the gap
        second = self._partner_mailing(self.bob | self.carol)
        second.action_send_mail()
        self.assertEqual(set(self._traces(second).mapped("failure_type")), {"ecrm_pressure"})

    def test_opted_out_recipient_keeps_odoo_reason(self):
        self.env["mail.blacklist"]._add(self.alice.email)
        mailing = self._partner_mailing(self.alice)
        mailing.action_send_mail()
        self.assertEqual(self._traces(mailing).failure_type, "mail_bl")

    def test_override_sends_and_still_counts(self):
        mailing = self._partner_mailing(self.alice, ecrm_ignore_pressure=True)
        mailing.action_send_mail()
        self.assertNotEqual(self._traces(mailing).trace_status, "cancel")
        self.assertEqual(self._logged(mailing).partner_id, self.alice)

    def test_only_manager_sets_override(self):
        marketer = new_test_user(
            self.env, login="ecrm_mk_user", groups="base.group_user,mass_mailing.group_mass_mailing_user"
        )
        mailing = self._partner_mailing(self.bob).with_user(marketer)
        with self.assertRaises(AccessError):
            mailing.write({"ecrm_ignore_pressure": True})

    def test_marketing_user_without_ecrm_rights_sends_under_rules(self):
        marketer = new_test_user(
            self.env, login="ecrm_mk_user2", groups="base.group_user,mass_mailing.group_mass_mailing_user"
        )
        mailing = self._partner_mailing(self.alice | self.bob).with_user(marketer)
        mailing.action_send_mail()
        self.assertEqual(
            self._traces(mailing).filtered(lambda t: t.failure_type == "ecrm_pressure").res_id, self.alice.id
        )

    def test_mailing_list_contacts_known_or_not(self):
        mailing_list = self.env["mailing.list"].create({"name": "Newsletter"})
        contacts = self.env["mailing.contact"].create(
            [
                {"name": "Alice", "email": "ALICE.pressure@example.com", "list_ids": [(4, mailing_list.id)]},
                {"name": "Carol", "email": "carol.pressure@example.com", "list_ids": [(4, mailing_list.id)]},
                {"name": "Stranger", "email": "stranger@example.com", "list_ids": [(4, mailing_list.id)]},
            ]
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
        traces = self._traces(mailing)
        self.assertEqual(len(traces), 3)
        blocked = traces.filtered(lambda t: t.failure_type == "ecrm_pressure")
        self.assertEqual(blocked.res_id, contacts[0].id, "the contact is a known customer over pressure")
        self.assertEqual(self._logged(mailing).partner_id, self.carol, "only known customers are logged")

    def test_sms_mailing_blocks_by_number(self):
        self.bob.mobile = "+32 470 99 88 77"
        mailing = self._partner_mailing(self.alice | self.bob, mailing_type="sms", body_plaintext="Sale!")
        mailing.action_send_sms()
        traces = self._traces(mailing)
        alice_trace = traces.filtered(lambda t: t.res_id == self.alice.id)
        self.assertEqual(
            (alice_trace.trace_type, alice_trace.trace_status, alice_trace.ecrm_pressure_rule_id),
            ("sms", "cancel", self.sms_rule),
        )
        self.assertNotEqual(traces.filtered(lambda t: t.res_id == self.bob.id).trace_status, "cancel")
        logged = self._logged(mailing)
        self.assertEqual((logged.partner_id, logged.channel), (self.bob, "sms"))

    def test_one_pressure_check_per_batch(self):
        partners = self.env["res.partner"].create(
            [{"name": f"Many {i}", "email": f"many{i}@example.com"} for i in range(20)]
        )
        self.env["ir.config_parameter"].sudo().set_param("mail.batch_size", "8")
        mailing = self._partner_mailing(partners)
        Rule = type(self.env["ecrm.pressure.rule"])
        original = Rule._ecrm_check
        with patch.object(Rule, "_ecrm_check", autospec=True, side_effect=original) as spy:
            mailing.action_send_mail()
        self.assertEqual(spy.call_count, 3, "20 recipients in batches of 8: three checks")
        self.assertEqual(len(self._logged(mailing)), 20)


@tagged("post_install", "-at_install")
class TestPressureDeferral(PressureMailingCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # only the 48 h gap blocks Alice: her window frees within days
        cls.email_rule.max_count = 2

    def test_deferred_recipient_sent_once_window_frees(self):
        mailing = self._partner_mailing(
            self.alice | self.bob,
            ecrm_pressure_defer=True,
            ecrm_pressure_defer_until=self.now + timedelta(days=5),
        )
        mailing.action_send_mail()
        self.assertEqual(self._traces(mailing).res_id, self.bob.id, "Alice waits, with no trace yet")
        deferral = mailing.ecrm_pressure_deferral_ids
        self.assertEqual(
            (deferral.res_id, deferral.state, deferral.rule_id), (self.alice.id, "waiting", self.email_rule)
        )
        Deferral = self.env["ecrm.pressure.deferral"]
        Deferral._cron_ecrm_retry_deferred()
        self.assertEqual(len(self._traces(mailing)), 1, "still blocked: nothing sent")
        with freeze_time(deferral.until + timedelta(seconds=1)):
            Deferral._cron_ecrm_retry_deferred()
            Deferral._cron_ecrm_retry_deferred()
        traces = self._traces(mailing)
        self.assertEqual(sorted(traces.mapped("res_id")), sorted([self.alice.id, self.bob.id]), "sent once")
        self.assertEqual(deferral.state, "done")
        self.assertFalse(traces.filtered(lambda t: t.failure_type == "ecrm_pressure"))

    def test_blocked_past_limit_is_excluded_not_deferred(self):
        mailing = self._partner_mailing(
            self.alice, ecrm_pressure_defer=True, ecrm_pressure_defer_until=self.now + timedelta(hours=2)
        )
        mailing.action_send_mail()
        self.assertEqual(self._traces(mailing).failure_type, "ecrm_pressure")
        self.assertFalse(mailing.ecrm_pressure_deferral_ids)

    def test_expired_deferral_is_cancelled_with_trace(self):
        mailing = self._partner_mailing(
            self.alice, ecrm_pressure_defer=True, ecrm_pressure_defer_until=self.now + timedelta(days=3)
        )
        mailing.action_send_mail()
        deferral = mailing.ecrm_pressure_deferral_ids
        with freeze_time(self.now + timedelta(days=4)):
            # another message kept Alice blocked past the limit date
            self._touch(self.alice, self.now + timedelta(days=3))
            self.env["ecrm.pressure.deferral"]._cron_ecrm_retry_deferred()
        self.assertEqual(deferral.state, "cancelled")
        trace = self._traces(mailing)
        self.assertEqual((trace.trace_status, trace.failure_type), ("cancel", "ecrm_pressure"))

    def test_defer_requires_limit_date(self):
        with self.assertRaisesRegex(Exception, "give the date"):
            self._partner_mailing(self.bob, ecrm_pressure_defer=True)


@tagged("post_install", "-at_install")
class TestPressureSimulation(PressureMailingCase):
    def test_simulation_equals_sending(self):
        champions = self.env["ecrm.rfm.segment"].search([], limit=1)
        segment_rule = self.Rule.create(
            {"name": "Champions 1/90d", "max_count": 1, "period_days": 90, "segment_ids": [(6, 0, champions.ids)]}
        )
        self.env["ecrm.rfm.score"].create(
            {"partner_id": self.bob.id, "company_id": self.company.id, "segment_id": champions.id}
        )
        self._touch(self.bob, self.now - timedelta(days=60))
        dave, erin = self.env["res.partner"].create(
            [
                {"name": "Dave Blacklisted", "email": "dave.pressure@example.com"},
                {"name": "Erin Twin", "email": "alice.pressure@example.com"},
            ]
        )
        self._touch(dave, self.now - timedelta(hours=1))
        self.env["mail.blacklist"]._add(dave.email)
        mailing = self._partner_mailing(self.alice | self.bob | self.carol | dave | erin)

        action = mailing.action_ecrm_pressure_simulate()
        simulation = self.env["ecrm.pressure.simulation"].browse(action["res_id"])
        expected = {line.rule_id: line.excluded_count for line in simulation.line_ids}
        self.assertEqual(expected, {self.email_rule: 1, segment_rule: 1})

        mailing.action_send_mail()
        sent = Counter(
            self._traces(mailing).filtered(lambda t: t.failure_type == "ecrm_pressure").mapped("ecrm_pressure_rule_id")
        )
        self.assertEqual(dict(sent), expected)
        self.assertEqual(simulation.excluded_count, sum(sent.values()))

    def _composers_created(self, model, send):
        """``[(values, context)]`` of the composers ``send()`` creates: the
        composer's own ``create`` is wrapped, it records and calls through."""
        created = []
        composer_class = self.registry[model]
        create = composer_class.create

        def recording_create(composer, vals_list):
            context = dict(composer.env.context)
            context.pop("ecrm_pressure_simulation", None)
            created.append((vals_list, context))
            return create(composer, vals_list)

        with patch.object(composer_class, "create", recording_create):
            send()
        return created

    def test_simulation_builds_the_email_composer_as_sending_does(self):
        # values Odoo takes from the mailing, the responsible's context, link tracking
        responsible = new_test_user(
            self.env, login="ecrm_pm_responsible", groups="base.group_user,mass_mailing.group_mass_mailing_user"
        )
        mailing = self._partner_mailing(
            self.alice | self.bob,
            preview="Spring is here",
            reply_to_mode="new",
            reply_to="shop@example.com",
            keep_archives=True,
            user_id=responsible.id,
            campaign_id=self.env["utm.campaign"].create({"name": "Spring"}).id,
        )
        simulated = self._composers_created("mail.compose.message", mailing._ecrm_pressure_simulate)
        self.assertEqual(mailing.state, "draft", "a simulation does not mark the mailing as sent")
        self.assertFalse(self._traces(mailing))
        sent = self._composers_created("mail.compose.message", mailing.action_send_mail)
        self.assertEqual(len(sent), 1)
        self.assertIn("post_convert_links", sent[0][1], "Odoo's _get_mass_mailing_context()")
        self.assertEqual(simulated, sent)

    def test_simulation_builds_the_sms_composer_as_sending_does(self):
        mailing = self._partner_mailing(
            self.alice | self.bob, mailing_type="sms", body_plaintext="Spring sale", sms_allow_unsubscribe=True
        )
        simulated = self._composers_created("sms.composer", mailing._ecrm_pressure_simulate)
        self.assertFalse(self._traces(mailing))
        sent = self._composers_created("sms.composer", mailing.action_send_mail)
        self.assertEqual(len(sent), 1)
        self.assertEqual(simulated, sent)

    def test_simulated_sending_never_commits(self):
        # outside tests Odoo sends with auto_commit=True; a commit here would
        # raise (test cursor) and, in production, end the simulation's savepoint
        mailing = self._partner_mailing(self.alice | self.bob)
        simulation = PressureSimulation()
        composer = (
            self.env["mail.compose.message"]
            .with_context(
                ecrm_pressure_simulation=simulation,
                active_ids=(self.alice | self.bob).ids,
                default_composition_mode="mass_mail",
            )
            .create(
                {
                    "composition_mode": "mass_mail",
                    "mass_mailing_id": mailing.id,
                    "model": "res.partner",
                    "subject": mailing.subject,
                    "body": mailing.body_html,
                }
            )
        )
        with self.assertRaises(PressureSimulationDone):
            composer._action_send_mail(auto_commit=True)
        self.assertEqual((simulation.checked, simulation.per_rule), (2, {self.email_rule.id: [1, 0]}))
        self.assertFalse(self.env["mail.mail"].search([("mailing_id", "=", mailing.id)]))


@tagged("post_install", "-at_install")
class TestPressureWarnings(PressureMailingCase):
    def test_chatter_email_warns_but_sends(self):
        composer = Form(
            self.env["mail.compose.message"].with_context(
                default_model="res.partner",
                default_res_ids=self.alice.ids,
                default_partner_ids=self.alice.ids,
                default_composition_mode="comment",
            )
        )
        self.assertIn(self.email_rule.name, composer.ecrm_pressure_warning)
        composer.body = "<p>Personal note</p>"
        composer.save().action_send_mail()
        self.assertTrue(self.alice.message_ids.filtered(lambda m: "Personal note" in (m.body or "")))

    def test_chatter_email_to_free_customer_has_no_warning(self):
        composer = Form(
            self.env["mail.compose.message"].with_context(
                default_model="res.partner",
                default_res_ids=self.bob.ids,
                default_partner_ids=self.bob.ids,
                default_composition_mode="comment",
            )
        )
        self.assertFalse(composer.ecrm_pressure_warning)

    def test_sms_composer_warns(self):
        composer = self.env["sms.composer"].create(
            {"res_model": "res.partner", "res_id": self.alice.id, "composition_mode": "comment", "body": "Hi"}
        )
        self.assertIn(self.sms_rule.name, composer.ecrm_pressure_warning)


@tagged("post_install", "-at_install")
class TestPressureMailingAccess(PressureMailingCase):
    def test_deferrals_and_check_need_marketing_or_ecrm_rights(self):
        plain = new_test_user(self.env, login="ecrm_pm_plain", groups="base.group_user")
        marketer = new_test_user(
            self.env, login="ecrm_pm_marketer", groups="base.group_user,mass_mailing.group_mass_mailing_user"
        )
        mailing = self._partner_mailing(self.alice | self.bob)
        self.assertTrue(mailing.with_user(marketer).action_ecrm_pressure_simulate()["res_id"])
        self.env["ecrm.pressure.deferral"].with_user(marketer).search([])
        with self.assertRaises(AccessError):
            self.env["ecrm.pressure.deferral"].with_user(plain).search([])
        with self.assertRaises(AccessError):
            self.env["ecrm.pressure.simulation"].with_user(plain).create({"mailing_id": mailing.id})
