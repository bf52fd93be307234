# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from datetime import date, datetime
from unittest.mock import patch

from freezegun import freeze_time

from odoo.exceptions import AccessError
from odoo.tests import tagged

from .test_rfm import REFERENCE as REFERENCE_DATE
from .test_rfm import RfmCase

LATER = date(2024, 9, 15)  # the second run: D leaves the window, others change segment
NOW = "2024-09-15 08:00:00"


@tagged("post_install", "-at_install")
class TestSegmentActions(RfmCase):
    """Segment actions run by the RFM run on the moves of its date, once per move."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.segments = cls.env["ecrm.rfm.segment"].search([])
        cls.Action = cls.env["ecrm.segment.action"]
        cls.Log = cls.env["ecrm.segment.action.log"]
        cls.activity_type = cls.env.ref("mail.mail_activity_data_call")
        cls.p["A"].user_id = cls.user
        cls.p["C"].user_id = cls.user

    def _actions(self, trigger="enter", **values):
        """One action per segment, so that every move of ``trigger`` runs one."""
        return self.Action.create(
            [
                {"name": f"{trigger} {segment.code}", "segment_id": segment.id, "trigger": trigger, **values}
                for segment in self.segments
            ]
        )

    def _run(self, when):
        self.company.ecrm_rfm_date = when
        self.env["ecrm.rfm.score"]._rfm_refresh_company(self.company)

    def _moves(self, when=LATER):
        moves = self.env["ecrm.rfm.snapshot"].search([("company_id", "=", self.company.id), ("date", "=", when)])
        return moves.filtered(lambda move: move.previous_segment_id != move.segment_id)

    def _activities(self, partners):
        return self.env["mail.activity"].search(
            [
                ("res_model", "=", "res.partner"),
                ("res_id", "in", partners.ids),
                ("activity_type_id", "=", self.activity_type.id),
            ]
        )

    @freeze_time(NOW)
    def test_first_computation_is_not_a_move(self):
        actions = self._actions(action_type="activity", activity_type_id=self.activity_type.id)
        self._run(REFERENCE_DATE)
        logs = self.Log.search([("action_id", "in", actions.ids)])
        self.assertTrue(logs)
        self.assertEqual(set(logs.mapped("state")), {"skipped"})
        self.assertFalse(self._activities(logs.partner_id))

    @freeze_time(NOW)
    def test_activity_once_per_move_when_the_run_is_repeated_the_same_day(self):
        self._run(REFERENCE_DATE)
        fallback = self.manager
        actions = self._actions(
            action_type="activity", activity_type_id=self.activity_type.id, activity_user_id=fallback.id
        )
        self._run(LATER)
        entered = self._moves().filtered("segment_id")
        self.assertTrue(entered, "the fixture needs customers changing segment")
        activities = self._activities(entered.partner_id)
        self.assertEqual(sorted(activities.mapped("res_id")), sorted(entered.partner_id.ids))
        for activity in activities:
            partner = self.env["res.partner"].browse(activity.res_id)
            self.assertEqual(activity.user_id, partner.user_id or fallback)
            self.assertEqual(activity.date_deadline, date(2024, 9, 15))
        # the same day again, and a full run: nothing runs twice
        self._run(LATER)
        self.env["ecrm.rfm.score"]._rfm_refresh_company(self.company, full=True)
        self.assertEqual(self._activities(entered.partner_id), activities)
        logs = self.Log.search([("action_id", "in", actions.ids), ("date", "=", LATER)])
        self.assertEqual(len(logs), len(entered))
        self.assertEqual(set(logs.mapped("state")), {"done"})
        # the Segment Moves report shows what was done for each move
        for move in entered:
            self.assertEqual(
                move.action_log_ids.action_id, actions.filtered(lambda a, m=move: a.segment_id == m.segment_id)
            )

    @freeze_time(NOW)
    def test_activity_skipped_without_salesperson_or_fallback(self):
        self._run(REFERENCE_DATE)
        self._actions(action_type="activity", activity_type_id=self.activity_type.id)
        self._run(LATER)
        entered = self._moves().filtered("segment_id")
        logs = entered.action_log_ids
        for log in logs:
            self.assertEqual(log.state, "done" if log.partner_id.user_id else "skipped")
        self.assertEqual(
            set(self._activities(entered.partner_id).mapped("res_id")), set(entered.partner_id.filtered("user_id").ids)
        )

    @freeze_time(NOW)
    def test_leave_trigger_removes_from_the_list_and_keeps_opt_outs(self):
        self._run(REFERENCE_DATE)
        customers = self.env["res.partner"].browse([p.id for name, p in self.p.items() if name != "G1"])
        mailing_list = self.env["mailing.list"].create(
            {
                "name": "RFM list",
                "contact_ids": [(0, 0, {"name": p.name, "email": p.email}) for p in customers],
            }
        )
        self._actions(trigger="leave", action_type="list_remove", mailing_list_id=mailing_list.id)
        self._run(LATER)
        left = self._moves().filtered("previous_segment_id").partner_id
        self.assertIn(self.p["D"], left, "D leaves the window")
        subscribed = set(mailing_list.subscription_ids.contact_id.mapped("email_normalized"))
        self.assertFalse(subscribed & set(left.mapped("email_normalized")))
        self.assertEqual(subscribed, set((customers - left).mapped("email_normalized")))

    @freeze_time(NOW)
    def test_enter_trigger_adds_to_the_list_once_and_respects_opt_out(self):
        self._run(REFERENCE_DATE)
        mailing_list = self.env["mailing.list"].create({"name": "Entered"})
        self._actions(action_type="list_add", mailing_list_id=mailing_list.id)
        # an address that left the list earlier is not put back
        opted = self.env["mailing.contact"].create(
            {
                "name": "A",
                "email": self.p["A"].email,
                "subscription_ids": [(0, 0, {"list_id": mailing_list.id, "opt_out": True})],
            }
        )
        self._run(LATER)
        entered_first = self._moves().filtered("segment_id").partner_id
        self._run(LATER)
        subscriptions = mailing_list.subscription_ids
        emails = set(entered_first.mapped("email_normalized"))
        self.assertEqual(set(subscriptions.contact_id.mapped("email_normalized")), emails | {opted.email_normalized})
        self.assertEqual(len(subscriptions), len(emails | {opted.email_normalized}), "one subscription per address")
        self.assertTrue(subscriptions.filtered(lambda s: s.contact_id == opted).opt_out)

    def _template(self):
        return self.env["mail.template"].create(
            {
                "name": "Segment test",
                "model_id": self.env["ir.model"]._get_id("res.partner"),
                "subject": "Segment test {{ object.name }}",
                "email_to": "{{ object.email_formatted }}",
                "body_html": "<p>Hello</p>",
            }
        )

    def _mails(self, template_subject="Segment test"):
        return self.env["mail.mail"].search([("subject", "like", template_subject)])

    def test_template_sent_once_and_logged_as_marketing(self):
        with freeze_time(NOW):
            self._run(REFERENCE_DATE)
            self._actions(action_type="template", template_id=self._template().id)
            self._run(LATER)
            self._run(LATER)
        entered = self._moves().filtered("segment_id").partner_id
        mails = self._mails()
        self.assertEqual(sorted(mails.mapped("email_to")), sorted(entered.mapped("email_formatted")))
        logged = self.env["ecrm.interaction"].search(
            [("res_model", "=", "ecrm.segment.action"), ("category", "=", "marketing"), ("direction", "=", "outbound")]
        )
        self.assertEqual(sorted(logged.partner_id.ids), sorted(entered.ids))

    def _blocking_rule(self, entered):
        """A rule of one marketing email per 30 days, already reached by the first of ``entered``."""
        rule = self.env["ecrm.pressure.rule"].create(
            {
                "name": "One a month",
                "company_id": self.company.id,
                "channel": "email",
                "max_count": 1,
                "period_days": 30,
            }
        )
        Interaction = self.env["ecrm.interaction"]
        Interaction._log(
            [
                Interaction._log_values(
                    entered,
                    entered.id,
                    "Earlier newsletter",
                    "email",
                    "outbound",
                    "marketing",
                    date=datetime(2024, 9, 10, 8),
                    company_id=self.company.id,
                )
            ]
        )
        return rule

    def test_template_blocked_by_pressure_is_excluded_like_a_mailing(self):
        with freeze_time(NOW):
            self._run(REFERENCE_DATE)
            # who will enter a segment on LATER: run once in a savepoint to find out
            with self.env.cr.savepoint(flush=True) as savepoint:
                self._run(LATER)
                entered = self._moves().filtered("segment_id").partner_id.sorted("id")
                savepoint.rollback()
            self.env.invalidate_all()
            blocked_partner = entered[:1]
            rule = self._blocking_rule(blocked_partner)
            self._actions(action_type="template", template_id=self._template().id)
            self._run(LATER)
        log = self.Log.search([("partner_id", "=", blocked_partner.id), ("date", "=", LATER)])
        self.assertEqual(log.state, "blocked")
        self.assertEqual(log.rule_id, rule)
        self.assertEqual(log.until, datetime(2024, 10, 10, 8))
        self.assertEqual(
            set(self._mails().mapped("email_to")), set((entered - blocked_partner).mapped("email_formatted"))
        )

    def _deferred_log(self):
        """A template action deferring for 30 days the first customer entering
        a segment on LATER, whom a rule blocks until 2024-10-10 08:00."""
        with freeze_time(NOW):
            self._run(REFERENCE_DATE)
            with self.env.cr.savepoint(flush=True) as savepoint:
                self._run(LATER)
                blocked_partner = self._moves().filtered("segment_id").partner_id.sorted("id")[:1]
                savepoint.rollback()
            self.env.invalidate_all()
            self._blocking_rule(blocked_partner)
            self._actions(
                action_type="template", template_id=self._template().id, pressure_defer=True, pressure_defer_days=30
            )
            self._run(LATER)
        log = self.Log.search([("partner_id", "=", blocked_partner.id), ("date", "=", LATER)])
        return log, blocked_partner

    def test_template_blocked_by_pressure_is_deferred_then_sent(self):
        log, blocked_partner = self._deferred_log()
        self.assertEqual(log.state, "deferred")
        self.assertEqual(log.until, datetime(2024, 10, 10, 8))
        with freeze_time("2024-10-05 08:00:00"):
            self._run(date(2024, 10, 5))  # still blocked: waits
        self.assertEqual(log.state, "deferred")
        with freeze_time("2024-10-11 08:00:00"):
            self._run(date(2024, 10, 11))
        self.assertEqual(log.state, "done")
        self.assertIn(blocked_partner.email_formatted, self._mails().mapped("email_to"))

    def test_deferred_template_is_sent_by_the_hourly_deferral_cron(self):
        """Not only by the next RFM run (daily): the hourly cron of deferred
        mailing recipients sends it once its window frees, once."""
        log, blocked_partner = self._deferred_log()
        Deferral = self.env["ecrm.pressure.deferral"]
        with freeze_time("2024-10-10 07:59:59"):
            Deferral._cron_ecrm_retry_deferred()
        self.assertEqual(log.state, "deferred")
        self.assertNotIn(blocked_partner.email_formatted, self._mails().mapped("email_to"))
        with freeze_time("2024-10-10 09:00:00"):
            Deferral._cron_ecrm_retry_deferred()
            Deferral._cron_ecrm_retry_deferred()
            self.assertEqual(log.state, "done")
            self._run(date(2024, 10, 10))  # and the RFM run of the day sends it no more
        self.assertEqual(log.state, "done")
        self.assertEqual(self._mails().mapped("email_to").count(blocked_partner.email_formatted), 1)
        sent = self.env["ecrm.interaction"].search(
            [("res_model", "=", "ecrm.segment.action"), ("partner_id", "=", blocked_partner.id)]
        )
        self.assertEqual(sent.mapped("date"), [datetime(2024, 10, 10, 9)])

    @freeze_time(NOW)
    def test_action_of_another_company_does_not_run(self):
        self._run(REFERENCE_DATE)
        other = self.env["res.company"].create({"name": "Other shop"})
        actions = self._actions(action_type="activity", activity_type_id=self.activity_type.id, company_id=other.id)
        self._run(LATER)
        self.assertFalse(self.Log.search([("action_id", "in", actions.ids)]))

    def test_only_managers_configure_actions(self):
        values = {
            "name": "Call",
            "segment_id": self.segments[0].id,
            "action_type": "activity",
            "activity_type_id": self.activity_type.id,
        }
        with self.assertRaises(AccessError):
            self.Action.with_user(self.user).create(values)
        action = self.Action.with_user(self.manager).create(values)
        self.assertEqual(action.company_id, self.manager.company_id)
        self.assertEqual(self.Action.with_user(self.user).search([("id", "=", action.id)]), action)

    @freeze_time(NOW)
    def test_actions_done_are_read_by_ecrm_users_of_their_company_only(self):
        self._run(REFERENCE_DATE)
        self._actions(action_type="activity", activity_type_id=self.activity_type.id, activity_user_id=self.manager.id)
        self._run(LATER)
        logs = self.Log.search([("date", "=", LATER)])
        self.assertTrue(logs)
        self.assertEqual(self.Log.with_user(self.user).search([("date", "=", LATER)]), logs)
        with self.assertRaises(AccessError):
            self.Log.with_user(self.plain).search([])
        with self.assertRaises(AccessError):
            logs.with_user(self.user).unlink()
        other = self.env["res.company"].create({"name": "Other shop"})
        self.user.write({"company_ids": [(4, other.id)], "company_id": other.id})
        self.assertFalse(self.Log.with_user(self.user).with_context(allowed_company_ids=other.ids).search([]))
        theirs = self.Action.create(
            {
                "name": "Theirs",
                "segment_id": self.segments[0].id,
                "action_type": "activity",
                "activity_type_id": self.activity_type.id,
                "company_id": other.id,
            }
        )
        Action = self.Action.with_user(self.user).with_context(allowed_company_ids=[self.company.id])
        self.assertNotIn(theirs, Action.search([]))

    def test_salesman_opens_a_segment_without_its_actions(self):
        salesman = self.env["res.users"].create(
            {
                "name": "Salesman",
                "login": "segment_salesman",
                "groups_id": [(6, 0, [self.env.ref("sales_team.group_sale_salesman").id])],
            }
        )
        views = self.env["ecrm.rfm.segment"].with_user(salesman).get_views([(False, "form")])
        self.assertNotIn("action_ids", views["models"]["ecrm.rfm.segment"]["fields"])
        views = self.env["ecrm.rfm.segment"].with_user(self.user).get_views([(False, "form")])
        self.assertIn("action_ids", views["models"]["ecrm.rfm.segment"]["fields"])

    def test_shipped_actions_are_inactive_templates_of_contacts(self):
        shipped = (
            self.Action.with_context(active_test=False)
            .search([("name", "!=", False)])
            .filtered(lambda a: a.get_external_id()[a.id].startswith("ecrm_addon."))
        )
        codes = {action.segment_id.code for action in shipped}
        self.assertEqual(codes, {"new", "at_risk", "cant_lose_them", "champions"})
        self.assertFalse(any(shipped.mapped("active")))
        self.assertEqual(set(shipped.template_id.mapped("model")), {"res.partner"})

    def test_shipped_emails_in_spanish(self):
        self.env["res.lang"]._activate_lang("es_ES")
        self.env["ir.module.module"]._load_module_terms(["ecrm_addon"], ["es_ES"], overwrite=True)
        action = self.env.ref("ecrm_addon.ecrm_segment_action_winback_cant_lose").with_context(lang="es_ES")
        self.assertEqual(action.name, "Correo de recuperación (No podemos perderlos)")
        template = action.template_id
        self.assertEqual(template.subject, "Le echamos de menos")
        self.assertIn("Hasta pronto en nuestra tienda.", template.body_html)
        customer = self.p["A"]
        customer.lang = "es_ES"
        rendered = template._render_field("body_html", customer.ids, compute_lang=True)[customer.id]
        self.assertIn("Hace tiempo que no nos hace un pedido", rendered)

    def test_churn_risk_turning_high_runs_once_for_valuable_customers(self):
        """Churn risk from the customer value rows: the customers who were not
        at high risk before the run and are after it, above the threshold."""
        Clv = self.env["ecrm.clv.score"]
        with freeze_time(NOW):
            self._run(REFERENCE_DATE)
            action = self.Action.create(
                {
                    "name": "Win back valuable customers",
                    "trigger": "churn_high",
                    "min_expected_value": 100,
                    "action_type": "activity",
                    "activity_type_id": self.activity_type.id,
                    "activity_user_id": self.manager.id,
                }
            )
            valuable, cheap, already = self.p["A"], self.p["B"], self.p["C"]

            def set_risks(high):
                # what a customer value run writes (the fit on so few customers is too rough to steer)
                self.env.cr.execute(
                    """INSERT INTO ecrm_clv_score (company_id, partner_id, date, churn_risk, expected_value)
                       SELECT %s, p, %s, CASE WHEN p = ANY(%s) THEN 'high' ELSE 'low' END,
                              CASE WHEN p = %s THEN 50 ELSE 500 END
                         FROM unnest(%s) p
                       ON CONFLICT (partner_id, company_id) DO UPDATE
                          SET churn_risk = EXCLUDED.churn_risk, expected_value = EXCLUDED.expected_value""",
                    [self.company.id, LATER, high, cheap.id, [valuable.id, cheap.id, already.id]],
                )
                Clv.invalidate_model()

            set_risks([already.id])
            clv_model = type(self.env["ecrm.clv.score"])
            original = clv_model._clv_refresh_company

            def refresh(model, company):
                fit = original(model, company)
                set_risks([valuable.id, cheap.id, already.id])
                return fit

            with patch.object(clv_model, "_clv_refresh_company", refresh):
                self._run(LATER)
                self._run(LATER)
        logs = self.Log.search([("action_id", "=", action.id)])
        self.assertEqual(logs.partner_id, valuable)
        self.assertEqual(logs.state, "done")
        self.assertFalse(logs.snapshot_id)
        self.assertEqual(len(self._activities(valuable)), 1)
        self.assertFalse(self._activities(cheap | already))
