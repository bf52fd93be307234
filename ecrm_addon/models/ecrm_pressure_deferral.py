# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models

from ..tools.cron import auto_commit


class EcrmPressureDeferral(models.Model):
    """A mailing recipient a pressure rule blocked, waiting for its window to free."""

    _name = "ecrm.pressure.deferral"
    _description = "Deferred Mailing Recipient"
    _order = "until, id"
    _rec_name = "partner_id"

    mailing_id = fields.Many2one("mailing.mailing", required=True, ondelete="cascade", index=True)
    company_id = fields.Many2one(
        "res.company",
        required=True,
        index=True,
        default=lambda self: self.env.company,
        help="The company whose pressure rules held the recipient back: the mailing's.",
    )
    res_model = fields.Char(string="Recipient Model", required=True)
    res_id = fields.Many2oneReference(string="Recipient", model_field="res_model", required=True)
    partner_id = fields.Many2one("res.partner", string="Customer", ondelete="cascade")
    rule_id = fields.Many2one("ecrm.pressure.rule", string="Pressure Rule", ondelete="set null")
    until = fields.Datetime(string="Blocked Until", required=True)
    state = fields.Selection(
        [("waiting", "Waiting"), ("done", "Processed"), ("cancelled", "Excluded")],
        required=True,
        default="waiting",
    )

    _sql_constraints = [
        ("mailing_res_unique", "UNIQUE(mailing_id, res_id)", "A recipient is deferred once per mailing."),
    ]

    def init(self):
        # the cron reads the waiting rows that are due
        self.env.cr.execute(
            "CREATE INDEX IF NOT EXISTS ecrm_pressure_deferral_due_idx "
            "ON ecrm_pressure_deferral (until) WHERE state = 'waiting'"
        )

    @api.model
    def _cron_ecrm_retry_deferred(self, limit=1000):
        """Send the deferred recipients whose window has freed, mailing by mailing;
        exclude those whose mailing's limit date passed. Then the emails of
        segment actions deferred the same way (``ecrm.segment.action``). Never sends twice: a
        recipient that already has a trace for the mailing is only marked sent.
        Safe to run twice or in parallel (rows are locked, busy ones skipped)."""
        now = fields.Datetime.now()
        self.flush_model()
        self.env.cr.execute(
            """
            SELECT d.id
              FROM ecrm_pressure_deferral d
             WHERE d.state = 'waiting' AND d.until <= %s
             ORDER BY d.mailing_id, d.until
             LIMIT %s
               FOR UPDATE SKIP LOCKED
            """,
            [now, limit],
        )
        due = self.browse([row[0] for row in self.env.cr.fetchall()])
        # expired: the mailing's limit date passed while the recipient waited
        self.env.cr.execute(
            """
            SELECT d.id
              FROM ecrm_pressure_deferral d
              JOIN mailing_mailing m ON m.id = d.mailing_id
             WHERE d.state = 'waiting'
               AND (m.ecrm_pressure_defer_until IS NULL OR m.ecrm_pressure_defer_until < %s)
             LIMIT %s
               FOR UPDATE SKIP LOCKED
            """,
            [now, limit],
        )
        expired = self.browse([row[0] for row in self.env.cr.fetchall()])
        due -= expired
        for company in expired.company_id:
            expired.filtered(lambda d, c=company: d.company_id == c).with_company(company)._ecrm_cancel()
        # company by company, mailing by mailing: each retry runs in the
        # deferral's company (its rules, its log), whatever the cron user's
        batches = [
            (company, mailing)
            for company in due.company_id
            for mailing in due.filtered(lambda d, c=company: d.company_id == c).mailing_id
        ]
        commit = auto_commit()
        for done, (company, mailing) in enumerate(batches, start=1):
            due.filtered(lambda d, c=company, m=mailing: d.company_id == c and d.mailing_id == m).with_company(
                company
            )._ecrm_retry()
            self.env["ir.cron"]._notify_progress(done=done, remaining=len(batches) - done)
            if commit:
                self.env.cr.commit()  # pylint: disable=invalid-commit
        # the emails of segment actions deferred by the same rules
        self.env["ecrm.segment.action"]._ecrm_retry_due_emails(now, limit=limit)
        if commit:
            self.env.cr.commit()  # pylint: disable=invalid-commit

    def _ecrm_already_traced(self):
        """The deferrals of one mailing whose recipient already has a trace for it."""
        mailing = self.mailing_id
        traces = self.env["mailing.trace"].search(
            [
                ("mass_mailing_id", "=", mailing.id),
                ("model", "=", mailing.mailing_model_real),
                ("res_id", "in", self.mapped("res_id")),
            ]
        )
        traced = set(traces.mapped("res_id"))
        return self.filtered(lambda deferral: deferral.res_id in traced)

    def _ecrm_retry(self):
        """Send again the deferrals of one mailing; the composers re-check the
        rules, so a recipient blocked again is deferred again or excluded."""
        mailing = self.mailing_id
        mailing.ensure_one()
        traced = self._ecrm_already_traced()
        traced.state = "done"
        todo = self - traced
        records = self.env[mailing.mailing_model_real].browse(todo.mapped("res_id")).exists()
        (todo.filtered(lambda deferral: deferral.res_id not in records.ids)).state = "cancelled"
        if not records:
            return
        sent_date, kpi = mailing.sent_date, mailing.kpi_mail_required
        mailing._action_send_mail(res_ids=records.ids)
        # a retry is not a new sending of the mailing
        mailing.write({"sent_date": sent_date, "kpi_mail_required": kpi})
        # Processed now: a trace exists (sent, or cancelled by Odoo itself). The
        # composer already re-deferred (later date) or excluded the blocked ones.
        retried = todo.filtered(lambda deferral: deferral.res_id in records.ids)
        retried._ecrm_already_traced().filtered(lambda deferral: deferral.state == "waiting").state = "done"

    def _ecrm_cancel(self):
        """Exclude expired deferrals: a cancelled trace naming the rule, as when sending."""
        if not self:
            return
        traced = self.env["ecrm.pressure.deferral"]
        for mailing in self.mailing_id:
            traced |= self.filtered(lambda d, m=mailing: d.mailing_id == m)._ecrm_already_traced()
        traced.state = "done"
        todo = self - traced
        self.env["mailing.trace"].create(
            [
                {
                    "mass_mailing_id": deferral.mailing_id.id,
                    "model": deferral.res_model,
                    "res_id": deferral.res_id,
                    "trace_type": "sms" if deferral.mailing_id.mailing_type == "sms" else "mail",
                    "trace_status": "cancel",
                    "failure_type": "ecrm_pressure",
                    "ecrm_pressure_rule_id": deferral.rule_id.id,
                    "failure_reason": self.env._(
                        "Excluded by pressure rule %(rule)s: still blocked at the mailing's limit date",
                        rule=deferral.rule_id.sudo().name or "",
                    ),
                }
                for deferral in todo
            ]
        )
        todo.state = "cancelled"
