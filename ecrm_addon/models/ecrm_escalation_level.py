import json
import logging

import requests

from odoo import api, fields, models
from odoo.exceptions import ValidationError
from odoo.tools import plaintext2html

_logger = logging.getLogger(__name__)

WEBHOOK_TIMEOUT = 5


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
    notify_assignee = fields.Boolean(help="Mail the assignee and give them a to-do.")
    notify_team_leader = fields.Boolean(help="Mail the sales team's leader and give them a to-do.")
    notify_user_ids = fields.Many2many("res.users", string="Notify Users", domain=[("share", "=", False)])
    reassign_user_id = fields.Many2one("res.users", string="Reassign To", domain=[("share", "=", False)])
    raise_priority = fields.Boolean(help="Raise the case's priority by one step (up to Urgent).")
    mail_template_id = fields.Many2one(
        "mail.template", string="Email to Customer", domain=[("model", "=", "ecrm.case")]
    )
    webhook_url = fields.Char(
        string="Webhook URL", help="Receives a JSON POST describing the case; failures are retried on the next run."
    )

    @api.constrains("webhook_url")
    def _check_webhook_url(self):
        for level in self:
            if level.webhook_url and not level.webhook_url.startswith(("http://", "https://")):
                raise ValidationError(self.env._("The webhook of %(name)s must be an http(s) URL.", name=level.name))

    def _ecrm_due_at(self, case):
        """When this level is due for ``case``; False when it does not apply (any more)."""
        self.ensure_one()
        if self.watch == "response":
            if case.first_response_date:
                return False
            deadline = case.response_deadline
        else:
            deadline = case.resolution_deadline
        if not deadline:
            return False
        return self.policy_id._ecrm_plan(deadline, self.delay_hours)

    def _ecrm_fire(self, case):
        """Do what this level does for ``case``. Raises when an action fails
        (the caller records the failure and retries on the next run)."""
        self.ensure_one()
        case.ensure_one()
        users = self.notify_user_ids
        if self.notify_assignee:
            users |= case.user_id
        if self.notify_team_leader:
            users |= case.team_id.user_id
        users = users.filtered("active")
        body = self.env._(
            "Escalation %(level)s: case %(case)s (%(subject)s) is due.",
            level=self.name,
            case=case.name,
            subject=case.subject,
        )
        if users:
            case.message_post(
                body=body,
                partner_ids=users.partner_id.ids,
                message_type="notification",
                subtype_xmlid="mail.mt_note",
            )
            for user in users:
                case.activity_schedule(
                    "mail.mail_activity_data_todo",
                    summary=self.env._("Escalated: %(case)s", case=case.name),
                    # the note is HTML: the customer's subject is text, escaped
                    note=plaintext2html(body),
                    user_id=user.id,
                )
        vals = {}
        if self.reassign_user_id:
            vals["user_id"] = self.reassign_user_id.id
        if self.raise_priority and case.priority < "3":
            vals["priority"] = str(int(case.priority) + 1)
        if vals:
            case.write(vals)
        if self.mail_template_id and case.partner_id:
            case.message_post_with_source(self.mail_template_id, subtype_xmlid="mail.mt_comment")
        if self.webhook_url:
            self._ecrm_call_webhook(case)
        case.message_post(
            body=self.env._("Escalation level %(level)s fired.", level=self.name),
            message_type="notification",
            subtype_xmlid="mail.mt_note",
        )

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

    def _ecrm_call_webhook(self, case):
        response = requests.post(
            self.webhook_url,
            data=json.dumps(self._ecrm_webhook_payload(case)),
            headers={"Content-Type": "application/json", "Idempotency-Key": self._ecrm_webhook_key(case)},
            timeout=WEBHOOK_TIMEOUT,
        )
        response.raise_for_status()
