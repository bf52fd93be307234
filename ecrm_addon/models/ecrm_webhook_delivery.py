# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import logging
from datetime import timedelta

from odoo import api, fields, models
from odoo.tools import SQL, create_index

from ..tools import webhook
from ..tools.cron import auto_commit

_logger = logging.getLogger(__name__)

# Attempts of one delivery before it is given up ('failed'), and the wait
# before attempt n + 1: BACKOFF_BASE * 2 ** (n - 1), at most BACKOFF_MAX.
MAX_ATTEMPTS = 8
BACKOFF_BASE = timedelta(minutes=2)
BACKOFF_MAX = timedelta(hours=6)
# Errors a retry cannot cure: the level's URL must change first.
PERMANENT_ERRORS = ("no_url", "invalid_url", "refused_address", "redirect")
# Sent deliveries are kept this long, then deleted.
SENT_KEEP_DAYS = 30
ERRORS = [
    ("no_url", "No webhook URL"),
    ("invalid_url", "Invalid URL"),
    ("refused_address", "Address refused (not public)"),
    ("dns", "Name not resolved"),
    ("timeout", "Timed out"),
    ("connection", "Connection failed"),
    ("tls", "TLS error"),
    ("redirect", "Redirect refused"),
    ("http_status", "Error status"),
    ("other", "Other error"),
]


class EcrmWebhookDelivery(models.Model):
    """The outbox of escalation webhooks: one row per call to make, written in
    the escalation batch's transaction and sent by its own cron after that
    commit, so that a slow or dead receiver never holds the cases' locks.
    Neither the rows nor the log hold the URL (it may carry a token)."""

    _name = "ecrm.webhook.delivery"
    _description = "Webhook Delivery"
    _order = "id desc"

    level_id = fields.Many2one(
        "ecrm.escalation.level", string="Escalation Level", required=True, ondelete="cascade", index=True, readonly=True
    )
    case_id = fields.Many2one("ecrm.case", required=True, ondelete="cascade", index=True, readonly=True)
    company_id = fields.Many2one("res.company", required=True, index=True, readonly=True)
    state = fields.Selection(
        [("queued", "Queued"), ("sent", "Sent"), ("failed", "Failed")],
        required=True,
        default="queued",
        readonly=True,
    )
    attempts = fields.Integer(readonly=True)
    next_attempt = fields.Datetime(default=fields.Datetime.now, readonly=True)
    last_attempt = fields.Datetime(readonly=True)
    last_status_code = fields.Integer(readonly=True)
    last_error = fields.Selection(ERRORS, readonly=True)
    payload = fields.Text(readonly=True, help="The JSON body, as the escalation described the case when it fired.")

    def init(self):
        # the send cron's scan: due queued rows only
        create_index(
            self.env.cr,
            "ecrm_webhook_delivery_queued_idx",
            self._table,
            ["next_attempt", "id"],
            where="state = 'queued'",
        )

    @api.depends("case_id", "level_id")
    def _compute_display_name(self):
        for delivery in self:
            delivery.display_name = f"{delivery.case_id.name} / {delivery.level_id.name}"

    def action_retry(self):
        """Queue failed deliveries again (after the level's URL was fixed), with a fresh count of attempts."""
        self.filtered(lambda d: d.state == "failed").write(
            {"state": "queued", "attempts": 0, "next_attempt": fields.Datetime.now()}
        )
        self._ecrm_trigger()

    @api.model
    def _ecrm_enqueue(self, level, cases):
        """Queue the webhook of ``level`` for each of ``cases``, in one create
        and in the caller's transaction: the calls happen once that commits,
        never before."""
        # sudo: the escalation runs for whichever user; the outbox is the addon's own
        return self.sudo().create(
            [
                {
                    "level_id": level.id,
                    "case_id": case.id,
                    "company_id": case.company_id.id,
                    "payload": level._ecrm_webhook_body(case),
                }
                for case in cases
            ]
        )

    @api.model
    def _ecrm_trigger_queued(self, cases):
        """Wake the send cron once these cases' batch commits, if it queued a delivery."""
        if self.sudo().search_count([("case_id", "in", cases.ids), ("state", "=", "queued")], limit=1):
            self._ecrm_trigger()

    @api.model
    def _ecrm_trigger(self, at=None):
        cron = self.env.ref("ecrm_addon.ir_cron_ecrm_send_webhooks", raise_if_not_found=False)
        if cron:
            cron.sudo()._trigger(at)  # sudo: any escalating user may wake the cron, not edit it

    def _ecrm_send(self):
        """Make one attempt of this (locked) delivery and record its outcome."""
        self.ensure_one()
        level = self.level_id.sudo()  # sudo: URL and secret are readable by administrators only
        status, error = 0, False
        if not level.webhook_url:
            error = "no_url"
        else:
            body = self.payload.encode()
            headers = {
                "Content-Type": "application/json",
                "User-Agent": "Odoo ecrm_addon",
                "Idempotency-Key": level._ecrm_webhook_key(self.case_id),
                webhook.SIGNATURE_HEADER: webhook.sign(level._ecrm_webhook_secret(), body),
            }
            try:
                status = webhook.post(level.webhook_url, body, headers)
            except webhook.WebhookError as failure:
                error = failure.kind
            except Exception as failure:  # whatever it is, the row must not stay due forever
                _logger.warning("Webhook delivery %s: unexpected %s", self.id, type(failure).__name__)
                error = "other"
            else:
                if 300 <= status < 400:
                    error = "redirect"
                elif not 200 <= status < 300:
                    error = "http_status"
        now = fields.Datetime.now()
        attempts = self.attempts + 1
        vals = {"attempts": attempts, "last_attempt": now, "last_status_code": status, "last_error": error}
        if not error:
            vals["state"] = "sent"
        elif error in PERMANENT_ERRORS or attempts >= MAX_ATTEMPTS:
            vals["state"] = "failed"
        else:
            vals["next_attempt"] = now + min(BACKOFF_BASE * 2 ** (attempts - 1), BACKOFF_MAX)
        self.write(vals)
        # the status code or the error class only: never the URL
        log = _logger.info if vals.get("state") != "failed" else _logger.warning
        log(
            "Webhook delivery %s (case %s, level %s), attempt %s: %s%s",
            self.id,
            self.case_id.name,
            level.name,
            attempts,
            status or error,
            " (given up)" if vals.get("state") == "failed" else "",
        )

    @api.model
    def _cron_ecrm_send_webhooks(self, limit=50):
        """Send the due deliveries, one row locked (SKIP LOCKED) and committed
        at a time, so that parallel workers share them and a slow receiver
        holds only its own row; then wake the cron for the next retry."""
        commit = auto_commit()
        seen = [0]
        done = 0
        while done < limit:
            self.env.flush_all()
            now = fields.Datetime.now()
            rows = self.env.execute_query(
                SQL(
                    """
                    SELECT id FROM ecrm_webhook_delivery
                     WHERE state = 'queued' AND next_attempt <= %(now)s AND NOT (id = ANY(%(seen)s))
                     ORDER BY next_attempt, id
                     LIMIT 1
                       FOR UPDATE SKIP LOCKED
                    """,
                    now=now,
                    seen=seen,
                )
            )
            if not rows:
                break
            seen.append(rows[0][0])
            self.browse(rows[0][0])._ecrm_send()
            done += 1
            remaining = self.search_count(
                [("state", "=", "queued"), ("next_attempt", "<=", now), ("id", "not in", seen)]
            )
            self.env["ir.cron"]._notify_progress(done=done, remaining=remaining)
            if commit:
                self.env.cr.commit()  # pylint: disable=invalid-commit
        self._ecrm_schedule_retry()
        return done

    @api.model
    def _ecrm_schedule_retry(self):
        """Wake the cron when the next queued retry is due (unless already planned)."""
        [(next_attempt,)] = self.env.execute_query(
            SQL("SELECT min(next_attempt) FROM ecrm_webhook_delivery WHERE state = 'queued'")
        )
        cron = self.env.ref("ecrm_addon.ir_cron_ecrm_send_webhooks", raise_if_not_found=False)
        if not next_attempt or not cron or next_attempt <= fields.Datetime.now():
            return
        planned = (
            self.env["ir.cron.trigger"]
            .sudo()
            .search_count([("cron_id", "=", cron.id), ("call_at", "<=", next_attempt)], limit=1)
        )
        if not planned:
            self._ecrm_trigger(next_attempt)

    @api.autovacuum
    def _gc_sent(self):
        limit = fields.Datetime.now() - timedelta(days=SENT_KEEP_DAYS)
        self.sudo().search([("state", "=", "sent"), ("last_attempt", "<", limit)]).unlink()
