# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import re
from datetime import timedelta
from urllib.parse import urlencode

from freezegun import freeze_time

from odoo import tools
from odoo.exceptions import AccessError, ValidationError
from odoo.tests import HttpCase, new_test_user, tagged

from ..models.res_partner_consent import CONSENT_TOKEN_SCOPE
from .test_pressure_engine import NOW, PressureCase
from .test_pressure_mailing import PressureMailingCase

CONFIRM_LINK = re.compile(r'href="http[^"]*/my/consent/confirm\?token=([^"&]+)"')


@tagged("post_install", "-at_install")
class TestPreferenceLimits(PressureCase):
    """The customer's own limits, in the same engine as the shop's rules."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.personal = cls.env.ref("ecrm_addon.ecrm_pressure_rule_customer")

    def test_weekly_maximum_blocks_at_the_count(self):
        self.alice.ecrm_max_week_email = 2
        self._touch(self.alice, NOW - timedelta(days=1))
        self.assertFalse(self._blocked(self.alice), "the second email of the week is allowed")
        self._touch(self.alice, NOW - timedelta(days=6, hours=23))
        verdict = self.Rule._ecrm_check(self.company, "email", "marketing", partner_ids=self.alice.ids, now=NOW)
        self.assertEqual(verdict[self.alice.id].rule_id, self.personal.id, "the third is not")
        self.assertEqual(verdict[self.alice.id].blocked_until, NOW + timedelta(hours=1))

    def test_a_week_old_touch_no_longer_counts(self):
        self.alice.ecrm_max_week_email = 1
        self._touch(self.alice, NOW - timedelta(days=7))
        self.assertFalse(self._blocked(self.alice))
        self._touch(self.alice, NOW - timedelta(days=7, seconds=-1))
        self.assertTrue(self._blocked(self.alice))

    def test_only_its_channel_and_marketing_count(self):
        self.alice.ecrm_max_week_sms = 1
        self._touch(self.alice, NOW - timedelta(days=1))  # an email
        self._touch(self.alice, NOW - timedelta(days=1), channel="sms", category="transactional")
        self.assertFalse(self._blocked(self.alice, channel="sms"))
        self._touch(self.alice, NOW - timedelta(days=1), channel="sms")
        self.assertTrue(self._blocked(self.alice, channel="sms"))
        self.assertFalse(self._blocked(self.alice, channel="sms", category="transactional"), "never blocked")

    def test_never_looser_than_the_shop(self):
        shop = self.Rule.create({"name": "Shop 1/30d", "max_count": 1, "period_days": 30})
        self.alice.ecrm_max_week_email = 5
        self._touch(self.alice, NOW - timedelta(days=2))
        self.assertEqual(self._blocked(self.alice), {self.alice.id: shop.id})

    def test_channel_off_blocks_for_good(self):
        self.alice.ecrm_no_sms = True
        verdict = self.Rule._ecrm_check(self.company, "sms", "marketing", partner_ids=self.alice.ids, now=NOW)
        self.assertEqual(verdict[self.alice.id].rule_id, self.personal.id)
        self.assertEqual(verdict[self.alice.id].blocked_until.year, 9999)
        self.assertFalse(self._blocked(self.alice, channel="email"), "emails are another channel")

    def test_a_contact_preference_holds_its_customer(self):
        shop = self.env["res.partner"].create({"name": "Pref Shop", "is_company": True})
        buyer = self.env["res.partner"].create({"name": "Buyer", "parent_id": shop.id, "ecrm_no_phone": True})
        self.assertEqual(set(self._blocked(shop, channel="phone")), {shop.id})
        self.assertTrue(buyer)

    def test_customers_without_preferences_cost_no_extra_query(self):
        self.Rule.create({"name": "One", "max_count": 1})
        partners = self.env["res.partner"].create([{"name": f"P {i}", "email": f"p{i}@example.com"} for i in range(10)])
        self.env.flush_all()
        # the rules' search, then the verdicts (one statement, its planner settings put back after)
        with self.assertQueryCount(3):
            self.Rule._ecrm_check(self.company, "email", "marketing", keys=partners.mapped("email_normalized"), now=NOW)

    def test_the_personal_rule_stays_archived(self):
        with self.assertRaisesRegex(ValidationError, "stays archived"):
            self.personal.active = True

    def test_negative_weekly_maximum_is_refused(self):
        with self.assertRaisesRegex(ValidationError, "cannot be negative"):
            self.alice.ecrm_max_week_sms = -1


@tagged("post_install", "-at_install")
class TestPreferenceMailing(PressureMailingCase):
    """A mailing meets the customer's own limit as it meets a rule."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.email_rule.active = cls.sms_rule.active = False
        cls.personal = cls.env.ref("ecrm_addon.ecrm_pressure_rule_customer")
        cls.alice.ecrm_max_week_email = 1  # mailed an hour ago

    def test_trace_names_the_customer_own_limit(self):
        mailing = self._partner_mailing(self.alice | self.bob)
        mailing.action_send_mail()
        traces = self._traces(mailing)
        alice = traces.filtered(lambda t: t.res_id == self.alice.id)
        self.assertEqual((alice.failure_type, alice.ecrm_pressure_rule_id), ("ecrm_pressure", self.personal))
        self.assertIn(self.personal.name, alice.failure_reason)
        self.assertNotEqual(traces.filtered(lambda t: t.res_id == self.bob.id).trace_status, "cancel")

    def test_simulation_counts_it_on_its_line(self):
        mailing = self._partner_mailing(self.alice | self.bob)
        action = mailing.action_ecrm_pressure_simulate()
        simulation = self.env["ecrm.pressure.simulation"].browse(action["res_id"])
        self.assertEqual({line.rule_id: line.excluded_count for line in simulation.line_ids}, {self.personal: 1})

    def test_weekly_maximum_defers_channel_off_excludes(self):
        self.bob.ecrm_no_sms = True
        self.bob.mobile = "+32 470 99 88 77"
        mailing = self._partner_mailing(
            self.alice, ecrm_pressure_defer=True, ecrm_pressure_defer_until=self.now + timedelta(days=10)
        )
        mailing.action_send_mail()
        self.assertEqual(mailing.ecrm_pressure_deferral_ids.rule_id, self.personal, "frees within the week")
        sms = self._partner_mailing(
            self.bob,
            mailing_type="sms",
            body_plaintext="Sale",
            ecrm_pressure_defer=True,
            ecrm_pressure_defer_until=self.now + timedelta(days=10),
        )
        sms.action_send_mail()
        trace = self._traces(sms)
        self.assertEqual((trace.failure_type, trace.ecrm_pressure_rule_id), ("ecrm_pressure", self.personal))
        self.assertIn("until it changes", trace.failure_reason)
        self.assertFalse(sms.ecrm_pressure_deferral_ids)

    def test_override_sends_anyway(self):
        mailing = self._partner_mailing(self.alice, ecrm_ignore_pressure=True)
        mailing.action_send_mail()
        self.assertNotEqual(self._traces(mailing).trace_status, "cancel")


@tagged("post_install", "-at_install")
class TestPreferenceCentre(HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.portal = new_test_user(
            cls.env, login="ecrm_pref_portal", password="ecrm_pref_portal", groups="base.group_portal"
        )
        cls.partner = cls.portal.partner_id
        cls.partner.email = "prefs@shop.es"
        cls.other = cls.env["res.partner"].create({"name": "Other Prefs", "email": "other.prefs@shop.es"})
        cls.news, cls.offers = cls.env["mailing.list"].create(
            [{"name": "Shop news", "is_public": True}, {"name": "Weekly offers", "is_public": True}]
        )
        cls.private = cls.env["mailing.list"].create({"name": "VIP only", "is_public": False})

    def _csrf(self, page):
        return page.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]

    def _post(self, url="/my/preferences", **data):
        page = self.url_open(url)
        return self.url_open("/my/preferences", data={"csrf_token": self._csrf(page), **data})

    def _subscribed(self, email):
        return self.env["res.partner"]._ecrm_topics_subscribed(email)

    def _prove(self):
        self.partner.sudo().ecrm_consent_proven_email = "prefs@shop.es"

    def test_page_shows_public_topics_only_with_breadcrumbs(self):
        self.authenticate("ecrm_pref_portal", "ecrm_pref_portal")
        page = self.url_open("/my/preferences")
        self.assertEqual(page.status_code, 200)
        self.assertIn("Shop news", page.text)
        self.assertNotIn("VIP only", page.text)
        self.assertIn('<li class="breadcrumb-item active">Preference Centre</li>', page.text)
        self.assertIn("/my/preferences", self.url_open("/my").text)

    def test_saving_sets_channels_maxima_and_preferred_channel(self):
        self.authenticate("ecrm_pref_portal", "ecrm_pref_portal")
        response = self._post(
            phone_on="1",
            max_week_email="2",
            max_week_sms="0",
            max_week_phone="1",
            preferred_channel="sms",
            partner_id=self.other.id,
        )
        self.assertEqual(response.status_code, 200)
        self.assertIn("Your preferences are saved.", response.text)
        self.partner.invalidate_recordset()
        self.assertEqual(
            (self.partner.ecrm_no_sms, self.partner.ecrm_no_phone, self.partner.ecrm_max_week_email),
            (True, False, 2),
        )
        self.assertEqual((self.partner.ecrm_max_week_phone, self.partner.ecrm_preferred_channel), (1, "sms"))
        self.assertFalse(self.other.ecrm_no_sms, "a partner id in the request is ignored")

    def test_bad_values_are_refused_and_nothing_changes(self):
        self.authenticate("ecrm_pref_portal", "ecrm_pref_portal")
        response = self._post(max_week_email="-1", sms_on="1")
        self.assertIn("whole number from 0", response.text)
        response = self._post(max_week_email="1", preferred_channel="pigeon")
        self.assertIn("Choose a preferred channel", response.text)
        self.partner.invalidate_recordset()
        self.assertEqual((self.partner.ecrm_max_week_email, self.partner.ecrm_preferred_channel), (0, False))

    def test_post_without_csrf_is_rejected(self):
        self.authenticate("ecrm_pref_portal", "ecrm_pref_portal")
        response = self.url_open("/my/preferences", data={"max_week_email": "3"})
        self.assertEqual(response.status_code, 400)
        self.partner.invalidate_recordset()
        self.assertEqual(self.partner.ecrm_max_week_email, 0)

    def test_page_needs_login_or_a_signed_link(self):
        response = self.url_open("/my/preferences", allow_redirects=False)
        self.assertIn(response.status_code, (302, 303))
        self.assertIn("/web/login", response.headers.get("Location", ""))
        response = self.url_open("/my/preferences?token=forged")
        self.assertEqual(response.status_code, 403)
        self.assertIn("This link is not valid or has expired", response.text)

    def test_signed_link_opens_the_centre_without_login(self):
        token = self.partner._ecrm_preferences_token("prefs@shop.es")
        url = f"/my/preferences?{urlencode({'token': token})}"
        page = self.url_open(url)
        self.assertEqual(page.status_code, 200)
        self.assertIn("prefs@shop.es", page.text)
        self._post(url, token=token, email_ok="1", email_shown="1", max_week_sms="3", sms_on="1", phone_on="1")
        self.partner.invalidate_recordset()
        self.assertEqual(self.partner.ecrm_max_week_sms, 3)

    def test_a_link_of_another_scope_or_expired_is_rejected(self):
        consent_token = tools.hash_sign(self.env, CONSENT_TOKEN_SCOPE, [self.partner.id, "prefs@shop.es"])
        self.assertIsNone(self.env["res.partner"]._ecrm_preferences_check_token(consent_token))
        with freeze_time("2026-01-01"):
            token = self.partner._ecrm_preferences_token("prefs@shop.es")
        with freeze_time("2026-01-09"):
            self.assertIsNone(self.env["res.partner"]._ecrm_preferences_check_token(token))
        with freeze_time("2026-01-07"):
            self.assertEqual(self.env["res.partner"]._ecrm_preferences_check_token(token)[0], self.partner)

    def test_leaving_a_topic_is_immediate_joining_needs_the_link(self):
        self._prove()
        self.partner.sudo()._ecrm_subscribe_topics("prefs@shop.es", self.news)
        self.authenticate("ecrm_pref_portal", "ecrm_pref_portal")
        # news shown subscribed and unchecked: leave; offers shown unsubscribed and checked: join
        response = self._post(
            email_shown="1",
            email_ok="1",
            sms_on="1",
            phone_on="1",
            **{
                f"topic_shown_{self.news.id}": "1",
                f"topic_shown_{self.offers.id}": "0",
                f"topic_{self.offers.id}": "1",
            },
        )
        self.assertIn("We sent a link to prefs@shop.es", response.text)
        self.assertFalse(self._subscribed("prefs@shop.es"), "left news, offers waits for the confirmation")
        mail = self.env["mail.mail"].search([("email_to", "=", "prefs@shop.es")], order="id desc", limit=1)
        token = CONFIRM_LINK.search(mail.body_html).group(1)
        self.url_open(
            "/my/consent/confirm",
            data={"csrf_token": self._csrf(self.url_open(f"/my/consent/confirm?token={token}")), "token": token},
        )
        self.assertEqual(self._subscribed("prefs@shop.es"), self.offers)
        self.assertFalse(self.env["mail.blacklist"].search_count([("email", "=", "prefs@shop.es")]))

    def test_joining_a_topic_does_not_lift_an_opt_out(self):
        self.env["mail.blacklist"]._add("prefs@shop.es")
        sent = self.partner.with_user(self.portal)._ecrm_set_preferences(
            {"sms_on": True, "phone_on": True, "topics_on": self.offers | self.private}
        )
        self.assertTrue(sent)
        mail = self.env["mail.mail"].search([("email_to", "=", "prefs@shop.es")], order="id desc", limit=1)
        self.env["res.partner"]._ecrm_consent_confirm(CONFIRM_LINK.search(mail.body_html).group(1))
        self.assertEqual(self._subscribed("prefs@shop.es"), self.offers, "a private list is never joined")
        self.assertTrue(self.env["mail.blacklist"].search_count([("email", "=", "prefs@shop.es")]))

    def test_turning_email_off_opts_out_at_once(self):
        self._prove()
        self.authenticate("ecrm_pref_portal", "ecrm_pref_portal")
        self._post(email_shown="1", sms_on="1", phone_on="1")
        self.assertTrue(self.env["mail.blacklist"].search_count([("email", "=", "prefs@shop.es")]))

    def test_an_unproven_address_reveals_nothing(self):
        self.authenticate("ecrm_pref_portal", "ecrm_pref_portal")
        before = self.url_open("/my/preferences")
        self.env["mail.blacklist"]._add("prefs@shop.es")
        self.env["res.partner"].browse(self.partner.id)._ecrm_subscribe_topics("prefs@shop.es", self.news)
        after = self.url_open("/my/preferences")
        # CSRF tokens (hmac + time) differ from one rendering to the next: left out
        csrf = re.compile(r"[0-9a-f]{40}o[0-9]+")
        self.assertEqual(csrf.sub("TOKEN", before.text), csrf.sub("TOKEN", after.text))

    def test_portal_user_cannot_change_someone_else(self):
        with self.assertRaises(AccessError):
            self.other.with_user(self.portal)._ecrm_set_preferences({"sms_on": False})
        with self.assertRaises(AccessError):
            self.other.with_user(self.portal)._ecrm_preferences_state()
        token = self.partner._ecrm_preferences_token("prefs@shop.es")
        with self.assertRaises(AccessError):
            self.other.sudo()._ecrm_set_preferences({"sms_on": False}, token=token)
        self.assertFalse(self.other.ecrm_no_sms)

    def test_mailing_unsubscribe_page_links_to_the_centre(self):
        mailing = self.env["mailing.mailing"].create(
            {
                "subject": "News",
                "body_html": "<p>News</p>",
                "mailing_model_id": self.env["ir.model"]._get_id("res.partner"),
            }
        )
        token = mailing._generate_mailing_recipient_token(self.partner.id, "prefs@shop.es")
        query = urlencode({"document_id": self.partner.id, "email": "prefs@shop.es", "hash_token": token})
        page = self.url_open(f"/mailing/{mailing.id}/unsubscribe?{query}")
        self.assertEqual(page.status_code, 200)
        link = re.search(r'href="(/my/preferences\?token=[^"]+)"', page.text)
        self.assertTrue(link, "a signed link to the preference centre")
        centre = self.url_open(link.group(1).replace("&amp;", "&"))
        self.assertEqual(centre.status_code, 200)
        self.assertIn("Preference Centre", centre.text)


@tagged("post_install", "-at_install")
class TestPreferredChannel(PressureMailingCase):
    """A campaign with a mailing on both channels: each customer who prefers one gets that one."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.email_rule.active = cls.sms_rule.active = False
        cls.campaign = cls.env["utm.campaign"].create({"name": "Spring"})
        cls.alice.ecrm_preferred_channel = "sms"  # has a mobile
        cls.bob.ecrm_preferred_channel = "sms"  # has none: email it is
        cls.customers = cls.alice | cls.bob | cls.carol

    def _sms_twin(self, partners):
        return self._partner_mailing(
            partners, mailing_type="sms", body_plaintext="Spring", campaign_id=self.campaign.id
        )

    def test_email_leaves_out_who_prefers_the_sms_twin(self):
        sms = self._sms_twin(self.alice)
        mailing = self._partner_mailing(self.customers, campaign_id=self.campaign.id)
        self.assertEqual(mailing.ecrm_twin_mailing_id, sms)
        mailing.action_send_mail()
        traces = self._traces(mailing)
        alice = traces.filtered(lambda t: t.res_id == self.alice.id)
        self.assertEqual((alice.trace_status, alice.failure_type), ("cancel", "ecrm_channel"))
        self.assertIn("Spring sale", alice.failure_reason)
        self.assertFalse(any(traces.filtered(lambda t: t.res_id != self.alice.id).mapped("failure_type")))
        self.assertEqual(self._logged(mailing).partner_id, self.bob | self.carol, "only the emails sent count")
        sms.action_send_mail()
        self.assertNotEqual(self._traces(sms).trace_status, "cancel")

    def test_sms_leaves_out_who_prefers_email(self):
        self.carol.write({"ecrm_preferred_channel": "email", "mobile": "+32 470 55 44 33"})
        self._partner_mailing(self.carol, campaign_id=self.campaign.id)
        sms = self._sms_twin(self.alice | self.carol)
        sms.action_send_mail()
        carol = self._traces(sms).filtered(lambda t: t.res_id == self.carol.id)
        self.assertEqual(carol.failure_type, "ecrm_channel")
        self.assertNotEqual(self._traces(sms).filtered(lambda t: t.res_id == self.alice.id).trace_status, "cancel")

    def test_without_a_twin_the_preference_changes_nothing(self):
        mailing = self._partner_mailing(self.customers, campaign_id=self.campaign.id)
        self.assertFalse(mailing.ecrm_twin_mailing_id)
        mailing.action_send_mail()
        self.assertFalse(self._traces(mailing).filtered(lambda t: t.trace_status == "cancel"))

    def test_simulation_does_not_count_them_as_excluded(self):
        self._sms_twin(self.alice)
        self.email_rule.active = True  # would block Alice (mailed an hour ago)
        mailing = self._partner_mailing(self.customers, campaign_id=self.campaign.id)
        action = mailing.action_ecrm_pressure_simulate()
        self.assertEqual(self.env["ecrm.pressure.simulation"].browse(action["res_id"]).excluded_count, 0)

    def test_deferred_recipient_retried_on_preferred_channel(self):
        self.alice.ecrm_preferred_channel = False
        self.email_rule.write({"active": True, "max_count": 2})  # only the 48 h gap holds Alice
        mailing = self._partner_mailing(
            self.alice,
            campaign_id=self.campaign.id,
            ecrm_pressure_defer=True,
            ecrm_pressure_defer_until=self.now + timedelta(days=5),
        )
        mailing.action_send_mail()
        deferral = mailing.ecrm_pressure_deferral_ids
        self.assertEqual(deferral.state, "waiting")
        # meanwhile she asked for SMS, and the campaign got its SMS mailing
        self.alice.ecrm_preferred_channel = "sms"
        self._sms_twin(self.alice)
        with freeze_time(deferral.until + timedelta(seconds=1)):
            self.env["ecrm.pressure.deferral"]._cron_ecrm_retry_deferred()
        self.assertEqual(deferral.state, "done")
        self.assertEqual(self._traces(mailing).failure_type, "ecrm_channel")

    def test_segment_sends_email_and_sms_in_one_campaign(self):
        segment = self.env["ecrm.rfm.segment"].search([], limit=1)
        self.env["ecrm.rfm.score"].create(
            [
                {"partner_id": partner.id, "company_id": self.company.id, "segment_id": segment.id}
                for partner in self.customers
            ]
        )
        email_action = segment.action_send_mailing()
        sms_action = segment.with_context(ecrm_mailing_type="sms").action_send_mailing()
        email_ctx, sms_ctx = email_action["context"], sms_action["context"]
        self.assertEqual(email_ctx["default_campaign_id"], sms_ctx["default_campaign_id"])
        self.assertEqual(sms_ctx["default_mailing_type"], "sms")
        Partner = self.env["res.partner"]
        email_domain = eval(email_ctx["default_mailing_domain"])  # pylint: disable=eval-used
        sms_domain = eval(sms_ctx["default_mailing_domain"])  # pylint: disable=eval-used
        self.assertEqual(Partner.search(email_domain) & self.customers, self.customers)
        sms_customers = Partner.search(sms_domain)
        self.assertEqual(sms_customers & self.customers, self.alice | self.bob)
        self.assertEqual(set(sms_customers.mapped("ecrm_preferred_channel")), {"sms"})


@tagged("post_install", "-at_install")
class TestPreferenceCentreTour(HttpCase):
    def test_portal_customer_sets_preferences(self):
        portal = new_test_user(
            self.env, login="ecrm_tour_prefs", password="ecrm_tour_prefs", groups="base.group_portal"
        )
        portal.partner_id.email = "tour.prefs@shop.es"
        topic = self.env["mailing.list"].create({"name": "Tour Topic", "is_public": True})
        self.start_tour("/my", "ecrm_preference_centre_tour", login="ecrm_tour_prefs")
        partner = portal.partner_id
        self.assertEqual(
            (partner.ecrm_no_sms, partner.ecrm_max_week_email, partner.ecrm_preferred_channel), (True, 2, "sms")
        )
        self.assertFalse(self.env["res.partner"]._ecrm_topics_subscribed("tour.prefs@shop.es"), "not before the link")
        mail = self.env["mail.mail"].search([("email_to", "=", "tour.prefs@shop.es")], limit=1)
        self.env["res.partner"]._ecrm_consent_confirm(CONFIRM_LINK.search(mail.body_html).group(1))
        self.assertEqual(self.env["res.partner"]._ecrm_topics_subscribed("tour.prefs@shop.es"), topic)
