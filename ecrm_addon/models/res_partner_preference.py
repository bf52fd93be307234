# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The customer's own contact preferences (preference centre): marketing channels
turned off, a weekly maximum per channel, the preferred channel."""

from odoo import api, fields, models, tools
from odoo.exceptions import AccessError, ValidationError
from odoo.tools import SQL

# The weekly maximum and the "off" switch of each channel, as the engine reads them
# (email has no switch here: turning email off is the email blacklist, see consent)
PREFERENCE_FIELDS = {
    "email": ("ecrm_max_week_email",),
    "sms": ("ecrm_max_week_sms", "ecrm_no_sms"),
    "phone": ("ecrm_max_week_phone", "ecrm_no_phone"),
}
# The signed link of the unsubscribe page that opens the preference centre without login
PREFERENCES_TOKEN_SCOPE = "ecrm_addon-preferences"
PREFERENCES_LINK_HOURS = 7 * 24


def preference_set_sql(channel, alias=None):
    """SQL: the contact set a limit of their own on ``channel`` (a weekly maximum
    or the channel turned off). The engine's condition, and with every channel
    the predicate of the partial index ``res_partner_ecrm_preference_idx``."""

    def column(name):
        return SQL.identifier(alias, name) if alias else SQL.identifier(name)

    cap, *off = PREFERENCE_FIELDS[channel]
    return SQL("(%s)", SQL(" OR ").join([SQL("%s > 0", column(cap)), *(column(name) for name in off)]))


class ResPartner(models.Model):
    _inherit = "res.partner"

    ecrm_max_week_email = fields.Integer(
        string="Max. Marketing Emails per Week",
        copy=False,
        help="Set by the customer: at most this many marketing emails in any 7 days, on top of the shop's "
        "pressure rules (never looser than them); 0: only the shop's rules.",
    )
    ecrm_max_week_sms = fields.Integer(
        string="Max. Marketing SMS per Week",
        copy=False,
        help="Set by the customer: at most this many marketing SMS in any 7 days; 0: only the shop's rules.",
    )
    ecrm_max_week_phone = fields.Integer(
        string="Max. Marketing Calls per Week",
        copy=False,
        help="Set by the customer: at most this many marketing calls in any 7 days; 0: only the shop's rules.",
    )
    ecrm_no_sms = fields.Boolean(
        string="No Marketing SMS",
        copy=False,
        help="Set by the customer: no marketing SMS at all (order and delivery messages are still sent).",
    )
    ecrm_no_phone = fields.Boolean(
        string="No Marketing Calls",
        copy=False,
        help="Set by the customer: no marketing calls at all.",
    )

    def init(self):
        # The pressure check looks up the few customers with a limit of their
        # own among a batch's: a small index of those contacts only.
        tools.create_index(
            self.env.cr,
            "res_partner_ecrm_preference_idx",
            self._table,
            ["commercial_partner_id"],
            where=SQL(" OR ").join(preference_set_sql(channel) for channel in PREFERENCE_FIELDS).code,
        )

    @api.constrains("ecrm_max_week_email", "ecrm_max_week_sms", "ecrm_max_week_phone")
    def _check_ecrm_max_week(self):
        for partner in self:
            if min(partner.ecrm_max_week_email, partner.ecrm_max_week_sms, partner.ecrm_max_week_phone) < 0:
                raise ValidationError(self.env._("A weekly maximum of messages cannot be negative."))

    @api.model
    def _ecrm_preference_fields(self, channel):
        """The fields of the customer's own limit on ``channel``: (weekly maximum[, off switch])."""
        return list(PREFERENCE_FIELDS[channel])

    # ------------------------------------------------------------------
    # Preference centre (portal /my/preferences, or a signed link without login)
    # ------------------------------------------------------------------

    @api.model
    def _ecrm_topics(self):
        """The topics a customer may choose: the shop's public mailing lists."""
        # sudo: the public lists' names are shown to customers and visitors
        return self.env["mailing.list"].sudo().search([("is_public", "=", True)], order="name, id")

    @api.model
    def _ecrm_topics_subscribed(self, email):
        """The mailing lists ``email`` receives (opted in on at least one of its contacts)."""
        email = tools.email_normalize(email)
        if not email:
            return self.env["mailing.list"]
        # sudo: the subscriptions of the address the caller proved
        contacts = self.env["mailing.contact"].sudo().search([("email_normalized", "=", email)])
        return contacts.subscription_ids.filtered(lambda sub: not sub.opt_out).list_id

    def _ecrm_subscribe_topics(self, email, lists):
        """Subscribe ``email`` to ``lists`` (after the owner of the address confirmed)."""
        self.ensure_one()
        # sudo: called once the signed link proved the address
        contacts = self.env["mailing.contact"].sudo().search([("email_normalized", "=", tools.email_normalize(email))])
        if contacts:
            lists.sudo()._update_subscription_from_email(email, opt_out=False)
        else:
            self.env["mailing.contact"].sudo().create(
                {
                    "name": self.sudo().name,
                    "email": email,
                    "subscription_ids": [fields.Command.create({"list_id": topic.id}) for topic in lists],
                }
            )

    def _ecrm_preferences_token(self, email):
        """The signed link token that opens the preference centre of this
        customer without login (given on the unsubscribe page of a mailing
        sent to ``email``)."""
        self.ensure_one()
        # sudo: the signing secret is a system parameter
        return tools.hash_sign(
            self.sudo().env, PREFERENCES_TOKEN_SCOPE, [self.id, email], expiration_hours=PREFERENCES_LINK_HOURS
        )

    @api.model
    def _ecrm_preferences_check_token(self, token):
        """(partner, email) the preference link names, or None when the token
        is forged, malformed, expired, or its partner is gone."""
        try:
            # sudo: the signing secret is a system parameter
            values = tools.verify_hash_signed(self.sudo().env, PREFERENCES_TOKEN_SCOPE, token or "")
        except ValueError:
            return None
        if not (isinstance(values, list) and len(values) == 2 and isinstance(values[0], int) and values[1]):
            return None
        # sudo: the link's follower may be anyone; the token names the partner
        partner = self.sudo().browse(values[0]).exists()
        return (partner, values[1]) if partner else None

    def _ecrm_preferences_email(self, token=None):
        """The customer's address whose state the centre may show: the one the
        signed link was sent to, else the partner's email once proven (see
        consent); None when unproven."""
        self.ensure_one()
        if token:
            checked = self._ecrm_preferences_check_token(token)
            return checked[1] if checked and checked[0] == self else None
        return self.sudo().email_normalized if self._ecrm_consent_email_proven() else None

    def _ecrm_preferences_check_access(self, token=None):
        """The centre changes the user's own partner, or the one a valid link names."""
        self.ensure_one()
        if token:
            checked = self._ecrm_preferences_check_token(token)
            if not checked or checked[0] != self:
                raise AccessError(self.env._("This link is not valid or has expired."))
        elif self != self.env.user.partner_id or self.env.user._is_public():
            raise AccessError(self.env._("You can only change your own contact preferences."))

    def _ecrm_preferences_state(self, token=None):
        """What the preference centre shows: channels, weekly maxima, preferred
        channel and topics. The state of the email and of the topics only for
        a proven address (``email_ok`` / ``subscribed`` None otherwise)."""
        self._ecrm_preferences_check_access(token)
        # sudo: the customer reads their own preferences
        partner = self.sudo()
        email = partner._ecrm_preferences_email(token)
        state = partner._ecrm_consent_state()
        if email:
            # sudo: the blacklist entry of the address the customer proved
            listed = self.env["mail.blacklist"].sudo().search_count([("email", "=", email)], limit=1)
            state.update(email=email, email_proven=True, email_ok=not listed)
        subscribed = self._ecrm_topics_subscribed(email) if email else None
        state.update(
            sms_on=not partner.ecrm_no_sms,
            phone_on=not partner.ecrm_no_phone,
            max_week={channel: partner[PREFERENCE_FIELDS[channel][0]] for channel in PREFERENCE_FIELDS},
            preferred_channel=partner.ecrm_preferred_channel or "",
            topics=[
                (topic, (topic in subscribed) if subscribed is not None else None) for topic in self._ecrm_topics()
            ],
        )
        return state

    def _ecrm_set_preferences(self, values, token=None):
        """Save the preference centre. ``values``: ``email_ok`` (None: leave),
        ``sms_on``, ``phone_on`` (bool), ``max_week`` ({channel: int >= 0}),
        ``preferred_channel`` (a key of the selection or ""), ``topics_on`` /
        ``topics_off`` (mailing lists to join / leave). Leaving and turning
        off are immediate; joining a topic or turning the email back on only
        sends the consent confirmation link to the address (one link for both).
        Returns what ``_ecrm_consent_send_confirmation`` did (None: nothing to confirm)."""
        self._ecrm_preferences_check_access(token)
        # sudo: the check above limits the change to the customer's own preferences
        partner = self.sudo()
        write = {
            "ecrm_no_sms": not values.get("sms_on", True),
            "ecrm_no_phone": not values.get("phone_on", True),
            "ecrm_preferred_channel": values.get("preferred_channel") or False,
        }
        for channel, count in (values.get("max_week") or {}).items():
            write[PREFERENCE_FIELDS[channel][0]] = count
        partner.write(write)
        email = partner._ecrm_preferences_email(token) or partner.email_normalized
        topics = self._ecrm_topics()
        leave = (values.get("topics_off") or self.env["mailing.list"]) & topics
        if email and leave:
            leave.sudo()._update_subscription_from_email(email, opt_out=True)
        if values.get("email_ok") is False:
            partner._ecrm_apply_consent(email_ok=False)
        join = (values.get("topics_on") or self.env["mailing.list"]) & topics
        if partner.email_normalized and (join or values.get("email_ok")):
            return partner._ecrm_consent_send_confirmation(lists=join, email_optin=bool(values.get("email_ok")))
        return None
