# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import base64
import logging
import uuid

import pytz

from odoo import api, fields, models
from odoo.tools import email_normalize, format_date, format_time, is_html_empty

from ..tools.mail_headers import is_bounce_sender
from .ir_qweb import CACHE_INLINE

_logger = logging.getLogger(__name__)


class EcrmCase(models.Model):
    """Automatic emails to the customer: the acknowledgement of a new case and
    the template of the stage a case reaches (``stage.template_id``)."""

    _inherit = "ecrm.case"

    acknowledge = fields.Boolean(
        string="Notify Customer",
        compute="_compute_acknowledge",
        readonly=False,
        help="Email the customer an acknowledgement of the new case: its reference, when to expect "
        "an answer and a link to follow it online.",
    )

    def _compute_acknowledge(self):
        # only read on a new case (create): the flag is never stored
        self.acknowledge = False

    @api.model_create_multi
    def create(self, vals_list):
        wanted = [bool(vals.pop("acknowledge", False)) for vals in vals_list]
        for vals, ack in zip(vals_list, wanted, strict=True):
            if ack:
                # the acknowledgement's link to the case needs its portal token: in the
                # insert, rather than written by the notification right after it
                vals.setdefault("access_token", str(uuid.uuid4()))
        cases = super().create(vals_list)
        cases.browse([case.id for case, ack in zip(cases, wanted, strict=True) if ack])._ecrm_acknowledge()
        return cases

    @api.model
    def message_new(self, msg_dict, custom_values=None):
        """A case opened by a customer's mail is acknowledged once that mail is
        posted on it (the gateway posts it on the record returned here), so the
        acknowledgement follows it. Automatic mail (out-of-office, bulk,
        bounces) opens no case at all (see mail_thread.py)."""
        case = super().message_new(msg_dict, custom_values=custom_values)
        return case.with_context(ecrm_acknowledge_on_post=case.id)

    def message_post(self, **kwargs):
        pending = self.env.context.get("ecrm_acknowledge_on_post")
        case = self.with_context(ecrm_acknowledge_on_post=False) if pending else self
        message = super(EcrmCase, case).message_post(**kwargs)
        if pending and case.ids == [pending]:
            case._ecrm_acknowledge()
        return message

    # --- acknowledgement ------------------------------------------------------------

    def _ecrm_acknowledge(self):
        """Email each case's customer the acknowledgement (shipped template), in
        their language, and log it; customers who cannot or must not get it are
        skipped (see ``_ecrm_reachable``)."""
        # the cached id, without the query of env.ref (a deleted template loses its xmlid)
        template_id = self.env["ir.model.data"]._xmlid_to_res_id(
            "ecrm_addon.ecrm_case_mail_template_acknowledge", raise_if_not_found=False
        )
        if not template_id:
            return self.browse()
        template = self.env["mail.template"].browse(template_id)
        cases = self._ecrm_reachable().filtered(lambda case: case._ecrm_post_customer_template(template))
        cases._ecrm_log_customer_mail(self.env._("Case acknowledged"), "service")
        return cases

    def _ecrm_reachable(self):
        """The cases whose customer may get an automatic email (acknowledgement,
        stage template, rating request): none while an automatic mail is
        processed (out-of-office, bounce: context key ``ecrm_auto_submitted``,
        see mail_thread.py), else those whose customer has an address that is
        not a mail server's (bounces) nor on the blacklist."""
        if self.env.context.get("ecrm_auto_submitted"):
            return self.browse()
        emails = {case.id: email_normalize(case.partner_id.email or "") for case in self}
        known = [email for email in emails.values() if email]
        # sudo: the blacklist is not readable by case users; only its addresses are compared
        blacklisted = set(self.env["mail.blacklist"].sudo().search([("email", "in", known)]).mapped("email"))
        return self.filtered(
            lambda case: (email := emails[case.id]) and email not in blacklisted and not is_bounce_sender(email)
        )

    def _ecrm_shop_sender(self):
        """(author, From address) of the shop's automatic emails: the company,
        with its address or else the server's default sender (empty when the
        database has neither: nothing can be sent)."""
        self.ensure_one()
        author = self.company_id.partner_id
        # sudo: the mail server settings are read for their default sender only
        return author, author.email_formatted or self.env["ir.mail_server"].sudo()._get_default_from_address()

    def _ecrm_customer_template_options(self):
        """message_post_with_source's (and ``_ecrm_post_template``'s) options of
        an automatic email to the customer: a note emailed to the recipients of
        the template (the customer) only, queued (the mail cron sends it), from
        the shop rather than whoever opened or moved the case (a portal
        customer, an API client)."""
        author, email_from = self._ecrm_shop_sender()
        return {
            "message_type": "auto_comment",
            "subtype_id": self.env["ir.model.data"]._xmlid_to_res_id("mail.mt_note"),
            "email_layout_xmlid": "mail.mail_notification_light",
            "author_id": author.id,
            "email_from": email_from,
            "force_send": False,
        }

    def _ecrm_post_customer_template(self, template):
        """Email ``template`` to the customer (see ``_ecrm_customer_template_options``);
        whether it could be sent (a shop without any sender address cannot)."""
        self.ensure_one()
        options = self._ecrm_customer_template_options()
        if not options["email_from"]:
            _logger.warning("Case %s: no sender address (company email), %s not sent", self.name, template.name)
            return False
        # the customer is notified even when they caused the email (a case they opened
        # on the portal): Odoo leaves the current user out of the recipients otherwise
        self.with_context(mail_notify_author=True)._ecrm_post_template(template, **options)
        return True

    def _ecrm_post_template(self, template, **options):
        """Post ``template`` on this case as ``message_post_with_source(template,
        **options)`` does (the same message, recipients, attachments, language
        and email), without its composer wizard: a ``mail.compose.message``
        created per case, whose computed fields each rendered the template
        again, cost more than the rest of a new case. The template is rendered
        once (``mail.template._generate_template``) and posted."""
        self.ensure_one()
        # its body compiled once per worker, not at each rendering (see ir_qweb.py)
        values = template.with_context(**{CACHE_INLINE: True})._generate_template(
            self.ids,
            (
                "attachment_ids",
                "body_html",
                "email_cc",
                "email_to",
                "lang",
                "partner_to",
                "report_template_ids",
                "scheduled_date",
                "subject",
            ),
            find_or_create_partners=True,
        )[self.id]
        attachment_ids = []
        if values.get("attachment_ids"):
            # the template's own files are copied for the message, as the composer copies them
            attachment_ids = (
                self.env["ir.attachment"]
                .browse(values["attachment_ids"])
                .copy({"res_model": "mail.compose.message", "res_id": 0})
                .ids[::-1]
            )
        body = values.get("body_html")
        return self.message_post(
            **{
                # the composer's values for a template in comment mode
                "email_add_signature": False,
                "email_layout_xmlid": template.email_layout_xmlid,
                "mail_auto_delete": template.auto_delete,
                "mail_server_id": template.mail_server_id.id,
                **options,
                "body": body if body and not is_html_empty(body) else "",
                "subject": values.get("subject") or self._message_compute_subject(),
                "partner_ids": values.get("partner_ids", []),
                "attachment_ids": attachment_ids,
                "attachments": [(name, base64.b64decode(data)) for name, data in values.get("attachments", [])],
                "scheduled_date": values.get("scheduled_date") or False,
                # the layout around the body in the customer's language too
                "force_email_lang": values.get("lang"),
            }
        )

    def _ecrm_log_customer_mail(self, label, category):
        """One outbound email touch per case on its customer's interaction log
        (never blocked by pressure rules, always counted)."""
        self.env["ecrm.interaction"]._log(
            [
                {
                    "partner_id": case.partner_id.id,
                    "name": f"{label}: {case.name} {case.subject}",
                    "channel": "email",
                    "direction": "outbound",
                    "category": category,
                    "res_model": self._name,
                    "res_id": case.id,
                    "company_id": case.company_id.id,
                }
                for case in self
            ]
        )

    def _ecrm_customer_tz(self):
        """The customer's time zone, else the shop's working hours' one, else UTC."""
        self.ensure_one()
        # sudo: the calendar of the SLA policy is configuration, read for its time zone
        policy = self.sudo().policy_id
        return (
            self.partner_id.tz
            or policy.calendar_id.tz
            or self.company_id.resource_calendar_id.tz
            or self.env.user.tz
            or "UTC"
        )

    def _ecrm_acknowledge_deadline(self):
        """When the customer may expect an answer (the response deadline) in
        their time zone and language (the rendering's), e.g. "Monday, November
        30, 2026, 1:00 PM (Europe/Madrid)"; empty without an SLA."""
        self.ensure_one()
        # sudo: the deadline is internal to agents; the customer is told its date
        deadline = self.sudo().response_deadline
        if not deadline:
            return ""
        tz = self._ecrm_customer_tz()
        local = pytz.utc.localize(deadline).astimezone(pytz.timezone(tz))
        day = format_date(self.env, local.date(), date_format="full")
        hour = format_time(self.env, deadline, tz=tz, time_format="short")
        return f"{day}, {hour} ({tz})"

    # --- stage templates ----------------------------------------------------------------

    def _track_template(self, changes):
        res = super()._track_template(changes)
        case = self[0]
        if "stage_id" in changes and case.stage_id.template_id and case._ecrm_reachable():
            options = case._ecrm_customer_template_options()
            if options["email_from"]:
                res["stage_id"] = (case.stage_id.template_id, {"auto_delete_keep_log": False, **options})
        return res

    def _message_track_post_template(self, changes):
        # called per case, once its tracked changes are known (``changes``: field names)
        res = super()._message_track_post_template(changes)
        if (
            self
            and changes
            and "stage_id" in changes
            and self.stage_id.template_id
            and self._ecrm_reachable()
            and self._ecrm_shop_sender()[1]
        ):
            self._ecrm_log_customer_mail(self.env._("Email on stage %(stage)s", stage=self.stage_id.name), "service")
        return res
