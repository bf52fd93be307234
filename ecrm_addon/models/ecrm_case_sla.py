# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Case deadlines, the clock paused while waiting on the customer, and the
escalation and late-delivery crons."""

import logging
from collections import defaultdict
from datetime import timedelta

from odoo import api, fields, models
from odoo.service.model import PG_CONCURRENCY_EXCEPTIONS_TO_RETRY
from odoo.tools import SQL

from ..tools.cron import auto_commit
from .stock_picking import PENDING_DELIVERY_DOMAIN

_logger = logging.getLogger(__name__)

# How many times the escalation cron retries a batch that hit a serialization
# failure or a deadlock (another worker committed a change to one of its cases).
ESCALATION_BATCH_TRIES = 5
# Due cases locked, fired and committed together. Each level fires once per
# batch, so a batch's fixed cost (reading its levels, the notes' first message,
# the commit) is shared by its cases; 250 cases are well under a second of
# work (locks held), and cost a quarter less than batches of 100.
ESCALATION_BATCH_SIZE = 250


class EcrmCase(models.Model):
    _inherit = "ecrm.case"

    @api.depends("priority", "channel", "category_id", "company_id")
    def _compute_policy_id(self):
        # sudo: every case user gets the policy that applies, whoever configured it.
        policies = (
            self.env["ecrm.escalation.policy"].sudo().search([("company_id", "in", [*self.company_id.ids, False])])
        )
        for case in self:
            policy = next((p for p in policies if p._ecrm_covers(case)), policies.browse())
            case.policy_id = policy.id

    @api.depends(
        "policy_id.response_hours",
        "policy_id.resolution_hours",
        "policy_id.calendar_id",
        "date_open",
        "ecrm_paused_hours",
    )
    def _compute_deadlines(self):
        memo = self._ecrm_memo("plan")  # the calendars' working time, read once for the batch
        for case in self:
            policy = case.policy_id.sudo()
            if not policy or not case.date_open:
                case.response_deadline = case.resolution_deadline = False
                continue
            paused = case.ecrm_paused_hours
            case.response_deadline = (
                policy._ecrm_plan(case.date_open, policy.response_hours + paused, memo=memo)
                if policy.response_hours
                else False
            )
            case.resolution_deadline = (
                policy._ecrm_plan(case.date_open, policy.resolution_hours + paused, memo=memo)
                if policy.resolution_hours
                else False
            )

    @api.depends("escalation_ids.state", "escalation_ids.rank")
    def _compute_escalation_level(self):
        for case in self:
            case.escalation_level = max(case.escalation_ids.filtered(lambda e: e.state == "done").mapped("rank") or [0])

    @api.depends(
        "response_deadline",
        "resolution_deadline",
        "first_response_date",
        "is_closed",
        "ecrm_paused_since",
        "policy_id.level_ids.delay_hours",
        "policy_id.level_ids.delay_percent",
        "policy_id.level_ids.watch",
        "escalation_ids.state",
    )
    def _compute_next_escalation_at(self):
        memo = self._ecrm_memo("plan")  # the calendars' working time, read once for the batch
        for case in self:
            case.next_escalation_at = min(case._ecrm_pending_levels(memo).values(), default=False)

    def _compute_sla_late(self):
        now = fields.Datetime.now()
        for case in self:
            response_at = case.first_response_date or now
            resolution_at = case.date_closed or now
            case.response_late = bool(case.response_deadline and response_at > case.response_deadline)
            case.resolution_late = bool(case.resolution_deadline and resolution_at > case.resolution_deadline)

    @api.model_create_multi
    def create(self, vals_list):
        # The deadlines and escalation levels of new cases plan on the same
        # working time: read once for the batch. They are computed before the
        # insert (precomputed); a case the creation changes again (created
        # waiting on the customer) is recomputed here, not at the flush after
        # the memo is gone.
        with self._ecrm_creation_memo():
            cases = super().create(vals_list)
            cases._recompute_recordset(["next_escalation_at"])
        return cases

    def _ecrm_track_clock(self, new_stage, vals):
        """Pause/resume the clocks and stamp the closing date on a stage move.

        Leaving a waiting stage adds the working hours spent there to the paused
        time, which pushes both deadlines back by as much."""
        now = fields.Datetime.now()
        to_pause = self.browse()
        to_resume = self.browse()
        for case in self:
            if case.stage_id == new_stage:
                continue
            if new_stage.is_waiting_customer and not case.ecrm_paused_since:
                to_pause |= case
            elif not new_stage.is_waiting_customer and case.ecrm_paused_since:
                to_resume |= case
        for case in to_resume:
            policy = case.policy_id.sudo()
            hours = policy._ecrm_work_hours(case.ecrm_paused_since, now) if policy else 0.0
            # a write per case: the hours differ; sudo: the clock is the system's
            case.sudo().write({"ecrm_paused_hours": case.ecrm_paused_hours + hours, "ecrm_paused_since": False})
        if to_pause:
            to_pause.sudo().write({"ecrm_paused_since": now})  # sudo: the clock is the system's
        if new_stage.is_closed:
            vals.setdefault("date_closed", now)
        elif "date_closed" not in vals:
            vals["date_closed"] = False

    def _ecrm_first_response(self, message):
        unanswered = self.filtered(lambda c: not c.first_response_date)
        if unanswered:
            unanswered.sudo().first_response_date = message.date  # sudo: a system stamp
        self._ecrm_log_interactions("outbound", "answered")

    def _ecrm_pending_levels(self, memo=None):
        """{level: due datetime} for the levels still to fire (or to retry) on
        this case. ``memo``: see ``ecrm.escalation.policy._ecrm_plan``."""
        self.ensure_one()
        if self.is_closed or self.ecrm_paused_since or not self.policy_id:
            return {}
        done = self.escalation_ids.filtered(lambda e: e.state == "done").level_id
        pending = {}
        for level in self.policy_id.sudo().level_ids - done:
            due = level._ecrm_due_at(self, memo)
            if due:
                pending[level] = due
        return pending

    @api.model
    def _cron_ecrm_escalate(self, batch_size=ESCALATION_BATCH_SIZE):
        """Fire the due escalation levels, each once per case.

        Only due cases are read (partial index on ``next_escalation_at``), in
        batches locked with SKIP LOCKED so that parallel workers share the work;
        each batch reads the index on from the previous one. A case skipped as
        busy still counts as remaining, so Odoo's cron runner calls the job
        again (a new run reads the index from its start).
        A level's log row is inserted (unique per case and level) before its
        actions run, and the batch commits with it: a crash rolls both back, a
        second worker finds the row and does nothing. A failed action leaves a
        'failed' row that the next run retries. A batch that meets another
        worker's concurrent update (serialization failure, deadlock) is rolled
        back and retried with a fresh snapshot, the batches before it staying
        committed.
        """
        now = fields.Datetime.now()
        commit = auto_commit()
        seen = []
        done = 0
        tries = 0
        # counted once: the due cases left are those not done since (the cases
        # that fall due during the run wait for the next one, as ``now`` is fixed)
        due = None
        after = None
        while True:
            try:
                rows = self._ecrm_escalate_batch(now, seen, batch_size, after)
            except PG_CONCURRENCY_EXCEPTIONS_TO_RETRY as error:
                # Another worker changed one of these cases after this transaction's
                # snapshot: nothing of the batch is kept; earlier batches are committed.
                # Retry the batch with a fresh snapshot (only when this cron owns its
                # transaction; inside a caller's transaction the caller decides).
                tries += 1
                if not commit or tries >= ESCALATION_BATCH_TRIES:
                    raise
                _logger.info("Escalation batch retried after a concurrent update (%s, try %s)", error.pgcode, tries)
                self.env.cr.rollback()  # also clears the environments' caches
                continue
            if not rows:
                break
            tries = 0
            seen.extend(row[0] for row in rows)
            done += len(rows)
            after = rows[-1][::-1]
            if due is None:
                [(left,)] = self.env.execute_query(
                    SQL(
                        "SELECT count(*) FROM ecrm_case WHERE next_escalation_at <= %s AND NOT (id = ANY(%s))",
                        now,
                        seen,
                    )
                )
                due = done + left
            self.env["ir.cron"]._notify_progress(done=done, remaining=max(due - done, 0))
            if commit:
                self.env.cr.commit()  # pylint: disable=invalid-commit
        return done

    @api.model
    def _ecrm_escalate_batch(self, now, seen, batch_size, after=None):
        """Lock the next ``batch_size`` due cases not in ``seen`` and after
        ``after`` (the ``(next_escalation_at, id)`` of the previous batch's last
        case: the index is read from there, not again over the cases already
        done and the entries their updates left behind), busy ones skipped, and
        fire their due levels; returns their ``[(id, next_escalation_at)]``."""
        self.env.flush_all()
        rows = self.env.execute_query(
            SQL(
                """
                SELECT id, next_escalation_at FROM ecrm_case
                 WHERE next_escalation_at <= %(now)s %(after)s AND NOT (id = ANY(%(seen)s))
                 ORDER BY next_escalation_at, id
                 LIMIT %(limit)s
                   FOR UPDATE SKIP LOCKED
                """,
                now=now,
                after=SQL("AND (next_escalation_at, id) > (%s, %s)", *after) if after else SQL(),
                seen=seen,
                limit=batch_size,
            )
        )
        if rows:
            self.browse([row[0] for row in rows])._ecrm_escalate(now)
        return rows

    def _ecrm_escalate(self, now):
        """Fire the levels of these (locked) cases that are due at ``now``.

        Every due (case, level) is claimed in one statement (its log row,
        unique per case and level); the claimed cases are then grouped per
        level and company and each group fires in one batch. A group that
        fails is rolled back to its savepoint and its cases fire one at a time,
        so that only the failing one is logged 'failed' (for the next run)."""
        due = self._ecrm_due_levels(now)
        claimed = self._ecrm_claim_levels(due, now)
        Log = self.env["ecrm.case.escalation"].sudo()
        groups = defaultdict(list)
        for case, level, _rank in due:
            log_id = claimed.get((case.id, level.id))
            if log_id:  # otherwise another worker or an earlier run fired it
                groups[level, case.company_id].append((case, log_id))
        for (level, company), members in sorted(groups.items(), key=lambda item: (item[0][0].sequence, item[0][0].id)):
            cases = self.browse([case.id for case, _log_id in members]).with_company(company)
            logs = Log.browse([log_id for _case, log_id in members])
            # in the case's company: its templates, sequences and rules
            firing = level.with_company(company)
            error = self._ecrm_fire_safely(firing, cases)
            if not error:
                logs.modified(["state", "rank"])
            elif len(cases) == 1:
                self._ecrm_log_failure(firing, cases, logs, error)
            else:
                # isolate the failing case: each case of the group alone
                for case, log in zip(cases, logs, strict=True):
                    if error := self._ecrm_fire_safely(firing, case):
                        self._ecrm_log_failure(firing, case, log, error)
                    else:
                        log.modified(["state", "rank"])
        self.modified(["escalation_ids"])
        # webhooks go out from their outbox, by their own cron, once this batch commits
        self.env["ecrm.webhook.delivery"]._ecrm_trigger_queued(self)

    def _ecrm_due_levels(self, now):
        """[(case, level, rank)] of the levels due at ``now``, in firing order per case."""
        due = []
        for case in self:
            pending = case._ecrm_pending_levels()
            chain = list(case.policy_id.sudo().level_ids)
            levels = sorted((lvl for lvl, at in pending.items() if at <= now), key=lambda lvl: (lvl.sequence, lvl.id))
            due.extend((case, level, chain.index(level) + 1) for level in levels)
        return due

    def _ecrm_claim_levels(self, due, now):
        """Insert the log rows of ``due`` in one statement; {(case id, level id):
        log id} of those this run claimed (new, or failed before and retried)."""
        if not due:
            return {}
        rows = self.env.execute_query(
            SQL(
                """
                INSERT INTO ecrm_case_escalation
                       (case_id, level_id, rank, fired_at, state, attempts, company_id,
                        create_uid, write_uid, create_date, write_date)
                SELECT d.case_id, d.level_id, d.rank, %(now)s, 'done', 1, d.company_id,
                       %(uid)s, %(uid)s, %(now)s, %(now)s
                  FROM unnest(%(cases)s::int[], %(levels)s::int[], %(ranks)s::int[], %(companies)s::int[])
                       AS d(case_id, level_id, rank, company_id)
                ON CONFLICT (case_id, level_id) DO UPDATE
                   SET attempts = ecrm_case_escalation.attempts + 1, fired_at = %(now)s,
                       state = 'done', error = NULL
                 WHERE ecrm_case_escalation.state = 'failed'
                RETURNING case_id, level_id, id
                """,
                now=now,
                uid=self.env.uid,
                cases=[case.id for case, _level, _rank in due],
                levels=[level.id for _case, level, _rank in due],
                ranks=[rank for _case, _level, rank in due],
                companies=[case.company_id.id for case, _level, _rank in due],
            )
        )
        self.env["ecrm.case.escalation"].invalidate_model()
        self.invalidate_recordset(["escalation_ids"])
        return {(case_id, level_id): log_id for case_id, level_id, log_id in rows}

    def _ecrm_fire_safely(self, level, cases):
        """Fire ``level`` on ``cases`` under a savepoint; the error, if an action failed."""
        try:
            with self.env.cr.savepoint():
                level._ecrm_fire(cases)
        except PG_CONCURRENCY_EXCEPTIONS_TO_RETRY:
            # another transaction changed a record the actions write (e.g. the
            # notified partner): not a failed action; the cron retries the batch
            raise
        except Exception as error:
            return error
        return None

    def _ecrm_log_same_note(self, body):
        """Log the internal note ``body`` (HTML) on each of these cases, as
        ``_message_log_batch`` does: the first through it (Odoo's defaults,
        sanitizing and author), the others as copies of that message's row,
        in one INSERT. Such a note has no recipients, attachments, tracking
        nor notifications: the row is the whole message; creating each through
        the ORM cost more than the rest of the escalation together."""
        if not self:
            return self.env["mail.message"]
        # the author alone: its email computed for it, not for every partner prefetched with it
        author = self.env.user.partner_id.with_prefetch()
        first = self[:1]._message_log_batch(
            {self[:1].id: body},
            author_id=author.id,
            email_from=author.email_formatted,
            message_type="notification",
        )
        others = self[1:]
        if not others:
            return first
        Message = self.env["mail.message"].sudo()  # sudo: as _message_log_batch, which creates the first one
        Message.flush_model()
        columns = [
            SQL.identifier(name)
            for name, field in Message._fields.items()
            if field.store and field.column_type and name not in ("id", "res_id")
        ]
        rows = self.env.execute_query(
            SQL(
                """
                INSERT INTO mail_message (%(columns)s, res_id)
                SELECT %(columns)s, copy.res_id
                  FROM mail_message, unnest(%(res_ids)s::int[]) AS copy(res_id)
                 WHERE mail_message.id = %(first)s
                 ORDER BY copy.res_id
                RETURNING id
                """,
                columns=SQL(", ").join(columns),
                res_ids=others.ids,
                first=first.id,
            )
        )
        copies = Message.browse(sorted(row[0] for row in rows))
        copies.modified([name for name, field in Message._fields.items() if field.store], create=True)
        # the cases' message lists (inverses of res_id) read them again
        inverses = self.pool.field_inverses[Message._fields["res_id"]]
        others.invalidate_recordset([field.name for field in inverses if field.model_name == self._name])
        return first | copies

    def _ecrm_log_failure(self, level, case, log, error):
        _logger.warning("Escalation %s of case %s failed: %s", level.name, case.name, error)
        log.write({"state": "failed", "error": str(error)})

    @api.model
    def _cron_ecrm_late_deliveries(self, batch_size=500):
        """Open one case per customer delivery still not done ``margin`` hours
        after its scheduled date (system parameter
        ``ecrm_addon.late_delivery_margin_hours``, default 24)."""
        params = self.env["ir.config_parameter"].sudo()
        margin = float(params.get_param("ecrm_addon.late_delivery_margin_hours", 24))
        limit = fields.Datetime.now() - timedelta(hours=margin)
        category = self.env.ref("ecrm_addon.ecrm_case_category_delivery", raise_if_not_found=False)
        Picking = self.env["stock.picking"]
        domain = [
            *PENDING_DELIVERY_DOMAIN,
            ("scheduled_date", "<", limit),
            ("partner_id", "!=", False),
            ("ecrm_late_case_id", "=", False),
        ]
        opened = 0
        commit = auto_commit()
        while pickings := Picking.search(domain, order="scheduled_date, id", limit=batch_size):
            cases = self._ecrm_open_late_delivery_cases(pickings, category)
            opened += len(cases)
            self.env["ir.cron"]._notify_progress(done=opened, remaining=Picking.search_count(domain))
            if commit:
                self.env.cr.commit()  # pylint: disable=invalid-commit
        return opened

    @api.model
    def _ecrm_open_late_delivery_cases(self, pickings, category):
        """One case per late delivery, linked to it (in the same transaction, so
        a delivery gets its case exactly once)."""
        cases = self.create(
            [
                {
                    "subject": self.env._("Delivery %(name)s is late", name=picking.name),
                    "partner_id": (picking.sale_id.partner_id or picking.partner_id).id,
                    "picking_id": picking.id,
                    "sale_order_id": picking.sale_id.id,
                    "category_id": category.id if category else False,
                    "channel": "other",
                    "company_id": picking.company_id.id,
                }
                for picking in pickings
            ]
        )
        for picking, case in zip(pickings, cases, strict=True):
            picking.ecrm_late_case_id = case
        return cases
