# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""A base for tests that need committed data and real concurrent transactions.

``TransactionCase`` runs everything in one rolled-back transaction, so it cannot
show two workers racing, nor what a crash leaves committed. These tests commit
in cursors of their own (``registry.cursor()`` outside Odoo's test mode, as
Odoo's own cron tests do), run the code under test in threads with their own
cursors, and put the database back as they found it: rows created after the
test started are deleted, the RFM tables and company settings are restored,
and the row counts of every table they touch are checked afterwards.
"""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from unittest.mock import patch

from odoo import SUPERUSER_ID, api
from odoo.modules.registry import DummyRLock, Registry
from odoo.tests.common import BaseCase, get_db_name
from odoo.tools import SQL

from .common import allow_loopback_webhooks

# Tables whose rows the tests create (directly or through the code under test),
# children before parents: rows with an id above the one seen at the start of
# the test are deleted afterwards, then the counts must equal those before.
CREATED_TABLES = (
    "ecrm_segment_action_log",
    "ecrm_segment_action",
    "mail_notification",
    "mail_mail",
    "mail_tracking_value",
    "mail_message",
    "mail_activity",
    "mail_followers",
    "mailing_trace",
    "ecrm_pressure_deferral",
    "mailing_mailing",
    "utm_source",
    "ecrm_interaction",
    "ecrm_webhook_delivery",
    "ecrm_case_escalation",
    "ecrm_case",
    "ecrm_escalation_level",
    "ecrm_escalation_policy",
    "sale_order_line",
    "sale_order",
    "stock_move_line",
    "stock_move",
    "stock_picking",
    "procurement_group",
    "product_product",
    "product_template",
    "mail_template",
    "res_partner",
    "ir_cron_trigger",
)
# Tables the RFM refresh rewrites for a whole company (and the log of touched
# customers it consumes): saved and restored whole, with the company's RFM
# settings and the date and settings its stored rows were computed for.
RESTORED_TABLES = ("ecrm_rfm_snapshot", "ecrm_rfm_migration", "ecrm_rfm_score", "ecrm_rfm_touched")
RESTORED_COMPANY_COLUMNS = (
    "ecrm_rfm_source",
    "ecrm_rfm_window_days",
    "ecrm_rfm_date",
    "ecrm_rfm_scored_date",
    "ecrm_rfm_scored_key",
)


def _identifiers(names):
    return SQL(", ").join(SQL.identifier(name) for name in names)


class WebhookReceiver:
    """A throwaway HTTP server on loopback that records the JSON it receives."""

    def __init__(self, status=200):
        self.bodies = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                with receiver.lock:
                    receiver.bodies.append(json.loads(self.rfile.read(length)))
                self.send_response(status)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, name="ecrm-test-webhook", daemon=True)

    @property
    def url(self):
        return f"http://127.0.0.1:{self.server.server_port}/hook"

    def start(self, test):
        allow_loopback_webhooks(test)
        self.thread.start()
        test.addCleanup(self.thread.join, 10)
        test.addCleanup(self.server.server_close)
        test.addCleanup(self.server.shutdown)
        return self

    def hits(self):
        """{(case id, level name): number of POSTs}."""
        counts = {}
        with self.lock:
            for body in self.bodies:
                key = (body["case"]["id"], body["level"])
                counts[key] = counts.get(key, 0) + 1
        return counts


class CommittedCase(BaseCase):
    """Commits for real; cleans up after itself (see the module docstring)."""

    THREAD_TIMEOUT = 120  # seconds: a thread still running after this is a hang (deadlock, lost wake-up)

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.registry = Registry(get_db_name())

    def setUp(self):
        super().setUp()
        if self.registry.test_cr is not None:
            self.skipTest("needs real cursors, the registry is in test mode")
        with self.registry.cursor() as cr:
            self._counts_before = self._counts(cr)
            self._max_ids = {table: self._max_id(cr, table) for table in CREATED_TABLES}
            self._saved = {table: self._rows(cr, table) for table in RESTORED_TABLES}
            cr.execute(SQL("SELECT id, %s FROM res_company", _identifiers(RESTORED_COMPANY_COLUMNS)))
            self._saved_companies = cr.fetchall()
        # cleanups run last-in first-out: the check runs after the cleanup
        self.addCleanup(self._check_counts)
        self.addCleanup(self._restore)

    # --- environment helpers -------------------------------------------------

    def committed(self, fn):
        """Run ``fn(env)`` as superuser in a cursor of its own and commit; returns its result."""
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            return fn(env)

    def in_threads(self, *functions):
        """Run each ``fn(env)`` in its own thread and cursor, released together.

        Each thread commits when its function returns (the code under test may
        commit more often itself: these threads are not marked ``testing``).
        Returns (results, errors) in the order of the functions; fails when a
        thread is still running after THREAD_TIMEOUT seconds.

        Odoo's test runner holds the registries' lock for the whole run (the
        server loads the registry under it), which an environment made in
        another thread waits for; its test mode swaps it for a dummy lock, and
        so do we while the threads run: they only look the loaded registry up.
        """
        barrier = threading.Barrier(len(functions))
        results = [None] * len(functions)
        errors = [None] * len(functions)

        def work(index, fn):
            try:
                barrier.wait(timeout=30)
                results[index] = self.committed(fn)
            except Exception as error:
                errors[index] = error

        threads = [
            threading.Thread(target=work, args=(index, fn), name=f"ecrm-test-worker-{index}", daemon=True)
            for index, fn in enumerate(functions)
        ]
        with patch.object(Registry, "_lock", DummyRLock()):
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(self.THREAD_TIMEOUT)
        stuck = [thread.name for thread in threads if thread.is_alive()]
        self.assertFalse(stuck, f"threads still running after {self.THREAD_TIMEOUT} s (deadlock?)")
        return results, errors

    # --- cleanup ---------------------------------------------------------------

    @staticmethod
    def _max_id(cr, table):
        cr.execute(SQL("SELECT COALESCE(MAX(id), 0) FROM %s", SQL.identifier(table)))
        return cr.fetchone()[0]

    @staticmethod
    def _rows(cr, table):
        cr.execute(SQL("SELECT * FROM %s", SQL.identifier(table)))
        return [desc[0] for desc in cr.description], cr.fetchall()

    @staticmethod
    def _counts(cr):
        counts = {}
        for table in (*CREATED_TABLES, *RESTORED_TABLES):
            cr.execute(SQL("SELECT count(*) FROM %s", SQL.identifier(table)))
            counts[table] = cr.fetchone()[0]
        return counts

    def _restore(self):
        with self.registry.cursor() as cr:
            cr.execute(
                "UPDATE stock_picking SET ecrm_late_case_id = NULL WHERE ecrm_late_case_id > %s",
                [self._max_ids["ecrm_case"]],
            )
            for table in CREATED_TABLES:
                cr.execute(SQL("DELETE FROM %s WHERE id > %s", SQL.identifier(table), self._max_ids[table]))
            for table, (columns, rows) in self._saved.items():
                cr.execute(SQL("DELETE FROM %s", SQL.identifier(table)))
                for row in rows:
                    cr.execute(
                        SQL(
                            "INSERT INTO %s (%s) VALUES (%s)",
                            SQL.identifier(table),
                            _identifiers(columns),
                            SQL(", ").join(SQL("%s", value) for value in row),
                        )
                    )
            for company_id, *values in self._saved_companies:
                assignments = SQL(", ").join(
                    SQL("%s = %s", SQL.identifier(column), value)
                    for column, value in zip(RESTORED_COMPANY_COLUMNS, values, strict=True)
                )
                cr.execute(SQL("UPDATE res_company SET %s WHERE id = %s", assignments, company_id))
        self.registry.clear_cache()

    def _check_counts(self):
        with self.registry.cursor() as cr:
            self.assertEqual(self._counts(cr), self._counts_before, "the test left rows behind")
