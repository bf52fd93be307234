# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo.addons.mail.tools.discuss import Store
from odoo.tests import TransactionCase, new_test_user, tagged


@tagged("post_install", "-at_install")
class TestPartnerRead(TransactionCase):
    """Reading a partner (form, kanban, chatter) must never write: the web
    client reads in read-only transactions, where a pending write fails."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.user = new_test_user(
            cls.env,
            login="ecrm_read_user",
            groups="ecrm_addon.group_ecrm_user,base.group_partner_manager,sales_team.group_sale_salesman,"
            "account.group_account_invoice",
        )
        cls.customer = cls.env["res.partner"].create(
            {"name": "Read Only Customer", "email": "read.only@example.com", "customer_rank": 1}
        )

    def _view_specification(self, view_type):
        Partner = self.env["res.partner"].with_user(self.user)
        views = Partner.get_views([(False, view_type)])
        return {fname: {} for fname in views["models"]["res.partner"]["fields"]}

    def _assert_nothing_to_write(self):
        dirty = [str(field) for field in self.env.cache.get_dirty_fields()]
        self.assertFalse(dirty, "reading a partner left pending writes")
        with self.assertQueryCount(0):
            self.env.flush_all()

    def test_reading_partner_form_writes_nothing(self):
        self.env.flush_all()
        partner = self.customer.with_user(self.user)
        partner.invalidate_recordset()
        partner.web_read(self._view_specification("form"))
        self._assert_nothing_to_write()

    def test_reading_partner_kanban_writes_nothing(self):
        self.env.flush_all()
        self.env.invalidate_all()
        Partner = self.env["res.partner"].with_user(self.user)
        Partner.web_search_read([("id", "=", self.customer.id)], self._view_specification("kanban"))
        self._assert_nothing_to_write()

    def test_reading_partner_chatter_writes_nothing(self):
        self.env.flush_all()
        self.env.invalidate_all()
        partner = self.customer.with_user(self.user)
        partner._thread_to_store(
            Store(), request_list=["activities", "attachments", "followers", "scheduledMessages", "suggestedRecipients"]
        )
        self._assert_nothing_to_write()
