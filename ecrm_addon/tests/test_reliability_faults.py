# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from datetime import timedelta
from unittest.mock import patch

from odoo import fields
from odoo.tests import tagged

from .committed import CommittedCase
from .test_reliability_concurrency import CASES, TAG, EscalationFixture


class InjectedCrash(RuntimeError):
    pass


def crash_after(model_class, method_name, limit, batch_arg=None):
    """Patch one of our batch methods so that the run crashes once ``limit``
    records went through it: the records before the limit are processed, then
    the exception is raised (mid-batch). The batch is the recordset the method
    is called on, or its positional argument number ``batch_arg``."""
    original = getattr(model_class, method_name)
    processed = []

    def crashing(self, *args, **kwargs):
        batch = self if batch_arg is None else args[batch_arg]
        room = max(0, limit - len(processed))
        if batch_arg is None:
            result = original(batch[:room], *args, **kwargs)
        else:
            args = (*args[:batch_arg], batch[:room], *args[batch_arg + 1 :])
            result = original(self, *args, **kwargs)
        processed.extend(batch[:room].ids)
        if len(batch) > room:
            raise InjectedCrash(f"injected crash after {limit} records")
        return result

    return patch.object(model_class, method_name, crashing)


@tagged("post_install", "-at_install")
class TestEscalationCrash(EscalationFixture):
    WITH_TEMPLATE = True
    BATCH = 4
    CRASH_AFTER = 6  # the second batch crashes after two of its four cases

    def escalated_cases(self):
        return {case_id for case_id, _level, _state, _attempts in self.escalation_rows()}

    def test_crash_mid_batch_keeps_committed_batches_and_next_run_does_the_rest_once(self):
        def cron(env):
            return env["ecrm.case"]._cron_ecrm_escalate(batch_size=self.BATCH)

        with crash_after(self.registry["ecrm.case"], "_ecrm_escalate", self.CRASH_AFTER):
            _results, errors = self.in_threads(cron)
        self.assertIsInstance(errors[0], InjectedCrash)
        self.assertEqual(len(self.escalated_cases()), self.BATCH, "the first batch stays committed, the second not")
        self.assertEqual(sum(self.messages_per_case("We are late on your case").values()), self.BATCH)

        results, errors = self.in_threads(cron)
        self.assertEqual(errors, [None])
        self.assertEqual(results, [CASES - self.BATCH], "the next run escalates only what was left")
        self.assert_each_level_fired_once()
        self.assertEqual(
            self.messages_per_case("We are late on your case"),
            dict.fromkeys(self.case_ids, 1),
            "one email to the customer per case",
        )

        def todos(env):
            return env["mail.activity"].search_count([("res_model", "=", "ecrm.case"), ("res_id", "in", self.case_ids)])

        self.assertEqual(self.committed(todos), CASES, "one to-do per case")


@tagged("post_install", "-at_install")
class TestLateDeliveryCrash(CommittedCase):
    PICKINGS = 6
    BATCH = 2
    CRASH_AFTER = 3

    def setUp(self):
        super().setUp()
        self.picking_ids = self.committed(self._create_pickings)

    def _create_pickings(self, env):
        company = env.ref("base.main_company")
        warehouse = env["stock.warehouse"].search([("company_id", "=", company.id)], limit=1)
        picking_type = warehouse.out_type_id
        customers = env.ref("stock.stock_location_customers")
        product = env["product.product"].create({"name": f"{TAG} chair", "type": "consu", "list_price": 50})
        partner = env["res.partner"].create({"name": f"{TAG} waiting customer", "email": "wait@example.com"})
        pickings = env["stock.picking"].create(
            [
                {
                    "picking_type_id": picking_type.id,
                    "partner_id": partner.id,
                    "location_id": picking_type.default_location_src_id.id,
                    "location_dest_id": customers.id,
                    "move_ids": [
                        (
                            0,
                            0,
                            {
                                "name": product.name,
                                "product_id": product.id,
                                "product_uom_qty": 1,
                                "product_uom": product.uom_id.id,
                                "location_id": picking_type.default_location_src_id.id,
                                "location_dest_id": customers.id,
                            },
                        )
                    ],
                }
                for _n in range(self.PICKINGS)
            ]
        )
        pickings.action_confirm()
        pickings.scheduled_date = fields.Datetime.now() - timedelta(days=5)
        return pickings.ids

    def late_cases(self, env):
        """{picking id: number of cases on it} for every delivery with a case."""
        env.cr.execute("SELECT picking_id, count(*) FROM ecrm_case WHERE picking_id IS NOT NULL GROUP BY picking_id")
        return dict(env.cr.fetchall())

    def test_crash_mid_batch_keeps_committed_cases_and_next_run_opens_the_rest_once(self):
        def pending(env):
            return env["stock.picking"].search_count(
                [
                    ("picking_type_code", "=", "outgoing"),
                    ("state", "in", ("confirmed", "waiting", "assigned")),
                    ("scheduled_date", "<", fields.Datetime.now() - timedelta(hours=24)),
                    ("partner_id", "!=", False),
                    ("ecrm_late_case_id", "=", False),
                ]
            )

        late = self.committed(pending)  # ours and any other late delivery of the database
        self.assertGreaterEqual(late, self.PICKINGS)
        before = self.committed(self.late_cases)

        def cron(env):
            return env["ecrm.case"]._cron_ecrm_late_deliveries(batch_size=self.BATCH)

        with crash_after(self.registry["ecrm.case"], "_ecrm_open_late_delivery_cases", self.CRASH_AFTER, batch_arg=0):
            _results, errors = self.in_threads(cron)
        self.assertIsInstance(errors[0], InjectedCrash)
        after_crash = self.committed(self.late_cases)
        self.assertEqual(sum(after_crash.values()) - sum(before.values()), self.BATCH, "one committed slice")
        self.assertEqual(self.committed(pending), late - self.BATCH)

        results, errors = self.in_threads(cron)
        self.assertEqual(errors, [None])
        self.assertEqual(results, [late - self.BATCH])
        cases = self.committed(self.late_cases)
        self.assertEqual(set(cases.values()), {1}, "one case per delivery, never two")
        self.assertTrue(set(self.picking_ids) <= set(cases))
        self.assertEqual(self.committed(pending), 0)


@tagged("post_install", "-at_install")
class TestDeferralCrash(CommittedCase):
    """Two mailings with three deferred recipients each, due now; the retry
    cron crashes after four recipients (mid second mailing)."""

    MAILINGS = 2
    EACH = 3
    CRASH_AFTER = 4

    def setUp(self):
        super().setUp()
        self.mailing_ids, self.partner_ids = self.committed(self._create)

    def _create(self, env):
        partners = env["res.partner"].create(
            [{"name": f"{TAG} deferred {n}", "email": f"reliability.deferred.{n}@example.com"} for n in range(6)]
        )
        mailings = env["mailing.mailing"]
        for index in range(self.MAILINGS):
            chunk = partners[index * self.EACH : (index + 1) * self.EACH]
            mailing = env["mailing.mailing"].create(
                {
                    "subject": f"{TAG} deferred news {index}",
                    "body_html": "<p>News</p>",
                    "mailing_model_id": env["ir.model"]._get_id("res.partner"),
                    "mailing_domain": repr([("id", "in", chunk.ids)]),
                    "ecrm_pressure_defer": True,
                    "ecrm_pressure_defer_until": fields.Datetime.now() + timedelta(days=3),
                }
            )
            env["ecrm.pressure.deferral"].create(
                [
                    {
                        "mailing_id": mailing.id,
                        "res_model": "res.partner",
                        "res_id": partner.id,
                        "partner_id": partner.id,
                        "until": fields.Datetime.now() - timedelta(minutes=5),
                    }
                    for partner in chunk
                ]
            )
            mailings |= mailing
        return mailings.ids, partners.ids

    def traces_per_recipient(self, env):
        traces = env["mailing.trace"].search([("mass_mailing_id", "in", self.mailing_ids)])
        counts = {}
        for trace in traces:
            key = (trace.mass_mailing_id.id, trace.res_id)
            counts[key] = counts.get(key, 0) + 1
        return counts

    def states(self, env):
        deferrals = env["ecrm.pressure.deferral"].search([("mailing_id", "in", self.mailing_ids)])
        return sorted(deferrals.mapped("state"))

    def test_crash_mid_batch_sends_each_deferred_recipient_once(self):
        def cron(env):
            return env["ecrm.pressure.deferral"]._cron_ecrm_retry_deferred()

        with crash_after(self.registry["ecrm.pressure.deferral"], "_ecrm_retry", self.CRASH_AFTER):
            _results, errors = self.in_threads(cron)
        self.assertIsInstance(errors[0], InjectedCrash)
        after_crash = self.committed(self.traces_per_recipient)
        self.assertTrue(set(after_crash.values()) <= {1})
        self.assertGreaterEqual(len(after_crash), self.EACH, "the first mailing's slice stays committed")
        self.assertIn("waiting", self.committed(self.states))

        _results, errors = self.in_threads(cron)
        self.assertEqual(errors, [None])
        traces = self.committed(self.traces_per_recipient)
        expected = {
            (mailing_id, partner_id): 1
            for index, mailing_id in enumerate(self.mailing_ids)
            for partner_id in self.partner_ids[index * self.EACH : (index + 1) * self.EACH]
        }
        self.assertEqual(traces, expected, "every deferred recipient gets exactly one trace (one email)")
        self.assertEqual(self.committed(self.states), ["done"] * (self.MAILINGS * self.EACH))
