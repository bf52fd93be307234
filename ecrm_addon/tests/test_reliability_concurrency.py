# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import logging
import random
import time
from collections import Counter
from datetime import timedelta
from itertools import pairwise

from psycopg2 import errors as pg_errors

from odoo import SUPERUSER_ID, Command, api, fields
from odoo.service.model import PG_CONCURRENCY_EXCEPTIONS_TO_RETRY
from odoo.tests import new_test_user, tagged
from odoo.tools import SQL, mute_logger

from .committed import CommittedCase, WebhookReceiver

CASES = 12
TAG = "[reliability]"

_logger = logging.getLogger(__name__)


class EscalationFixture(CommittedCase):
    """Committed due cases under a policy of two levels: the first notifies the
    administrator (message + to-do) and queues a webhook to loopback, the
    second raises the priority. Opened 30 days ago, so both levels are due.
    With WITH_TEMPLATE the first level emails the customer instead of calling
    the webhook."""

    WITH_TEMPLATE = False

    def setUp(self):
        super().setUp()
        self.receiver = WebhookReceiver().start(self)
        # cases other data of the database left due are fired first: the runs
        # under test then count the fixture's cases alone, whatever ran before
        self.committed(lambda env: env["ecrm.case"]._cron_ecrm_escalate())
        self.case_ids, self.level_names = self.committed(self._create_cases)

    def _create_cases(self, env, count=CASES):
        template = self.WITH_TEMPLATE
        company = env.ref("base.main_company")
        policy = env["ecrm.escalation.policy"].create(
            {
                "name": f"{TAG} policy",
                "sequence": -100,
                "company_id": company.id,
                "calendar_id": company.resource_calendar_id.id,
                "domain": repr([("subject", "like", TAG)]),
                "response_hours": 2,
                "resolution_hours": 200,
            }
        )
        first = {
            "name": f"{TAG} notify",
            "sequence": 1,
            "policy_id": policy.id,
            "delay_hours": 0,
            "notify_user_ids": [(6, 0, env.ref("base.user_admin").ids)],
        }
        if template:
            first["mail_template_id"] = (
                env["mail.template"]
                .create(
                    {
                        "name": f"{TAG} sorry",
                        "model_id": env["ir.model"]._get_id("ecrm.case"),
                        "subject": f"{TAG} about {{{{ object.name }}}}",
                        "body_html": "<p>We are late on your case, sorry.</p>",
                    }
                )
                .id
            )
        else:
            first["webhook_url"] = self.receiver.url
        levels = env["ecrm.escalation.level"].create(
            [
                first,
                {"name": f"{TAG} raise", "sequence": 2, "policy_id": policy.id, "delay_hours": 1}
                | {"raise_priority": True},
            ]
        )
        customer = env["res.partner"].create({"name": f"{TAG} customer", "email": "reliability.customer@example.com"})
        opened = fields.Datetime.now() - timedelta(days=30)
        cases = env["ecrm.case"].create(
            [
                {
                    "subject": f"{TAG} case {n}",
                    "partner_id": customer.id,
                    "date_open": opened,
                    "company_id": company.id,
                }
                for n in range(count)
            ]
        )
        assert cases.policy_id == policy and all(cases.mapped("next_escalation_at")), "fixture cases are not due"
        return cases.ids, levels.mapped("name")

    def escalation_rows(self):
        """[(case id, level name, state, attempts)] of the fixture's cases."""

        def read(env):
            logs = env["ecrm.case.escalation"].search([("case_id", "in", self.case_ids)])
            return sorted((log.case_id.id, log.level_id.name, log.state, log.attempts) for log in logs)

        return self.committed(read)

    def messages_per_case(self, text):
        """{case id: number of chatter messages whose body contains ``text``}."""

        def read(env):
            messages = env["mail.message"].search(
                [("model", "=", "ecrm.case"), ("res_id", "in", self.case_ids), ("body", "ilike", text)]
            )
            counts = dict.fromkeys(self.case_ids, 0)
            for message in messages:
                counts[message.res_id] += 1
            return counts

        return self.committed(read)

    def assert_each_level_fired_once(self):
        expected = sorted((case_id, name, "done", 1) for case_id in self.case_ids for name in self.level_names)
        self.assertEqual(self.escalation_rows(), expected)
        for name in self.level_names:
            self.assertEqual(
                self.messages_per_case(f"Escalation level {name} fired"), dict.fromkeys(self.case_ids, 1), name
            )
        self.assertEqual(
            self.messages_per_case(f"Escalation {self.level_names[0]}:"),
            dict.fromkeys(self.case_ids, 1),
            "one notification per case",
        )


@tagged("post_install", "-at_install")
class TestEscalationConcurrency(EscalationFixture):
    @mute_logger("odoo.sql_db")  # the serialization failures the cron retries
    def test_two_crons_at_once_fire_each_level_once(self):
        def cron(env):
            return env["ecrm.case"]._cron_ecrm_escalate(batch_size=3)

        results, errors = self.in_threads(cron, cron)
        self.assertEqual(errors, [None, None])
        self.assertEqual(sum(results), CASES, "each case escalated by exactly one of the two workers")
        self.assert_each_level_fired_once()
        # The webhooks wait in their outbox, committed with the batches: none was
        # called by the escalation workers, each is called once by the send cron.
        first = self.level_names[0]
        self.assertEqual(self.receiver.hits(), {})
        sent = self.committed(lambda env: env["ecrm.webhook.delivery"]._cron_ecrm_send_webhooks())
        self.assertEqual(sent, CASES)
        self.assertEqual(self.receiver.hits(), {(case_id, first): 1 for case_id in self.case_ids})

        def todos(env):
            return env["mail.activity"].search_count([("res_model", "=", "ecrm.case"), ("res_id", "in", self.case_ids)])

        self.assertEqual(self.committed(todos), CASES)

    def test_busy_case_is_left_counted_for_the_next_round(self):
        """A case locked by another transaction is skipped and the batches go on
        past it; the run reports it as remaining (Odoo's cron runner then calls
        the job again) and a later run fires it once."""
        busy = self.case_ids[0]  # first in the index: the first batch passes it
        locker = self.registry.cursor()
        self.addCleanup(locker.close)
        locker.execute("SELECT id FROM ecrm_case WHERE id = %s FOR UPDATE", [busy])

        def run(env):
            cron = env.ref("ecrm_addon.ecrm_case_cron_escalate")
            progress = env["ir.cron.progress"].create({"cron_id": cron.id})
            fired = env["ecrm.case"].with_context(ir_cron_progress_id=progress.id)._cron_ecrm_escalate(batch_size=5)
            return fired, progress.done, progress.remaining

        fired, done, remaining = self.committed(run)
        self.assertEqual((done, remaining), (fired, 1))
        self.assertEqual({row[0] for row in self.escalation_rows()}, set(self.case_ids) - {busy})
        locker.rollback()
        self.assertEqual(self.committed(lambda env: env["ecrm.case"]._cron_ecrm_escalate(batch_size=5)), 1)
        self.assert_each_level_fired_once()

    @mute_logger("odoo.sql_db")
    def test_serialization_failure_is_retried_with_a_fresh_snapshot(self):
        """Worker B's transaction started (snapshot taken) before worker A escalated
        and committed the same cases: B's lock on them meets PostgreSQL's
        serialization failure; the cron rolls the batch back, retries it with a
        new snapshot, sees the cases escalated and fires nothing twice."""
        late = self.registry.cursor()
        self.addCleanup(late.close)
        late.execute("SELECT count(*) FROM ecrm_case WHERE id = ANY(%s)", [self.case_ids])  # B's snapshot
        self.committed(lambda env: env["ecrm.case"]._cron_ecrm_escalate())  # worker A

        def worker_b(env):
            return api.Environment(late, SUPERUSER_ID, {})["ecrm.case"]._cron_ecrm_escalate()

        with self.assertLogs("odoo.addons.ecrm_addon.models.ecrm_case_sla", logging.INFO) as logs:
            results, errors = self.in_threads(worker_b)
        late.commit()
        self.assertEqual(errors, [None])
        self.assertEqual(results, [0], "nothing left to fire after the retry")
        retries = [line for line in logs.output if "retried after a concurrent update" in line]
        self.assertEqual(len(retries), 1, logs.output)
        self.assertIn("40001", retries[0])  # PostgreSQL's serialization_failure
        self.assert_each_level_fired_once()

    @mute_logger("odoo.sql_db")
    def test_serialization_failure_inside_a_test_transaction_is_not_swallowed(self):
        """Inside a caller's transaction (marked ``testing`` here, as in Odoo's
        test runner) the cron may not roll back: the failure goes to the caller."""
        late = self.registry.cursor()
        self.addCleanup(late.close)
        late.execute("SELECT count(*) FROM ecrm_case WHERE id = ANY(%s)", [self.case_ids])
        self.committed(lambda env: env["ecrm.case"]._cron_ecrm_escalate())
        with self.assertRaises(pg_errors.SerializationFailure):
            api.Environment(late, SUPERUSER_ID, {})["ecrm.case"]._cron_ecrm_escalate()  # main thread: testing
        late.rollback()
        self.assert_each_level_fired_once()


@tagged("post_install", "-at_install")
class TestRfmConcurrency(CommittedCase):
    CUSTOMERS = 5
    ORDERS_EACH = 2

    def setUp(self):
        super().setUp()
        self.partner_ids, self.order_ids, self.mailing_id = self.committed(self._create)

    def _create(self, env):
        company = env.ref("base.main_company")
        company.write({"ecrm_rfm_source": "sale", "ecrm_rfm_window_days": 365, "ecrm_rfm_date": False})
        product = env["product.product"].create({"name": f"{TAG} service", "type": "service", "list_price": 40})
        partners = env["res.partner"].create(
            [{"name": f"{TAG} buyer {n}", "email": f"reliability.buyer.{n}@example.com"} for n in range(self.CUSTOMERS)]
        )
        orders = env["sale.order"].create(
            [
                {
                    "partner_id": partner.id,
                    "company_id": company.id,
                    "order_line": [(0, 0, {"product_id": product.id, "product_uom_qty": 1, "price_unit": 40})],
                }
                for partner in partners
                for _n in range(self.ORDERS_EACH)
            ]
        )
        mailing = env["mailing.mailing"].create(
            {
                "subject": f"{TAG} news",
                "body_html": "<p>News</p>",
                "mailing_model_id": env["ir.model"]._get_id("res.partner"),
                "mailing_domain": repr([("id", "in", partners.ids)]),
            }
        )
        return partners.ids, orders.ids, mailing.id

    def frequencies(self, env):
        company = env.ref("base.main_company")
        scores = env["ecrm.rfm.score"].search([("company_id", "=", company.id), ("partner_id", "in", self.partner_ids)])
        return {score.partner_id.id: score.frequency for score in scores}

    def test_refresh_during_orders_and_mailing_neither_deadlocks_nor_stays_stale(self):
        seen = []

        def confirm_orders(env):
            for order in env["sale.order"].browse(self.order_ids):
                order.action_confirm()
                env.cr.commit()

        def refresh(env):
            company = env.ref("base.main_company")
            for _run in range(4):
                env["ecrm.rfm.score"]._rfm_refresh_company(company)
                env.cr.commit()
                seen.append(self.frequencies(env))

        def send_mailing(env):
            env["mailing.mailing"].browse(self.mailing_id).action_send_mail()

        _results, errors = self.in_threads(confirm_orders, refresh, send_mailing)
        self.assertEqual(errors, [None, None, None])
        # each refresh saw a consistent state: never more orders than exist, never fewer than before
        for before, after in pairwise(seen):
            for partner_id in self.partner_ids:
                self.assertLessEqual(before.get(partner_id, 0), after.get(partner_id, 0))
        self.assertTrue(all(value <= self.ORDERS_EACH for run in seen for value in run.values()))

        def final(env):
            confirmed = env["sale.order"].search_count([("id", "in", self.order_ids), ("state", "=", "sale")])
            env["ecrm.rfm.score"]._rfm_refresh_company(env.ref("base.main_company"))
            mailing = env["mailing.mailing"].browse(self.mailing_id)
            return confirmed, self.frequencies(env), mailing.state, len(mailing.mailing_trace_ids)

        confirmed, frequencies, mailing_state, traces = self.committed(final)
        self.assertEqual(confirmed, len(self.order_ids))
        expected = dict.fromkeys(self.partner_ids, self.ORDERS_EACH)
        self.assertEqual(frequencies, expected, "the next run sees every order")
        self.assertEqual((mailing_state, traces), ("done", self.CUSTOMERS))


@tagged("post_install", "-at_install")
class TestRoutingConcurrency(CommittedCase):
    """Round-robin under real concurrency: workers open cases for one team at
    the same time, each case in a transaction of its own (as the mail gateway,
    the portal and the API do), and retry on a concurrency error as Odoo's
    request loop does (``odoo.service.model.retrying``)."""

    CASES = 100
    WORKERS = 4
    MEMBERS = 3
    MAX_ATTEMPTS = 100  # per case; the retries of a busy team, not a bound that should be reached

    def setUp(self):
        super().setUp()
        self.team_id, self.member_ids, self.partner_id = self.committed(self._create_team)
        # before the base class's cleanup deletes the members' partners (restricted while a user has them)
        self.addCleanup(self.committed, self._delete_team)

    def _create_team(self, env):
        company = env.ref("base.main_company")
        always = env["resource.calendar"].create(
            {
                "name": f"{TAG} 24/7",
                "tz": "UTC",
                "company_id": company.id,
                "attendance_ids": [
                    Command.create(
                        {"name": f"Day {day}", "dayofweek": str(day), "hour_from": 0, "hour_to": 24}
                        | {"day_period": "morning"}
                    )
                    for day in range(7)
                ],
            }
        )
        members = env["res.users"].browse(
            [
                new_test_user(env, login=f"ecrm_rr_member_{n}", groups="ecrm_addon.group_ecrm_user").id
                for n in range(self.MEMBERS)
            ]
        )
        env["resource.resource"].create(
            [
                {"name": user.name, "user_id": user.id, "calendar_id": always.id, "company_id": company.id}
                for user in members
            ]
        )
        team = env["crm.team"].create(
            {
                "name": f"{TAG} round-robin desk",
                "company_id": company.id,
                "ecrm_assignment": "round_robin",
                "member_ids": [Command.set(members.ids)],
            }
        )
        working = team._ecrm_working_members(company, fields.Datetime.now())[team]
        assert working == members, "fixture members are not working now (a public holiday in the database?)"
        customer = env["res.partner"].create({"name": f"{TAG} customer", "email": "reliability.rr@example.com"})
        return team.id, members.ids, customer.id

    def _delete_team(self, env):
        team = env["crm.team"].browse(self.team_id)
        members = env["res.users"].browse(self.member_ids)
        resources = env["resource.resource"].search([("user_id", "in", members.ids)])
        calendar = resources.calendar_id
        env["ecrm.case"].search([("team_id", "=", team.id)]).unlink()
        team.unlink()
        resources.unlink()
        calendar.unlink()
        members.unlink()

    def open_cases(self, worker, count):
        """A worker opening ``count`` cases for the team, one per transaction,
        retrying a case whose transaction met a concurrent one; (retries, most
        attempts one case needed)."""

        def work(env):
            retries = worst = 0
            for n in range(count):
                for attempt in range(1, self.MAX_ATTEMPTS + 1):
                    try:
                        env["ecrm.case"].create(
                            {
                                "subject": f"{TAG} return {worker}-{n}",
                                "partner_id": self.partner_id,
                                "team_id": self.team_id,
                            }
                        )
                        env.cr.commit()
                        worst = max(worst, attempt)
                        break
                    except PG_CONCURRENCY_EXCEPTIONS_TO_RETRY:
                        env.cr.rollback()
                        env.reset()
                        retries += 1
                        time.sleep(random.uniform(0, 0.05))
                else:
                    raise AssertionError(f"worker {worker}: case {n} not created in {self.MAX_ATTEMPTS} attempts")
            return retries, worst

        return work

    @mute_logger("odoo.sql_db")  # the serialization failures the workers retry
    def test_round_robin_is_fair_over_100_cases_opened_concurrently(self):
        share = self.CASES // self.WORKERS
        results, errors = self.in_threads(*(self.open_cases(worker, share) for worker in range(self.WORKERS)))
        self.assertEqual(errors, [None] * self.WORKERS)
        retries = sum(retries for retries, _worst in results)
        worst = max(worst for _retries, worst in results)
        _logger.info(
            "%s cases opened by %s workers: %s retries, at most %s attempts for a case",
            self.CASES,
            self.WORKERS,
            retries,
            worst,
        )
        # The turns come from the team's sequence (no row lock, no write on the
        # team): concurrent routings neither wait for nor conflict with each
        # other. With the team's turn pointer row this took ~280 retries and up
        # to 14 attempts for a case, beyond the 5 of Odoo's request loop.
        self.assertLessEqual(retries, 10)
        self.assertLessEqual(worst, 3)

        def read(env):
            cases = env["ecrm.case"].search([("team_id", "=", self.team_id)], order="id")
            sequence = env["crm.team"].browse(self.team_id)._ecrm_turn_sequence()
            taken = env.execute_query(SQL("SELECT last_value + 1 FROM %s", SQL.identifier(sequence)))[0][0]
            return [case.user_id.id for case in cases], taken

        assignees, taken = self.committed(read)
        self.assertEqual(len(assignees), self.CASES)
        self.assertNotIn(False, assignees, "no case left unassigned")
        # a turn is lost only by an attempt rolled back after its routing
        lost = taken - self.CASES
        self.assertGreaterEqual(lost, 0)
        self.assertLessEqual(lost, retries)
        counts = Counter(assignees)
        self.assertEqual(sorted(counts), sorted(self.member_ids))
        # 100 / 3: each member 33 or 34 cases, give or take the turns lost. Each
        # routing takes the next turn of the sequence, but concurrent
        # transactions insert (and so number) their cases in any order: the
        # former "members take turns in the order of the case ids" held only
        # because the row lock serialised them, and no longer holds.
        self.assertLessEqual(max(counts.values()) - min(counts.values()), 1 + lost, counts)


@tagged("post_install", "-at_install")
class TestSegmentActionConcurrency(CommittedCase):
    """Two RFM runs at once, or the actions of one date run twice at once:
    each segment action runs once per move."""

    def setUp(self):
        super().setUp()
        self.new_ids = self.committed(self._create)

    def _buyers(self, env, names):
        company = env.ref("base.main_company")
        product = env["product.product"].create({"name": f"{TAG} segment", "type": "service", "list_price": 40})
        partners = env["res.partner"].create(
            [{"name": f"{TAG} {name}", "email": f"reliability.{name}@example.com"} for name in names]
        )
        orders = env["sale.order"].create(
            [
                {
                    "partner_id": partner.id,
                    "company_id": company.id,
                    "order_line": [(0, 0, {"product_id": product.id, "product_uom_qty": 1, "price_unit": 40})],
                }
                for partner in partners
            ]
        )
        orders.action_confirm()
        return partners

    def _create(self, env):
        company = env.ref("base.main_company")
        company.write({"ecrm_rfm_source": "sale", "ecrm_rfm_window_days": 365, "ecrm_rfm_date": False})
        self._buyers(env, ["old1", "old2"])
        env["ecrm.rfm.score"]._rfm_refresh_company(company)
        env["ecrm.segment.action"].create(
            [
                {
                    "name": f"{TAG} call {segment.code}",
                    "segment_id": segment.id,
                    "action_type": "activity",
                    "activity_type_id": env.ref("mail.mail_activity_data_call").id,
                    "activity_summary": f"{TAG} call",
                    "activity_user_id": SUPERUSER_ID,
                }
                for segment in env["ecrm.rfm.segment"].search([])
            ]
        )
        # new customers: they enter a segment in the next run of the same date
        return self._buyers(env, ["new1", "new2", "new3"]).ids

    def activities(self, env):
        activities = env["mail.activity"].search([("summary", "=", f"{TAG} call"), ("res_id", "in", self.new_ids)])
        return sorted(activities.mapped("res_id"))

    def test_overlapping_runs_fire_each_action_once_per_move(self):
        def refresh(env):
            return env["ecrm.rfm.score"]._rfm_refresh_company(env.ref("base.main_company"))

        with mute_logger("odoo.sql_db"):
            results, errors = self.in_threads(refresh, refresh)
        # one run refreshes; the other finds the company locked (or, when it
        # started before the first committed, fails to serialise: the cron retries)
        self.assertTrue(all(error is None or isinstance(error, pg_errors.SerializationFailure) for error in errors))
        self.assertIn(True, results)
        self.assertEqual(self.committed(self.activities), sorted(self.new_ids))

        # the actions of the date claimed at the same moment by two workers
        def run_actions(env):
            company = env.ref("base.main_company")
            return env["ecrm.segment.action"]._ecrm_run_segment_actions(company, company.ecrm_rfm_scored_date).ids

        with mute_logger("odoo.sql_db"):
            results, errors = self.in_threads(run_actions, run_actions)
        self.assertTrue(all(error is None or isinstance(error, pg_errors.SerializationFailure) for error in errors))
        self.assertEqual([ids for ids in results if ids], [], "nothing left to claim")
        # and a third run the same day
        self.committed(refresh)
        self.assertEqual(self.committed(self.activities), sorted(self.new_ids))

        def logs(env):
            found = env["ecrm.segment.action.log"].search([("partner_id", "in", self.new_ids)])
            return sorted(found.mapped("partner_id").ids), len(found)

        self.assertEqual(self.committed(logs), (sorted(self.new_ids), len(self.new_ids)))

    def test_two_claims_of_the_same_moves_run_them_once(self):
        """Without the RFM lock around them (the scores committed first), two
        workers claiming the same date's moves: one claims, the other nothing."""

        def run_actions(env):
            company = env.ref("base.main_company")
            return env["ecrm.segment.action"]._ecrm_run_segment_actions(company, company.ecrm_rfm_scored_date).ids

        def archive_then_refresh(env):
            env["ecrm.segment.action"].search([("name", "like", TAG)]).active = False
            env["ecrm.rfm.score"]._rfm_refresh_company(env.ref("base.main_company"))
            env["ecrm.segment.action"].with_context(active_test=False).search([("name", "like", TAG)]).active = True

        self.committed(archive_then_refresh)
        self.assertEqual(self.committed(self.activities), [])
        with mute_logger("odoo.sql_db"):
            results, errors = self.in_threads(run_actions, run_actions)
        self.assertTrue(all(error is None or isinstance(error, pg_errors.SerializationFailure) for error in errors))
        claimed = [ids for ids in results if ids]
        self.assertEqual(len(claimed), 1, "one worker claims the moves")
        self.assertEqual(self.committed(self.activities), sorted(self.new_ids))


@tagged("post_install", "-at_install")
class TestSegmentDeferredConcurrency(CommittedCase):
    """A segment-action email deferred by pressure and due now, retried at the
    same moment by two runs of the hourly deferral cron and the segment actions
    of an RFM run: sent once."""

    def setUp(self):
        super().setUp()
        self.partner_id, self.log_id = self.committed(self._create)

    def _create(self, env):
        company = env.ref("base.main_company")
        partner = env["res.partner"].create({"name": f"{TAG} deferred welcome", "email": "reliability.dw@example.com"})
        template = env["mail.template"].create(
            {
                "name": f"{TAG} deferred welcome",
                "model_id": env["ir.model"]._get_id("res.partner"),
                "subject": f"{TAG} welcome",
                "email_to": "{{ object.email_formatted }}",
                "body_html": "<p>Welcome</p>",
            }
        )
        action = env["ecrm.segment.action"].create(
            {
                "name": f"{TAG} deferred welcome",
                "company_id": company.id,
                "segment_id": env["ecrm.rfm.segment"].search([], limit=1).id,
                "action_type": "template",
                "template_id": template.id,
                "pressure_defer": True,
            }
        )
        now = fields.Datetime.now()
        log = env["ecrm.segment.action.log"].create(
            {
                "action_id": action.id,
                "company_id": company.id,
                "partner_id": partner.id,
                "date": fields.Date.today(),
                "state": "deferred",
                "until": now - timedelta(minutes=5),
                "defer_limit": now + timedelta(days=3),
            }
        )
        return partner.id, log.id

    def sent(self, env):
        mails = env["mail.mail"].search([("subject", "=", f"{TAG} welcome"), ("res_id", "=", self.partner_id)])
        logged = env["ecrm.interaction"].search(
            [("res_model", "=", "ecrm.segment.action"), ("partner_id", "=", self.partner_id)]
        )
        return len(mails), len(logged), env["ecrm.segment.action.log"].browse(self.log_id).state

    def test_cron_and_rfm_run_send_a_due_deferred_email_once(self):
        def cron(env):
            return env["ecrm.pressure.deferral"]._cron_ecrm_retry_deferred()

        def rfm_actions(env):
            # a date without moves: only the due deferred emails
            company = env.ref("base.main_company")
            return env["ecrm.segment.action"]._ecrm_run_segment_actions(company, fields.Date.to_date("2000-01-01"))

        with mute_logger("odoo.sql_db"):
            _results, errors = self.in_threads(cron, cron, rfm_actions)
        # a worker that finds the row updated since its snapshot fails to
        # serialise (the cron retries); none sends a second email
        self.assertTrue(all(error is None or isinstance(error, pg_errors.SerializationFailure) for error in errors))
        self.assertIn(None, errors)
        self.assertEqual(self.committed(self.sent), (1, 1, "done"))
