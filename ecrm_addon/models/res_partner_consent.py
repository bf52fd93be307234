# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Consent: mailing-list opt-outs and the portal's self-service consent with a signed link."""

from datetime import timedelta
from urllib.parse import urlencode

from odoo import api, fields, models, tools
from odoo.exceptions import AccessError, UserError

# Portal consent: the signed link that opts an email back in, and how long it works
CONSENT_TOKEN_SCOPE = "ecrm_addon-consent-email-optin"
CONSENT_LINK_HOURS = 72
# ...and how often a customer may have one sent (the shop mails the address they typed)
CONSENT_RESEND_MINUTES = 10


class ResPartner(models.Model):
    _inherit = "res.partner"

    # Opting out is one click. Opting an email back in needs the signed link
    # sent to that address, and the portal shows the blacklist state of an
    # address only once its owner followed such a link: whoever types someone
    # else's address in /my/account learns nothing and changes nothing but an
    # opt-out. Numbers cannot be proven from the portal: the shop opts them back in.

    ecrm_consent_proven_email = fields.Char(
        string="Consent Proven Email",
        copy=False,
        groups="base.group_system",
        help="The address whose owner last followed a consent confirmation link: the portal shows "
        "whether the partner's email is blacklisted only while it is this address.",
    )
    ecrm_consent_request_date = fields.Datetime(
        string="Consent Link Sent On",
        copy=False,
        groups="base.group_system",
        help="When the portal last sent a consent confirmation link for this partner.",
    )

    ecrm_mailing_optout_count = fields.Integer(
        string="Mailing List Opt-outs",
        compute="_compute_ecrm_consent",
        groups="ecrm_addon.group_ecrm_user",
        help="Mailing lists this email address left.",
    )

    def _compute_ecrm_consent(self):
        """Mailing lists each partner's email address left, in two queries."""
        emails = {email for email in self.mapped("email_normalized") if email}
        optouts = {}
        if emails:
            # sudo: the count of lists left is shown, not the lists or their contacts
            groups = (
                self.env["mailing.subscription"]
                .sudo()
                ._read_group(
                    [("contact_id.email_normalized", "in", list(emails)), ("opt_out", "=", True)],
                    ["contact_id"],
                    ["__count"],
                )
            )
            for contact, count in groups:
                email = contact.email_normalized
                optouts[email] = optouts.get(email, 0) + count
        for partner in self:
            partner.ecrm_mailing_optout_count = optouts.get(partner.email_normalized, 0)

    def _ecrm_consent_numbers(self):
        """The partner's phone and mobile in E.164, as the phone blacklist holds them."""
        self.ensure_one()
        numbers = (self._phone_format(fname=fname) for fname in ("phone", "mobile") if self[fname])
        return list(dict.fromkeys(number for number in numbers if number))

    def _ecrm_consent_email_proven(self):
        """Whether the partner's current email is the address its owner proved."""
        self.ensure_one()
        # sudo: the proof is out of the users' reach, only compared here
        partner = self.sudo()
        return bool(partner.email_normalized) and partner.ecrm_consent_proven_email == partner.email_normalized

    def _ecrm_consent_state(self):
        """{'email', 'email_proven', 'email_ok', 'phones'} of the partner, for the
        portal. ``email_ok`` is None unless the address is proven; the state of
        the numbers is never given (they cannot be proven from the portal)."""
        self.ensure_one()
        # sudo: the customer reads their own address, numbers and proven
        # address's blacklist entry, nobody else's
        partner = self.sudo()
        proven = partner._ecrm_consent_email_proven()
        return {
            "email": partner.email_normalized,
            "email_proven": proven,
            "email_ok": not partner.is_blacklisted if proven else None,
            "phones": partner._ecrm_consent_numbers(),
        }

    def _ecrm_set_consent(self, email_ok=None, phone_ok=None):
        """Self-service consent of the user's own partner (``None`` leaves a
        channel as it is). Opting out is immediate; opting the email back in
        only sends the confirmation link to the address; opting the numbers
        back in is refused (``UserError``), nothing is changed then. Returns
        False when the link was not sent because one was sent a few minutes
        ago, else None."""
        self.ensure_one()
        if self != self.env.user.partner_id:
            raise AccessError(self.env._("You can only change your own contact preferences."))
        return self._ecrm_apply_consent(email_ok=email_ok, phone_ok=phone_ok)

    def _ecrm_apply_consent(self, email_ok=None, phone_ok=None):
        """``_ecrm_set_consent`` once the caller checked the partner is the
        customer's own (their user's, or the one a signed link names)."""
        self.ensure_one()
        if phone_ok:
            raise UserError(self._ecrm_consent_phone_opt_in_message())
        message = self.env._("Changed by the customer on the portal")
        # sudo: the blacklists are the shop's; the check above limits the
        # change to the user's own address and numbers
        email = self.sudo().email_normalized
        sent = None
        if email and email_ok:
            sent = self._ecrm_consent_send_confirmation()
        elif email and email_ok is not None:
            self.env["mail.blacklist"].sudo()._add(email, message=message)
        phones = self.sudo()._ecrm_consent_numbers()
        if phones and phone_ok is not None:
            self.env["phone.blacklist"].sudo()._add(phones, message=message)
        self.invalidate_recordset(["is_blacklisted", "phone_sanitized_blacklisted"])
        return sent

    def _ecrm_consent_phone_opt_in_message(self):
        """Why the portal does not opt numbers back in (the page and the refusal say it)."""
        return self.env._(
            "To receive SMS and calls again, please contact us: we need to check that the number is yours."
        )

    def _ecrm_consent_send_confirmation(self, lists=None, email_optin=True):
        """Queue the email asking the owner of the partner's address to confirm
        they want newsletters and offers again. Sent whatever the address's
        state, so the portal's answer is the same for every address; at most
        one every ``CONSENT_RESEND_MINUTES`` per partner (False when not sent).
        ``lists``: public mailing lists (topics of the preference centre) the
        link subscribes the address to; ``email_optin``: whether it also lifts
        the address's opt-out."""
        self.ensure_one()
        # sudo: the token's secret, the template and the mail queue are the shop's
        partner = self.sudo()
        now = fields.Datetime.now()
        last = partner.ecrm_consent_request_date
        if last and now - last < timedelta(minutes=CONSENT_RESEND_MINUTES):
            return False
        partner.ecrm_consent_request_date = now
        email = partner.email_normalized
        payload = [partner.id, email]
        if lists:
            payload += [sorted(lists.ids), bool(email_optin)]
        token = tools.hash_sign(partner.env, CONSENT_TOKEN_SCOPE, payload, expiration_hours=CONSENT_LINK_HOURS)
        url = f"{partner.get_base_url()}/my/consent/confirm?{urlencode({'token': token})}"
        template = partner.env.ref("ecrm_addon.ecrm_consent_mail_template_confirm")
        template.with_context(ecrm_consent_url=url, ecrm_consent_days=CONSENT_LINK_HOURS // 24).send_mail(
            partner.id, email_values={"email_to": email}
        )
        return True

    @api.model
    def _ecrm_consent_check_token(self, token):
        """(partner, email) a confirmation link was sent for, or None when the
        token is forged, malformed, expired or its partner is gone."""
        checked = self._ecrm_consent_check_token_lists(token)
        return checked[:2] if checked else None

    @api.model
    def _ecrm_consent_check_token_lists(self, token):
        """(partner, email, lists, email_optin) of a confirmation link: the
        mailing lists it subscribes to (still public ones) and whether it lifts
        the address's opt-out; None when the token is not valid."""
        try:
            # sudo: the signing secret is a system parameter
            values = tools.verify_hash_signed(self.sudo().env, CONSENT_TOKEN_SCOPE, token or "")
        except ValueError:  # not one of our tokens at all
            return None
        if not (isinstance(values, list) and len(values) in (2, 4) and isinstance(values[0], int)):
            return None
        partner_id, email = values[:2]
        list_ids, email_optin = values[2:] if len(values) == 4 else ([], True)
        # sudo: the link's follower may be anyone; the token names the partner
        partner = self.sudo().browse(partner_id).exists()
        if not (partner and email):
            return None
        lists = self.env["mailing.list"].sudo().browse(list_ids).exists().filtered("is_public")
        return partner, email, lists, email_optin

    @api.model
    def _ecrm_consent_confirm(self, token):
        """Follow a confirmation link: its address leaves the email blacklist
        (unless the link only subscribes to topics) and counts as proven for
        its partner while it is still the partner's email; it joins the topics
        the link names. Returns the address, or None when the token is not valid."""
        checked = self._ecrm_consent_check_token_lists(token)
        if not checked:
            return None
        partner, email, lists, email_optin = checked
        message = self.env._("Confirmed by the owner of the address through the link sent from the portal")
        # sudo: the token proves the follower owns the address
        if email_optin:
            self.env["mail.blacklist"].sudo()._remove(email, message=message)
        if lists:
            partner._ecrm_subscribe_topics(email, lists)
        if partner.email_normalized == email:
            partner.ecrm_consent_proven_email = email
        partner.invalidate_recordset(["is_blacklisted"])
        return email
