# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from datetime import timedelta

from odoo import api, fields, models, tools
from odoo.exceptions import ValidationError
from odoo.tools import SQL

from ..tools.pressure import allocate


class EcrmSegmentAction(models.Model):
    """What the shop does when a customer enters (or leaves) an RFM segment.

    The RFM run executes the active actions after scoring, for the moves of its
    date in the segment history (``ecrm.rfm.snapshot``), once per move and
    action: each execution is claimed in ``ecrm.segment.action.log`` before it
    runs (see ``_ecrm_run_segment_actions``)."""

    _name = "ecrm.segment.action"
    _description = "Segment Action"
    _order = "segment_id, sequence, id"

    name = fields.Char(required=True, translate=True)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    company_id = fields.Many2one(
        "res.company",
        default=lambda self: self.env.company,
        help="Empty: the action runs in every company.",
    )
    segment_id = fields.Many2one(
        "ecrm.rfm.segment",
        string="RFM Segment",
        ondelete="cascade",
        help="Required to enter or leave; for a churn risk turning high, empty: whatever the segment.",
    )
    trigger = fields.Selection(
        [("enter", "Enters the segment"), ("leave", "Leaves the segment"), ("churn_high", "Turns high churn risk")],
        string="When the customer",
        required=True,
        default="enter",
    )
    min_expected_value = fields.Float(
        string="Minimum Expected Value",
        help="Turning high churn risk: only customers whose expected value (next 12 months, company currency) "
        "reaches this amount; 0: every customer.",
    )
    action_type = fields.Selection(
        [
            ("list_add", "Add to a mailing list"),
            ("list_remove", "Remove from a mailing list"),
            ("activity", "Schedule an activity"),
            ("template", "Send an email"),
        ],
        string="Action",
        required=True,
        default="template",
    )
    mailing_list_id = fields.Many2one("mailing.list", ondelete="restrict")
    activity_type_id = fields.Many2one("mail.activity.type", ondelete="restrict")
    activity_summary = fields.Char(string="Summary", translate=True)
    activity_delay_days = fields.Integer(string="Due after (days)", default=0)
    activity_user_id = fields.Many2one(
        "res.users",
        string="Fallback Assignee",
        help="Gets the activity of a customer without a salesperson; empty: such customers are skipped.",
    )
    template_id = fields.Many2one(
        "mail.template",
        string="Email Template",
        domain="[('model', '=', 'res.partner')]",
        ondelete="restrict",
        help="Sent as a marketing message: the contact-pressure rules apply as to mass mailings.",
    )
    pressure_defer = fields.Boolean(
        string="Defer Instead of Excluding",
        help="A customer a pressure rule blocks gets the email once the window frees, "
        "within the days below; later, it is excluded.",
    )
    pressure_defer_days = fields.Integer(string="Defer for (days)", default=7)
    log_ids = fields.One2many("ecrm.segment.action.log", "action_id", string="Executions")
    log_count = fields.Integer(string="Number of Executions", compute="_compute_log_count")

    def _compute_log_count(self):
        counts = dict(
            self.env["ecrm.segment.action.log"]._read_group([("action_id", "in", self.ids)], ["action_id"], ["__count"])
        )
        for action in self:
            action.log_count = counts.get(action, 0)

    @api.constrains(
        "action_type",
        "mailing_list_id",
        "activity_type_id",
        "template_id",
        "pressure_defer_days",
        "segment_id",
        "trigger",
    )
    def _check_action(self):
        for action in self:
            if not action.segment_id and action.trigger != "churn_high":
                raise ValidationError(
                    self.env._(
                        "Segment action %(action)s: choose the segment the customer enters or leaves.",
                        action=action.name,
                    )
                )
            needs = {
                "list_add": action.mailing_list_id,
                "list_remove": action.mailing_list_id,
                "activity": action.activity_type_id,
                "template": action.template_id,
            }
            if not needs[action.action_type]:
                raise ValidationError(
                    self.env._(
                        "Segment action %(action)s: choose the mailing list, activity type or email template it uses.",
                        action=action.name,
                    )
                )
            if action.template_id and action.template_id.model != "res.partner":
                raise ValidationError(
                    self.env._(
                        "Segment action %(action)s: the email template must be one of contacts.", action=action.name
                    )
                )
            if action.pressure_defer and action.pressure_defer_days < 1:
                raise ValidationError(
                    self.env._("Segment action %(action)s: defer for at least one day.", action=action.name)
                )

    @api.model_create_multi
    def create(self, vals_list):
        self.env.registry.clear_cache()  # _ecrm_churn_action_ids
        return super().create(vals_list)

    def write(self, vals):
        self.env.registry.clear_cache()
        return super().write(vals)

    def unlink(self):
        self.env.registry.clear_cache()
        return super().unlink()

    def action_view_logs(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("ecrm_addon.ecrm_segment_action_log_action")
        action["domain"] = [("action_id", "=", self.id)]
        return action

    # ------------------------------------------------------------------
    # Engine, called by the RFM run of each company
    # ------------------------------------------------------------------

    @api.model
    @tools.ormcache("company_id")
    def _ecrm_churn_action_ids(self, company_id):
        """The active actions on churn risk of a company: cached, so that a run
        without any reads nothing more."""
        self.env.cr.execute(
            SQL(
                """SELECT id FROM ecrm_segment_action
                    WHERE active AND trigger = 'churn_high' AND (company_id IS NULL OR company_id = %s)
                    ORDER BY id""",
                company_id,
            )
        )
        return tuple(row[0] for row in self.env.cr.fetchall())

    @api.model
    def _ecrm_high_risk_partner_ids(self, company):
        """Before the run: the customers of ``company`` already at high churn
        risk, when an action watches them turning high (else None, no query)."""
        if not self._ecrm_churn_action_ids(company.id):
            return None
        self.env["ecrm.clv.score"].flush_model(["churn_risk"])
        self.env.cr.execute(
            SQL(
                "SELECT partner_id FROM ecrm_clv_score WHERE company_id = %s AND churn_risk = 'high'",
                company.id,
            )
        )
        return [row[0] for row in self.env.cr.fetchall()]

    @api.model
    def _ecrm_run_segment_actions(self, company, date, first_run=False, high_before=None):
        """Run the actions of the moves of ``company``'s run of ``date``, in one
        statement that picks the deferred emails whose window freed (rows
        another run is retrying are skipped) and claims every (move, action)
        pair not run yet with ``INSERT ... ON CONFLICT DO NOTHING RETURNING``:
        a second run of the date, or a run overlapping this one, claims nothing
        twice (the unique index makes the later one wait for the earlier one's
        commit, then skip its rows or fail to serialise).

        ``high_before``: the customers at high churn risk before the run (see
        ``_ecrm_high_risk_partner_ids``); the others at high risk now are the
        moves of the churn-risk actions, claimed once per action, customer and
        date (no row of the segment history for them).

        A first run of the company (``first_run``) puts every customer in a
        segment; its moves are claimed as skipped, not acted on."""
        # sudo: the engine acts for the company (lists, activities, emails)
        # whatever the user who runs the RFM computation
        env = self.sudo().with_company(company).env
        Log = env["ecrm.segment.action.log"]
        now = fields.Datetime.now()
        for model in ("ecrm.segment.action", "ecrm.rfm.snapshot", "ecrm.segment.action.log"):
            env[model].flush_model()
        env.cr.execute(
            SQL(
                """
                WITH due AS (
                    SELECT id FROM ecrm_segment_action_log
                     WHERE state = 'deferred' AND company_id = %(company)s AND until <= %(now)s
                       FOR UPDATE SKIP LOCKED
                ),
                claimed AS (
                    INSERT INTO ecrm_segment_action_log AS l
                           (snapshot_id, action_id, company_id, partner_id, date, state, note)
                    SELECT s.id, a.id, s.company_id, s.partner_id, s.date,
                           CASE WHEN %(first)s THEN 'skipped' ELSE 'done' END,
                           CASE WHEN %(first)s THEN %(first_note)s END
                      FROM ecrm_rfm_snapshot s
                      JOIN ecrm_segment_action a
                        ON a.active AND a.trigger IN ('enter', 'leave')
                       AND (a.company_id IS NULL OR a.company_id = s.company_id)
                       AND a.segment_id = CASE a.trigger WHEN 'enter' THEN s.segment_id
                                                         ELSE s.previous_segment_id END
                     WHERE s.company_id = %(company)s AND s.date = %(date)s
                       AND s.previous_segment_id IS DISTINCT FROM s.segment_id
                     ORDER BY a.id, s.partner_id
                    ON CONFLICT (snapshot_id, action_id) DO NOTHING
                    RETURNING l.id
                ),
                churned AS (
                    INSERT INTO ecrm_segment_action_log AS l
                           (action_id, company_id, partner_id, date, state, note)
                    SELECT a.id, c.company_id, c.partner_id, %(date)s,
                           CASE WHEN %(first)s THEN 'skipped' ELSE 'done' END,
                           CASE WHEN %(first)s THEN %(first_note)s END
                      FROM ecrm_clv_score c
                      JOIN ecrm_segment_action a ON a.id = ANY(%(churn_actions)s::int[])
                     WHERE c.company_id = %(company)s AND c.churn_risk = 'high'
                       AND c.expected_value >= COALESCE(a.min_expected_value, 0)
                       AND (a.segment_id IS NULL OR a.segment_id = c.segment_id)
                       AND NOT c.partner_id = ANY(%(high_before)s::int[])
                     ORDER BY a.id, c.partner_id
                    ON CONFLICT (action_id, partner_id, date) WHERE snapshot_id IS NULL DO NOTHING
                    RETURNING l.id
                )
                SELECT TRUE, id FROM due
                 UNION ALL
                SELECT FALSE, id FROM claimed
                 UNION ALL
                SELECT FALSE, id FROM churned
                 ORDER BY 1 DESC, 2
                """,
                churn_actions=list(self._ecrm_churn_action_ids(company.id)) if high_before is not None else [],
                high_before=high_before or [],
                company=company.id,
                date=date,
                now=now,
                first=bool(first_run),
                first_note=env._("First computation of the scores: not a move"),
            )
        )
        rows = env.cr.fetchall()
        due = Log.browse([log_id for deferred, log_id in rows if deferred])
        claimed = Log.browse([log_id for deferred, log_id in rows if not deferred])
        if due:
            self._ecrm_retry_deferred(due, now)
        if first_run or not claimed:
            return claimed
        for action, logs in claimed.grouped("action_id").items():
            getattr(action, f"_ecrm_do_{action.action_type}")(logs)
        return claimed

    def _ecrm_do_list_add(self, logs):
        """Subscribe the customers' email addresses to the list: the contact of
        the address when the list's contacts have one, a new contact else. An
        address that left the list (opted out) is not subscribed again."""
        mailing_list = self.mailing_list_id
        partners = logs.partner_id
        no_email = logs.filtered(lambda log: not log.partner_id.email_normalized)
        no_email.write({"state": "skipped", "note": self.env._("No email address")})
        emails = {partner.email_normalized for partner in partners if partner.email_normalized}
        Contact = self.env["mailing.contact"]
        contacts = Contact.search([("email_normalized", "in", list(emails))], order="id")
        by_email = {}
        for contact in contacts:
            by_email.setdefault(contact.email_normalized, contact)
        subscribed = {
            subscription.contact_id.email_normalized
            for subscription in self.env["mailing.subscription"].search(
                [("list_id", "=", mailing_list.id), ("contact_id.email_normalized", "in", list(emails))]
            )
        }
        new_subscriptions, new_contacts, seen = [], [], set()
        for partner in partners:
            email = partner.email_normalized
            if not email or email in subscribed or email in seen:
                continue
            seen.add(email)
            if email in by_email:
                new_subscriptions.append({"contact_id": by_email[email].id, "list_id": mailing_list.id})
            else:
                new_contacts.append(
                    {
                        "name": partner.name,
                        "email": partner.email,
                        "country_id": partner.country_id.id,
                        "subscription_ids": [fields.Command.create({"list_id": mailing_list.id})],
                    }
                )
        self.env["mailing.subscription"].create(new_subscriptions)
        Contact.create(new_contacts)

    def _ecrm_do_list_remove(self, logs):
        """Take the customers' addresses off the list; an opt-out stays recorded."""
        emails = [email for email in logs.partner_id.mapped("email_normalized") if email]
        self.env["mailing.subscription"].search(
            [
                ("list_id", "=", self.mailing_list_id.id),
                ("opt_out", "=", False),
                ("contact_id.email_normalized", "in", emails),
            ]
        ).unlink()

    def _ecrm_do_activity(self, logs):
        """One activity per customer for its salesperson (else the action's user)."""
        today = fields.Date.context_today(self)
        model_id = self.env["ir.model"]._get_id("res.partner")
        todo = logs.filtered(lambda log: log.partner_id.user_id or self.activity_user_id)
        (logs - todo).write({"state": "skipped", "note": self.env._("No salesperson and no fallback assignee")})
        self.env["mail.activity"].create(
            [
                {
                    "res_model_id": model_id,
                    "res_id": log.partner_id.id,
                    "activity_type_id": self.activity_type_id.id,
                    "summary": self.activity_summary or self.name,
                    "date_deadline": today + timedelta(days=self.activity_delay_days),
                    "user_id": (log.partner_id.user_id or self.activity_user_id).id,
                }
                for log in todo
            ]
        )

    def _ecrm_do_template(self, logs):
        """Send the template as a marketing email, as a mass mailing would: the
        same pressure verdict (one query), the refused customers deferred until
        their window frees (within the action's days) or excluded, the sent
        ones logged as marketing interactions."""
        now = fields.Datetime.now()
        limit = now + timedelta(days=self.pressure_defer_days)
        logs.defer_limit = self.pressure_defer and limit
        self._ecrm_send_template(logs, now)

    def _ecrm_send_template(self, logs, now):
        company = self.env.company
        unreachable = logs.filtered(lambda log: not log.partner_id.email_normalized or log.partner_id.is_blacklisted)
        unreachable.write({"state": "skipped", "note": self.env._("No email address, or blacklisted")})
        todo = logs - unreachable
        if not todo:
            return
        verdicts = self.env["ecrm.pressure.rule"]._ecrm_check(
            company, "email", "marketing", partner_ids=todo.partner_id.ids, now=now
        )
        limits = {}
        for verdict in verdicts.values():
            limits.update(verdict.limits)
        refused = allocate([(log.id, [log.partner_id.id]) for log in todo], limits)
        for log in todo.filtered(lambda log: log.id in refused):
            blocked_until, _sequence, rule_id = refused[log.id]
            deferred = log.defer_limit and blocked_until <= log.defer_limit
            log.write(
                {
                    "state": "deferred" if deferred else "blocked",
                    "rule_id": rule_id,
                    "until": blocked_until,
                    "note": False,
                }
            )
        sent = todo.filtered(lambda log: log.id not in refused)
        if not sent:
            return
        sent.write({"state": "done", "until": False, "note": False})
        self.template_id.send_mail_batch(sent.partner_id.ids)
        Interaction = self.env["ecrm.interaction"]
        Interaction._log(
            [
                Interaction._log_values(
                    self,
                    log.partner_id.id,
                    self.name,
                    "email",
                    "outbound",
                    "marketing",
                    date=now,
                    company_id=company.id,
                )
                for log in sent
            ]
        )

    @api.model
    def _ecrm_retry_due_emails(self, now=None, limit=1000):
        """The hourly deferral cron's share (``ecrm.pressure.deferral``): send
        the deferred emails of every company whose window freed, as the RFM
        run does for its company, without waiting for the next run. One
        statement claims them (``FOR UPDATE SKIP LOCKED``: rows an RFM run or
        another cron is retrying are skipped, so an email is never sent twice);
        then company by company. Returns the claimed logs."""
        now = now or fields.Datetime.now()
        Log = self.env["ecrm.segment.action.log"]
        Log.flush_model()
        self.env.cr.execute(
            SQL(
                """
                SELECT company_id, id FROM ecrm_segment_action_log
                 WHERE state = 'deferred' AND until <= %s
                 ORDER BY company_id, until, id
                 LIMIT %s
                   FOR UPDATE SKIP LOCKED
                """,
                now,
                limit,
            )
        )
        by_company = {}
        for company_id, log_id in self.env.cr.fetchall():
            by_company.setdefault(company_id, []).append(log_id)
        claimed = Log.browse()
        for company_id, log_ids in by_company.items():
            # sudo: the engine acts for the company (emails, log), whatever the cron's user
            env = self.sudo().with_company(company_id).env
            due = env["ecrm.segment.action.log"].browse(log_ids)
            env["ecrm.segment.action"]._ecrm_retry_deferred(due, now)
            claimed |= due
        return claimed

    @api.model
    def _ecrm_retry_deferred(self, due, now):
        """Send the deferred emails ``due`` (their window freed); those past
        their limit are excluded."""
        expired = due.filtered(lambda log: log.defer_limit < now)
        expired.write({"state": "blocked"})
        for action, logs in (due - expired).grouped("action_id").items():
            if action.active:
                action._ecrm_send_template(logs, now)
            else:
                logs.write({"state": "skipped", "note": self.env._("Action archived while the email waited")})
