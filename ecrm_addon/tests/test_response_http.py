# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from datetime import timedelta
from urllib.parse import urlencode

from odoo.tests import HttpCase, tagged

from .test_responses import NOW, ResponseCase


@tagged("post_install", "-at_install")
class TestResponseUnsubscribeHttp(ResponseCase, HttpCase):
    """The unsubscribe links of a real mailing's email and SMS, opened as the
    recipient would: the trace is marked and one unsubscribe response folded,
    however many times the link is followed."""

    def _unsubscribes(self, partner):
        return self._responses(partner).filtered(lambda response: response.ecrm_response == "unsubscribe")

    def test_email_unsubscribe_link_is_folded_once(self):
        mailing = self._mailing()
        trace = self._send(mailing, self.carol | self.bob, NOW - timedelta(days=1))
        carol_trace = trace.filtered(lambda t: t.res_id == self.carol.id)
        token = mailing._generate_mailing_recipient_token(self.carol.id, self.carol.email)
        query = urlencode({"document_id": self.carol.id, "email": self.carol.email, "hash_token": token})
        for _attempt in range(2):
            page = self.url_open(f"/mailing/{mailing.id}/unsubscribe?{query}")
            self.assertEqual(page.status_code, 200)
        self.env.invalidate_all()  # the requests wrote through their own environment
        self.assertTrue(self.env["mail.blacklist"].search([("email", "=", self.carol.email)]), "Odoo's own effect")
        self.assertTrue(carol_trace.ecrm_unsubscribed_datetime)
        unsubscribes = self._unsubscribes(self.carol | self.bob)
        self.assertEqual(
            [(r.partner_id, r.channel, r.res_id, r.date) for r in unsubscribes],
            [(self.carol, "email", mailing.id, carol_trace.ecrm_unsubscribed_datetime)],
        )

    def test_email_unsubscribe_with_a_forged_token_marks_nothing(self):
        mailing = self._mailing()
        trace = self._send(mailing, self.carol, NOW - timedelta(days=1))
        query = urlencode({"document_id": self.carol.id, "email": self.carol.email, "hash_token": "forged"})
        self.url_open(f"/mailing/{mailing.id}/unsubscribe?{query}")
        self.env.invalidate_all()
        self.assertFalse(trace.ecrm_unsubscribed_datetime)
        self.assertFalse(self._unsubscribes(self.carol))

    def test_sms_unsubscribe_is_folded_once(self):
        sms = self._mailing("Flash SMS", mailing_type="sms")
        traces = self._send(sms, self.alice, NOW - timedelta(days=1))
        self.assertEqual(traces.sms_number, "+32470112244")
        self.assertTrue(traces.sms_code)
        url = f"/sms/{sms.id}/unsubscribe/{traces.sms_code}"
        for _attempt in range(2):
            page = self.url_open(f"{url}?{urlencode({'sms_number': '+32 470 11 22 44'})}")
            self.assertEqual(page.status_code, 200)
        self.env.invalidate_all()  # the requests wrote through their own environment
        self.assertTrue(self.env["phone.blacklist"].search([("number", "=", "+32470112244")]), "Odoo's own effect")
        self.assertTrue(traces.ecrm_unsubscribed_datetime)
        self.assertEqual(
            [(r.partner_id, r.channel, r.res_id, r.date) for r in self._unsubscribes(self.alice)],
            [(self.alice, "sms", sms.id, traces.ecrm_unsubscribed_datetime)],
        )

    def test_sms_unsubscribe_with_another_number_marks_nothing(self):
        sms = self._mailing("Flash SMS", mailing_type="sms")
        traces = self._send(sms, self.alice, NOW - timedelta(days=1))
        url = f"/sms/{sms.id}/unsubscribe/{traces.sms_code}?{urlencode({'sms_number': '+32 470 99 99 99'})}"
        self.assertEqual(self.url_open(url).status_code, 200)
        self.env.invalidate_all()
        self.assertFalse(traces.ecrm_unsubscribed_datetime)
        self.assertFalse(self._unsubscribes(self.alice))
