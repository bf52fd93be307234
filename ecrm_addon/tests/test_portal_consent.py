from odoo.exceptions import AccessError
from odoo.http import Request
from odoo.tests import HttpCase, new_test_user, tagged


@tagged("post_install", "-at_install")
class TestPortalConsent(HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.portal = new_test_user(
            cls.env, login="ecrm_consent_portal", password="ecrm_consent_portal", groups="base.group_portal"
        )
        cls.portal.partner_id.write(
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

    def test_portal_user_opts_out_and_back_in(self):
        partner = self.portal.partner_id.with_user(self.portal)
        partner._ecrm_set_consent(email_ok=False, phone_ok=False)
        self.assertTrue(self._email_blacklisted("consent@shop.es"))
        self.assertTrue(self._phone_blacklisted("+34655102030"))
        self.assertEqual(
            partner._ecrm_consent_state(),
            {"email": "consent@shop.es", "email_ok": False, "phones": ["+34655102030"], "phone_ok": False},
        )
        partner._ecrm_set_consent(email_ok=True, phone_ok=True)
        self.assertFalse(self._email_blacklisted("consent@shop.es"))
        self.assertFalse(self._phone_blacklisted("+34655102030"))

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
        # email box ticked off, phone box kept: only the email is blacklisted;
        # a partner id in the request is ignored
        response = self.url_open(
            "/my/consent",
            data={"csrf_token": Request.csrf_token(self), "phone_ok": "1", "partner_id": self.other.id},
        )
        self.assertEqual(response.status_code, 200)
        self.assertIn("Your preferences are saved", response.text)
        self.assertTrue(self._email_blacklisted("consent@shop.es"))
        self.assertFalse(self._phone_blacklisted("+34655102030"))
        self.assertFalse(self._email_blacklisted("else@shop.es"))

    def test_consent_page_needs_login(self):
        response = self.url_open("/my/consent", allow_redirects=False)
        self.assertIn(response.status_code, (302, 303))
        self.assertIn("/web/login", response.headers.get("Location", ""))

    def test_portal_home_links_to_consent(self):
        self.authenticate("ecrm_consent_portal", "ecrm_consent_portal")
        self.assertIn("/my/consent", self.url_open("/my").text)
