# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import json
import secrets
from collections import defaultdict

from markupsafe import escape

from odoo import api, fields, models
from odoo.exceptions import AccessError, ValidationError
from odoo.tools import plaintext2html


def _new_secret():
    return secrets.token_hex(32)


class EcrmEscalationLevel(models.Model):
    """One step of an escalation chain: fires once per case, ``delay_hours``
    working hours after (negative: before) the deadline it watches."""

    _name = "ecrm.escalation.level"
    _description = "Escalation Level"
    _order = "policy_id, sequence, id"

    name = fields.Char(required=True, translate=True)
    sequence = fields.Integer(default=10)
    policy_id = fields.Many2one("ecrm.escalation.policy", string="SLA Policy", required=True, ondelete="cascade")
    company_id = fields.Many2one(related="policy_id.company_id", store=True)
    watch = fields.Selection(
        [("response", "Response deadline"), ("resolution", "Resolution deadline")],
        required=True,
        default="response",
        help="Response levels stop at the first response; resolution levels when the case is closed.",
    )
    delay_hours = fields.Float(
        string="Delay (working hours)",
        help="Working hours after the deadline; negative: a warning before it.",
    )
    delay_percent = fields.Float(
        string="Delay (% of the target)",
        help="Added to the delay, as a share of the policy's target for the watched deadline: "
        "-25 fires when 75 % of the target has passed, and follows the target when it changes.",
    )
    notify_assignee = fields.Boolean(help="Mail the assignee and give them a to-do.")
    notify_team_leader = fields.Boolean(help="Mail the sales team's leader and give them a to-do.")
    notify_user_ids = fields.Many2many("res.users", string="Notify Users", domain=[("share", "=", False)])
    reassign_user_id = fields.Many2one("res.users", string="Reassign To", domain=[("share", "=", False)])
    raise_priority = fields.Boolean(help="Raise the case's priority by one step (up to Urgent).")
    mail_template_id = fields.Many2one(
        "mail.template", string="Email to Customer", domain=[("model", "=", "ecrm.case")]
    )
    # URL (it may carry the receiver's token) and signing secret: Settings administrators only
    webhook_url = fields.Char(
        string="Webhook URL",
        groups="base.group_system",
        copy=False,
        help="Receives a signed JSON POST describing the case, sent after the escalation is saved "
        "and retried with a growing delay. Only public addresses are called; redirects are not followed.",
    )
    webhook_secret = fields.Char(
        groups="base.group_system",
        copy=False,
        help="Key of the HMAC-SHA256 signature of each webhook body, "
        "sent in the X-Ecrm-Signature header as sha256=<hex digest>.",
    )

    @api.constrains("webhook_url")
    def _check_webhook_url(self):
        for level in self.sudo():  # sudo: the constraint reads the restricted URL of the level being saved
            if level.webhook_url and not level.webhook_url.startswith(("http://", "https://")):
                raise ValidationError(self.env._("The webhook of %(name)s must be an http(s) URL.", name=level.name))

    @api.model_create_multi
    def create(self, vals_list):
        # the ORM checks field groups on write and read, not on create
        restricted = any(vals.get("webhook_url") or vals.get("webhook_secret") for vals in vals_list)
        if restricted and not (self.env.su or self.env.user.has_group("base.group_system")):
            raise AccessError(self.env._("Only Settings administrators may set the webhook of an escalation level."))
        for vals in vals_list:
            vals.setdefault("webhook_secret", _new_secret())
        return super().create(vals_list)

    def action_ecrm_new_webhook_secret(self):
        """Replace the signing secret (the receiver must get the new one)."""
        for level in self:
            level.webhook_secret = _new_secret()

    def _ecrm_due_at(self, case, memo=None):
        """When this level is due for ``case``; False when it does not apply (any
        more). ``memo``: see ``ecrm.escalation.policy._ecrm_plan``."""
        self.ensure_one()
        if self.watch == "response":
            if case.first_response_date:
                return False
            deadline = case.response_deadline
        else:
            deadline = case.resolution_deadline
        if not deadline:
            return False
        return self.policy_id._ecrm_plan(deadline, self._ecrm_delay(), memo=memo)

    def _ecrm_delay(self):
        """The level's delay in working hours after the deadline it watches."""
        self.ensure_one()
        target = self.policy_id.response_hours if self.watch == "response" else self.policy_id.resolution_hours
        return self.delay_hours + target * self.delay_percent / 100.0

    def _ecrm_fire(self, cases):
        """Do what this level does for ``cases`` (of one company), each action
        batched: one activity create, one write per distinct new priority, the
        customer emails rendered together, the webhooks queued in one create
        and the closing notes logged in one go. Raises when an action fails
        (the caller retries the cases one by one to isolate the failing one)."""
        self.ensure_one()
        if not cases:
            return
        users_by_case = self._ecrm_users_to_notify(cases)
        notified = cases.filtered(lambda case: users_by_case[case])
        bodies = {
            case.id: self.env._(
                "Escalation %(level)s: case %(case)s (%(subject)s) is due.",
                level=self.name,
                case=case.name,
                subject=case.subject,
            )
            for case in notified
        }
        for case in notified:
            # one message per case: Odoo notifies (inbox or email) per message
            case.message_post(
                body=bodies[case.id],
                partner_ids=users_by_case[case].partner_id.ids,
                message_type="notification",
                subtype_xmlid="mail.mt_note",
            )
        if notified:
            self._ecrm_schedule_todos(notified, users_by_case, bodies)
        self._ecrm_write_cases(cases)
        with_partner = cases.filtered("partner_id")
        if self.mail_template_id and with_partner:
            with_partner.message_post_with_source(self.mail_template_id, subtype_xmlid="mail.mt_comment")
        if self.sudo().webhook_url:  # sudo: whoever escalates queues the call, only administrators read the URL
            self.env["ecrm.webhook.delivery"]._ecrm_enqueue(self, cases)
        cases._ecrm_log_same_note(escape(self.env._("Escalation level %(level)s fired.", level=self.name)))

    def _ecrm_users_to_notify(self, cases):
        """{case: users} hearing of this level: only active users of the case's company."""
        if not (self.notify_user_ids or self.notify_assignee or self.notify_team_leader):
            return dict.fromkeys(cases, self.env["res.users"])
        users_by_case = {}
        for case in cases:
            users = self.notify_user_ids
            if self.notify_assignee:
                users |= case.user_id
            if self.notify_team_leader:
                users |= case.team_id.user_id
            company = case.company_id
            users_by_case[case] = users.filtered(
                lambda user, company=company: user.active and company in user.company_ids
            )
        return users_by_case

    def _ecrm_schedule_todos(self, cases, users_by_case, bodies):
        """A to-do per notified user and case, created in one call."""
        activity_type = self.env.ref("mail.mail_activity_data_todo")
        model_id = self.env["ir.model"]._get_id("ecrm.case")
        today = fields.Date.context_today(self)
        vals_list = [
            {
                "activity_type_id": activity_type.id,
                "summary": self.env._("Escalated: %(case)s", case=case.name),
                # the note is HTML: the customer's subject is text, escaped
                "note": plaintext2html(bodies[case.id]),
                "automated": True,
                "date_deadline": today,
                "res_model_id": model_id,
                "res_id": case.id,
                "user_id": user.id,
            }
            for case in cases
            for user in users_by_case[case]
        ]
        return self.env["mail.activity"].create(vals_list)

    def _ecrm_write_cases(self, cases):
        """Reassign and raise the priority: one write per distinct new value."""
        vals = {}
        if self.reassign_user_id and cases.company_id <= self.reassign_user_id.company_ids:
            vals["user_id"] = self.reassign_user_id.id
        groups = defaultdict(lambda: cases.browse())
        for case in cases:
            raised = str(int(case.priority) + 1) if self.raise_priority and case.priority < "3" else None
            groups[raised] |= case
        for raised, group in groups.items():
            group_vals = dict(vals, priority=raised) if raised else vals
            if group_vals:
                group.write(group_vals)

    def _ecrm_webhook_key(self, case):
        """The same for every call of this level on this case: a batch rolled
        back after its webhook succeeded calls it again on the next run (at
        least once), and the receiver drops the repeat by this key."""
        return f"ecrm-case-{case.id}-level-{self.id}"

    def _ecrm_webhook_payload(self, case):
        return {
            "event": "ecrm.case.escalation",
            "idempotency_key": self._ecrm_webhook_key(case),
            "level": self.name,
            "policy": self.policy_id.name,
            "case": {
                "id": case.id,
                "reference": case.name,
                "subject": case.subject,
                "priority": case.priority,
                "channel": case.channel,
                "stage": case.stage_id.name,
                "partner_id": case.partner_id.id,
                "user_id": case.user_id.id,
                "response_deadline": fields.Datetime.to_string(case.response_deadline),
                "resolution_deadline": fields.Datetime.to_string(case.resolution_deadline),
            },
        }

    def _ecrm_webhook_body(self, case):
        """The JSON text sent (and signed) for ``case``."""
        return json.dumps(self._ecrm_webhook_payload(case))

    def _ecrm_webhook_secret(self):
        """The signing secret, made now for a level that has none (e.g. created through SQL)."""
        self.ensure_one()
        level = self.sudo()  # sudo: the secret is readable by administrators only
        if not level.webhook_secret:
            level.webhook_secret = _new_secret()
        return level.webhook_secret
