# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import json
import re
from datetime import datetime, timedelta

from freezegun import freeze_time

from odoo import tools
from odoo.exceptions import AccessError, UserError
from odoo.tests import HttpCase, TransactionCase, new_test_user, tagged

from ..models.res_partner_consent import CONSENT_LINK_HOURS, CONSENT_RESEND_MINUTES, CONSENT_TOKEN_SCOPE

# an Odoo CSRF token: the HMAC of the session and its expiry, then "o" and that expiry
CSRF_TOKEN = re.compile(r"\b[0-9a-f]{40}o\d+\b")

CONFIRM_LINK = re.compile(r'href="(http[^"]*/my/consent/confirm\?token=([^"&]+))"')


@tagged("post_install", "-at_install")
class TestPortalConsent(HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.portal = new_test_user(
            cls.env, login="ecrm_consent_portal", password="ecrm_consent_portal", groups="base.group_portal"
        )
        cls.partner = cls.portal.partner_id
        cls.partner.write(
            {
                "email": "Consent <consent@shop.es>",
                "mobile": "+34 655 10 20 30",
                "country_id": cls.env.ref("base.es").id,
            }
        )
        cls.other = cls.env["res.partner"].create({"name": "Someone else", "email": "else@shop.es"})

    def _email_blacklisted(self, email):
        return bool(self.env["mail.blacklist"].search_count([("email", "=", email)]))

    def _phone_blacklisted(self, number):
        return bool(self.env["phone.blacklist"].search_count([("number", "=", number)]))

    def _confirmation_mails(self, email):
        template = self.env.ref("ecrm_addon.ecrm_consent_mail_template_confirm")
        return self.env["mail.mail"].search([("email_to", "=", email), ("subject", "=", template.subject)])

    def _csrf(self, page):
        return page.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]

    def _post_consent(self, **data):
        page = self.url_open("/my/consent")
        return self.url_open("/my/consent", data={"csrf_token": self._csrf(page), **data})

    def _consent_page_of(self, email):
        """/my/consent after the customer typed ``email`` in /my/account, with
        that address and the page's CSRF tokens taken out."""
        page = self.url_open("/my/account")
        response = self.url_open(
            "/my/account",
            data={
                "csrf_token": self._csrf(page),
                "name": "Consent",
                "email": email,
                "phone": "+34 655 10 20 30",
                "street": "Calle Mayor 1",
                "city": "Madrid",
                "country_id": str(self.env.ref("base.es").id),
            },
        )
        self.assertEqual(response.status_code, 200)
        self.partner.invalidate_recordset(["email"])
        self.assertEqual(self.partner.email, email)
        page = self.url_open("/my/consent")
        # every CSRF token of the page: the form's and the session's differ when
        # the page is rendered across a second boundary (Odoo salts them with it)
        return CSRF_TOKEN.sub("TOKEN", page.text.replace(email, "ADDRESS"))

    # --- Opting out: one click -------------------------------------------------

    def test_portal_user_opts_out_in_one_click(self):
        self.partner.with_user(self.portal)._ecrm_set_consent(email_ok=False, phone_ok=False)
        self.assertTrue(self._email_blacklisted("consent@shop.es"))
        self.assertTrue(self._phone_blacklisted("+34655102030"))
        # the address is not proven: the state is not shown, even after an opt-out
        self.assertEqual(
            self.partner.with_user(self.portal)._ecrm_consent_state(),
            {"email": "consent@shop.es", "email_proven": False, "email_ok": None, "phones": ["+34655102030"]},
        )

    def test_portal_user_cannot_change_someone_else(self):
        with self.assertRaises(AccessError):
            self.other.with_user(self.portal)._ecrm_set_consent(email_ok=False)
        self.assertFalse(self._email_blacklisted("else@shop.es"))

    def test_consent_page_shows_and_saves_own_preferences(self):
        self.authenticate("ecrm_consent_portal", "ecrm_consent_portal")
        page = self.url_open("/my/consent")
        self.assertEqual(page.status_code, 200)
        self.assertIn("consent@shop.es", page.text)
        self.assertIn("+34655102030", page.text)
        # one click stops the emails; a partner id in the request is ignored
        response = self._post_consent(email_ok="0", partner_id=self.other.id)
        self.assertEqual(response.status_code, 200)
        self.assertIn("consent@shop.es will receive no more newsletters or offers", response.text)
        self.assertTrue(self._email_blacklisted("consent@shop.es"))
        self.assertFalse(self._phone_blacklisted("+34655102030"))
        self.assertFalse(self._email_blacklisted("else@shop.es"))
        response = self._post_consent(phone_ok="0")
        self.assertIn("your numbers will receive no more SMS or calls", response.text)
        self.assertTrue(self._phone_blacklisted("+34655102030"))

    def test_consent_page_needs_login(self):
        response = self.url_open("/my/consent", allow_redirects=False)
        self.assertIn(response.status_code, (302, 303))
        self.assertIn("/web/login", response.headers.get("Location", ""))

    def test_portal_home_links_to_consent(self):
        self.authenticate("ecrm_consent_portal", "ecrm_consent_portal")
        self.assertIn("/my/consent", self.url_open("/my").text)

    # --- Someone else's address typed in /my/account ---------------------------

    def test_address_typed_in_my_account_does_not_reveal_its_blacklist(self):
        self.env["mail.blacklist"]._add("listed@shop.es")
        self.authenticate("ecrm_consent_portal", "ecrm_consent_portal")
        listed = self._consent_page_of("listed@shop.es")
        not_listed = self._consent_page_of("not.listed@shop.es")
        self.assertEqual(listed, not_listed)

    def test_opting_back_in_an_address_only_mails_it_a_link(self):
        self.env["mail.blacklist"]._add("listed@shop.es")
        self.partner.email = "listed@shop.es"
        self.authenticate("ecrm_consent_portal", "ecrm_consent_portal")
        response = self._post_consent(email_ok="1")
        self.assertIn("We sent a link to", response.text)
        self.assertTrue(self._email_blacklisted("listed@shop.es"))
        mail = self._confirmation_mails("listed@shop.es")
        self.assertEqual(len(mail), 1)
        self.assertEqual(mail.state, "outgoing")
        token = CONFIRM_LINK.search(mail.body_html).group(2)
        partner, email = self.env["res.partner"]._ecrm_consent_check_token(token)
        self.assertEqual((partner, email), (self.partner, "listed@shop.es"))

    def test_confirmation_links_are_not_sent_in_a_burst(self):
        partner = self.partner.with_user(self.portal)
        first = datetime(2026, 3, 2, 10, 0)
        with freeze_time(first):
            self.assertTrue(partner._ecrm_consent_send_confirmation())
        with freeze_time(first + timedelta(minutes=CONSENT_RESEND_MINUTES - 1)):
            self.assertIs(partner._ecrm_set_consent(email_ok=True), False)
        self.assertEqual(len(self._confirmation_mails("consent@shop.es")), 1)
        with freeze_time(first + timedelta(minutes=CONSENT_RESEND_MINUTES + 1)):
            self.assertTrue(partner._ecrm_consent_send_confirmation())
        self.assertEqual(len(self._confirmation_mails("consent@shop.es")), 2)

    def test_opting_numbers_back_in_is_refused(self):
        self.env["phone.blacklist"]._add(["+34655102030"])
        with self.assertRaises(UserError):
            self.partner.with_user(self.portal)._ecrm_set_consent(email_ok=False, phone_ok=True)
        self.assertTrue(self._phone_blacklisted("+34655102030"))
        self.assertFalse(self._email_blacklisted("consent@shop.es"))
        self.authenticate("ecrm_consent_portal", "ecrm_consent_portal")
        response = self._post_consent(phone_ok="1")
        self.assertIn("please contact us", response.text)
        self.assertTrue(self._phone_blacklisted("+34655102030"))

    def test_mailing_subscription_page_does_not_reveal_the_typed_address(self):
        """Odoo's /mailing/my reads the blacklist of the user's current email."""
        self.env["mail.blacklist"]._add("listed@shop.es")
        self.partner.email = "listed@shop.es"
        self.authenticate("ecrm_consent_portal", "ecrm_consent_portal")
        response = self.url_open("/mailing/my", allow_redirects=False)
        self.assertIn(response.status_code, (302, 303))
        self.assertTrue(response.headers["Location"].endswith("/my/consent"))
        for route in ("/mailing/blocklist/remove", "/mailing/list/update"):
            answer = self.url_open(
                route,
                data=json.dumps({"jsonrpc": "2.0", "method": "call", "params": {}}),
                headers={"Content-Type": "application/json"},
            )
            self.assertEqual(answer.json()["result"], "unauthorized")
        self.assertTrue(self._email_blacklisted("listed@shop.es"))

    def test_mailing_subscription_page_works_for_a_proven_address(self):
        self.partner.sudo().ecrm_consent_proven_email = "consent@shop.es"
        self.authenticate("ecrm_consent_portal", "ecrm_consent_portal")
        response = self.url_open("/mailing/my", allow_redirects=False)
        self.assertEqual(response.status_code, 200)

    # --- The confirmation link -------------------------------------------------

    def test_following_the_link_opts_back_in_and_proves_the_address(self):
        self.env["mail.blacklist"]._add("consent@shop.es")
        self.partner.with_user(self.portal)._ecrm_set_consent(email_ok=True)
        url = CONFIRM_LINK.search(self._confirmation_mails("consent@shop.es").body_html).group(1)
        # whoever reads the mailbox follows it, logged in or not
        page = self.url_open(url)
        self.assertEqual(page.status_code, 200)
        self.assertIn("Yes, send them to me", page.text)
        self.assertTrue(self._email_blacklisted("consent@shop.es"), "opening the link changes nothing")
        token = url.split("token=", 1)[1]
        done = self.url_open("/my/consent/confirm", data={"csrf_token": self._csrf(page), "token": token})
        self.assertEqual(done.status_code, 200)
        self.assertIn("will receive our newsletters and offers again", done.text)
        self.assertFalse(self._email_blacklisted("consent@shop.es"))
        state = self.partner.with_user(self.portal)._ecrm_consent_state()
        self.assertEqual((state["email_proven"], state["email_ok"]), (True, True))
        self.authenticate("ecrm_consent_portal", "ecrm_consent_portal")
        self.assertIn("This address receives our newsletters and offers.", self.url_open("/my/consent").text)

    def test_forged_link_is_refused(self):
        self.env["mail.blacklist"]._add("listed@shop.es")
        forged = [
            tools.hash_sign(self.env, "another-scope", [self.partner.id, "listed@shop.es"]),
            "AQAAAAAAAAAA" + "A" * 60,
            "not a token",
        ]
        for token in forged:
            with self.subTest(token=token):
                self.assertIsNone(self.env["res.partner"]._ecrm_consent_confirm(token))
                self.assertEqual(self.url_open(f"/my/consent/confirm?token={token}").status_code, 403)
                page = self.url_open("/web/login")
                response = self.url_open("/my/consent/confirm", data={"csrf_token": self._csrf(page), "token": token})
                self.assertEqual(response.status_code, 403)
                self.assertIn("This link is not valid or has expired", response.text)
        self.assertTrue(self._email_blacklisted("listed@shop.es"))

    def test_expired_link_is_refused(self):
        self.env["mail.blacklist"]._add("consent@shop.es")
        sent = datetime(2026, 3, 2, 10, 0)
        with freeze_time(sent):
            self.partner.with_user(self.portal)._ecrm_set_consent(email_ok=True)
        token = CONFIRM_LINK.search(self._confirmation_mails("consent@shop.es").body_html).group(2)
        Partner = self.env["res.partner"]
        with freeze_time(sent + timedelta(hours=CONSENT_LINK_HOURS, minutes=1)):
            self.assertIsNone(Partner._ecrm_consent_check_token(token))
            self.assertIsNone(Partner._ecrm_consent_confirm(token))
        self.assertTrue(self._email_blacklisted("consent@shop.es"))
        with freeze_time(sent + timedelta(hours=CONSENT_LINK_HOURS - 1)):
            self.assertEqual(Partner._ecrm_consent_confirm(token), "consent@shop.es")
        self.assertFalse(self._email_blacklisted("consent@shop.es"))

    def test_link_to_a_former_address_proves_nothing_for_the_new_one(self):
        self.env["mail.blacklist"]._add("old@shop.es")
        token = tools.hash_sign(self.env, CONSENT_TOKEN_SCOPE, [self.partner.id, "old@shop.es"], expiration_hours=1)
        self.assertEqual(self.env["res.partner"]._ecrm_consent_confirm(token), "old@shop.es")
        self.assertFalse(self._email_blacklisted("old@shop.es"))
        self.assertFalse(self.partner._ecrm_consent_email_proven())


@tagged("post_install", "-at_install")
class TestPortalConsentSpanish(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["res.lang"]._activate_lang("es_ES")
        cls.env["ir.module.module"]._load_module_terms(["ecrm_addon"], ["es_ES"], overwrite=True)
        cls.portal = new_test_user(cls.env, login="ecrm_consent_es", groups="base.group_portal", lang="es_ES")
        cls.portal.partner_id.email = "lucia@shop.es"

    def test_confirmation_mail_in_the_customers_language(self):
        self.portal.partner_id.with_user(self.portal)._ecrm_set_consent(email_ok=True)
        mail = self.env["mail.mail"].search([("email_to", "=", "lucia@shop.es")])
        self.assertEqual(mail.subject, "Confirme que desea volver a recibir nuestros boletines y ofertas")
        self.assertIn("Sí, envíenme boletines y ofertas", mail.body_html)
        self.assertRegex(mail.body_html, CONFIRM_LINK)

    def test_refusal_for_numbers_in_spanish(self):
        with self.assertRaisesRegex(UserError, "póngase en contacto con nosotros"):
            self.portal.partner_id.with_user(self.portal).with_context(lang="es_ES")._ecrm_set_consent(phone_ok=True)
