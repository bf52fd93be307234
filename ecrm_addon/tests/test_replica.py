# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Read-only entry points: what Odoo 18 may send to a replica (``db_replica_host``).

Odoo runs a ``readonly`` route, and ``/web/dataset/call_kw`` or ``call_button``
on a method marked ``@api.readonly``, on a read-only cursor (the replica when
there is one); a write there raises ``ReadOnlySqlTransaction`` and Odoo logs a
warning and runs the call again on the primary. These tests run the addon's
read entry points on a read-only cursor, where any write fails, and through
``call_kw`` with no fall-back to the primary.
"""

import json

from odoo import api
from odoo.tests import HttpCase, new_test_user, tagged

# (model, method) the addon marks ``@api.readonly``: links that only read
READONLY_METHODS = [
    ("ecrm.dashboard", "action_open_cases"),
    ("ecrm.dashboard", "action_open_overdue_cases"),
    ("ecrm.dashboard", "action_open_unassigned_cases"),
    ("ecrm.dashboard", "action_open_my_cases"),
    ("ecrm.dashboard", "action_open_case_analysis"),
    ("ecrm.dashboard", "action_open_csat_analysis"),
    ("ecrm.dashboard", "action_open_rfm_analysis"),
    ("ecrm.dashboard", "action_open_customers"),
    ("ecrm.dashboard", "action_open_duplicates"),
    ("ecrm.dashboard", "action_open_pressure_exclusions"),
    ("res.partner", "action_ecrm_orders"),
    ("res.partner", "action_ecrm_open_orders"),
    ("res.partner", "action_ecrm_pending_deliveries"),
    ("res.partner", "action_ecrm_unpaid_invoices"),
    ("res.partner", "action_ecrm_interactions"),
]
# buttons that write: they must stay on the primary
WRITE_METHODS = [
    ("ecrm.dashboard", "action_ecrm_compute_rfm"),
    ("ecrm.dashboard", "action_scan_duplicates"),
    ("mailing.mailing", "action_ecrm_pressure_simulate"),
    ("ecrm.rfm.score", "action_ecrm_compute_rfm"),
]
# read-only models read by the analyses (pivot and graph: ``web_read_group``)
ANALYSES = {
    "ecrm.case.report": ["case_count:sum"],
    "ecrm.pressure.report": ["__count"],
    "ecrm.rfm.score": ["__count"],
    "ecrm.clv.score": ["__count"],
}


def routed_readonly(registry, model, method):
    """What ``web.controllers.dataset.DataSet._call_kw_readonly`` decides."""
    for cls in registry[model].mro():
        function = getattr(cls, method, None)
        if function is not None and hasattr(function, "_readonly"):
            return function._readonly
    return False


@tagged("post_install", "-at_install")
class TestReplicaReadonly(HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.manager = new_test_user(
            cls.env, "ecrm_replica_manager", groups="ecrm_addon.group_ecrm_manager,base.group_partner_manager"
        )
        cls.customer = cls.env["res.partner"].create({"name": "Replica Customer", "email": "replica@example.com"})
        cls.tiles = cls.env["ecrm.dashboard"].search([])

    def test_marked_methods_are_routed_readonly(self):
        for model, method in READONLY_METHODS:
            with self.subTest(model=model, method=method):
                self.assertTrue(routed_readonly(self.registry, model, method))
        for model, method in WRITE_METHODS:
            with self.subTest(model=model, method=method):
                self.assertFalse(routed_readonly(self.registry, model, method))

    def test_reads_succeed_on_a_readonly_cursor(self):
        """Every read entry point runs on a read-only transaction: a write would fail."""
        self.assertTrue(self.tiles)
        with self.registry.cursor(readonly=True) as cr:
            cr.execute("SHOW transaction_read_only")
            self.assertEqual(cr.fetchone()[0], "on")
            env = api.Environment(cr, self.manager.id, {})
            tiles = env["ecrm.dashboard"].browse(self.tiles.ids)
            for model, method in READONLY_METHODS:
                records = tiles[:1] if model == "ecrm.dashboard" else env["res.partner"].browse(self.customer.id)
                with self.subTest(method=method):
                    self.assertEqual(getattr(records, method)()["type"], "ir.actions.act_window")
            # the Overview's figures, as its kanban reads them
            figures = tiles.web_search_read([], {"kanban_dashboard": {}, "kanban_dashboard_graph": {}})
            self.assertEqual(figures["length"], env["ecrm.dashboard"].search_count([]))
            self.assertTrue(all(json.loads(tile["kanban_dashboard"]) for tile in figures["records"]))
            # the customer 360's figures, as its form reads them
            partner = env["res.partner"].browse(self.customer.id)
            fields_360 = partner._ecrm_360_figure_fields()
            self.assertTrue(fields_360)
            self.assertEqual(partner.web_read({name: {} for name in fields_360})[0]["id"], self.customer.id)
            for model, aggregates in ANALYSES.items():
                with self.subTest(model=model):
                    env[model].web_read_group([], aggregates, ["company_id"])
            env.flush_all()
            cr.execute("SHOW transaction_read_only")
            self.assertEqual(cr.fetchone()[0], "on")

    def test_call_kw_runs_without_fall_back_to_the_primary(self):
        """Through ``/web/dataset/call_kw`` and ``call_button``, as the web client calls them: Odoo
        opens a read-only cursor and would log "retrying with a read/write cursor" on a write."""
        self.authenticate("ecrm_replica_manager", "ecrm_replica_manager")
        calls = [
            ("call_kw", "ecrm.dashboard", "web_search_read", [[]], {"specification": {"kanban_dashboard": {}}}),
            (
                "call_kw",
                "res.partner",
                "web_read",
                [[self.customer.id]],
                {
                    "specification": {name: {} for name in self.env["res.partner"]._ecrm_360_figure_fields()},
                },
            ),
            ("call_button", "ecrm.dashboard", "action_open_csat_analysis", [self.tiles[:1].ids], {}),
            ("call_button", "res.partner", "action_ecrm_orders", [[self.customer.id]], {}),
        ]
        for route, model, method, args, kwargs in calls:
            with self.subTest(method=method), self.assertNoLogs("odoo.http", "WARNING"):
                response = self.url_open(
                    f"/web/dataset/{route}",
                    data=json.dumps({"params": {"model": model, "method": method, "args": args, "kwargs": kwargs}}),
                    headers={"Content-Type": "application/json"},
                )
                self.assertEqual(response.status_code, 200)
                self.assertNotIn("error", response.json())
