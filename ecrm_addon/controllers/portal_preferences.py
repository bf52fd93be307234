# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import http
from odoo.addons.portal.controllers.portal import CustomerPortal
from odoo.exceptions import AccessError
from odoo.http import request

from ..models.res_partner_360 import PREFERRED_CHANNELS
from ..models.res_partner_consent import CONSENT_LINK_HOURS, CONSENT_RESEND_MINUTES
from ..models.res_partner_preference import PREFERENCE_FIELDS

# The highest weekly maximum the centre accepts (more is "only the shop's rules": 0)
MAX_WEEK_LIMIT = 50


class EcrmPreferencePortal(CustomerPortal):
    """The preference centre: the customer decides which marketing channels,
    how many messages a week, which topics, and the preferred channel. Logged
    in: always the user's own partner (``/my/preferences``); from a mailing's
    unsubscribe page: the partner a signed link names (``?token=``), no login."""

    @http.route("/my/preferences", type="http", auth="public", website=True, methods=["GET", "POST"], sitemap=False)
    def ecrm_preferences(self, token=None, **post):
        env = request.env
        Partner = env["res.partner"]
        if token:
            checked = Partner._ecrm_preferences_check_token(token)
            if not checked:
                return request.render("ecrm_addon.portal_preferences_invalid", {}, status=403)
            partner = checked[0]
        elif env.user._is_public():
            return request.redirect("/web/login?redirect=/my/preferences")
        else:
            partner = env.user.partner_id
        messages, error = [], False
        if request.httprequest.method == "POST":
            try:
                values = self._ecrm_preferences_values(partner, token, post)
                sent = partner._ecrm_set_preferences(values, token=token)
            except (ValueError, AccessError) as exc:
                error = exc.args[0]
            else:
                messages = self._ecrm_preferences_messages(partner, sent)
        values = {} if token else self._prepare_portal_layout_values()
        values.update(
            partner._ecrm_preferences_state(token=token),
            token=token,
            messages=messages,
            error=error,
            channels=PREFERRED_CHANNELS,
            max_week_limit=MAX_WEEK_LIMIT,
            page_name="ecrm_preferences",
        )
        return request.render("ecrm_addon.portal_my_preferences", values)

    def _ecrm_preferences_values(self, partner, token, post):
        """The changes a submitted form asks for, compared with what the page
        showed (``*_shown``): only what the customer changed is applied."""
        env = request.env
        email_on = bool(post.get("email_ok"))
        email_shown = post.get("email_shown", "")
        email_ok = None
        if email_shown == "1" and not email_on:
            email_ok = False
        elif email_shown != "1" and email_on:
            email_ok = True
        max_week = {}
        for channel in PREFERENCE_FIELDS:
            raw = (post.get(f"max_week_{channel}") or "0").strip()
            if not raw.isdigit() or int(raw) > MAX_WEEK_LIMIT:
                raise ValueError(
                    env._(
                        "The maximum per week is a whole number from 0 (no maximum of your own) to %(limit)s.",
                        limit=MAX_WEEK_LIMIT,
                    )
                )
            max_week[channel] = int(raw)
        preferred = post.get("preferred_channel") or ""
        if preferred and preferred not in dict(PREFERRED_CHANNELS):
            raise ValueError(env._("Choose a preferred channel from the list."))
        topics_on, topics_off = env["mailing.list"], env["mailing.list"]
        for topic in partner._ecrm_topics():
            shown = post.get(f"topic_shown_{topic.id}", "")
            checked = bool(post.get(f"topic_{topic.id}"))
            if shown == "1" and not checked:
                topics_off |= topic
            elif shown != "1" and checked:
                topics_on |= topic
        return {
            "email_ok": email_ok,
            "sms_on": bool(post.get("sms_on")),
            "phone_on": bool(post.get("phone_on")),
            "max_week": max_week,
            "preferred_channel": preferred,
            "topics_on": topics_on,
            "topics_off": topics_off,
        }

    def _ecrm_preferences_messages(self, partner, sent):
        env = request.env
        messages = [env._("Your preferences are saved.")]
        if sent is False:
            messages.append(
                env._(
                    "A confirmation link was sent a few minutes ago: follow it, or ask again in %(minutes)s minutes.",
                    minutes=CONSENT_RESEND_MINUTES,
                )
            )
        elif sent:
            messages.append(
                env._(
                    "We sent a link to %(email)s: follow it within %(days)s days to confirm the newsletters "
                    "and topics you asked for.",
                    email=partner.sudo().email_normalized,
                    days=CONSENT_LINK_HOURS // 24,
                )
            )
        return messages
