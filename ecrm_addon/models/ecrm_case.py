import logging
import threading
from datetime import timedelta

from markupsafe import Markup

from odoo import api, fields, models, tools
from odoo.exceptions import AccessError, ValidationError
from odoo.service.model import PG_CONCURRENCY_EXCEPTIONS_TO_RETRY
from odoo.tools import SQL, email_normalize, html2plaintext, plaintext2html

_logger = logging.getLogger(__name__)

CASE_CHANNELS = [
    ("email", "Email"),
    ("portal", "Portal"),
    ("web", "Web"),
    ("phone", "Phone"),
    ("chat", "Chat"),
    ("sms", "SMS"),
    ("social", "Social"),
    ("api", "API"),
    ("other", "Other"),
]
CASE_PRIORITIES = [("0", "Low"), ("1", "Normal"), ("2", "High"), ("3", "Urgent")]
# Case channels on the interaction log (which has no "api" channel).
INTERACTION_CHANNEL = {"api": "other"}
# How many times the escalation cron retries a batch that hit a serialization
# failure or a deadlock (another worker committed a change to one of its cases).
ESCALATION_BATCH_TRIES = 5
# Characters of an inbound mail's body kept as the description of the case it
# opens; the whole message stays in the chatter.
MAIL_DESCRIPTION_MAX = 100_000
# Fields only the system writes (the SLA clocks, the escalation state, the API's
# idempotency key): refused to every user's create and write, RPC included.
SYSTEM_FIELDS = frozenset(
    {
        "api_request_key",
        "first_response_date",
        "response_deadline",
        "resolution_deadline",
        "escalation_level",
        "next_escalation_at",
        "ecrm_paused_since",
        "ecrm_paused_hours",
        "ecrm_response_work_hours",
        "ecrm_resolution_work_hours",
    }
)
# What portal customers may not read of their cases (the SLA, the team, the keys).
INTERNAL = "base.group_user"


def _ecrm_auto_commit():
    """Whether a cron may commit between its slices: not inside a test's
    transaction (the thread running it is marked ``testing``, as Odoo's own
    crons check), always in a cron worker or another thread with its own cursor."""
    return not getattr(threading.current_thread(), "testing", False)


class EcrmCase(models.Model):
    """A customer case (complaint, question, return...) from any channel, with
    SLA deadlines in working hours and an escalation chain."""

    _name = "ecrm.case"
    _description = "Case"
    _inherit = ["portal.mixin", "mail.thread.cc", "mail.activity.mixin"]
    _order = "priority desc, id desc"
    _primary_email = "email_from"
    _mail_post_access = "read"  # portal customers answer the cases they may read

    name = fields.Char(string="Reference", readonly=True, copy=False, default="/", index="trigram")
    subject = fields.Char(required=True, tracking=True)
    api_request_key = fields.Char(
        string="API Request Key",
        readonly=True,
        copy=False,
        groups=INTERNAL,
        index="btree_not_null",
        help="The Idempotency-Key the API client sent with the request that created the case "
        "(prefixed with its user): a retry with the same key returns this case instead of a second one.",
    )

    _sql_constraints = [
        ("api_request_key_unique", "UNIQUE(api_request_key)", "An API request key creates one case only."),
    ]
    description = fields.Html(sanitize=True, sanitize_overridable=False)
    partner_id = fields.Many2one("res.partner", string="Customer", tracking=True, index=True)
    commercial_partner_id = fields.Many2one(
        related="partner_id.commercial_partner_id", string="Customer Company", store=True, index=True
    )
    email_from = fields.Char(string="Email", compute="_compute_email_from", store=True, readonly=False)
    channel = fields.Selection(CASE_CHANNELS, required=True, default="phone", tracking=True)
    category_id = fields.Many2one("ecrm.case.category", tracking=True, index=True)
    priority = fields.Selection(CASE_PRIORITIES, required=True, default="1", tracking=True)
    stage_id = fields.Many2one(
        "ecrm.case.stage",
        tracking=True,
        index=True,
        copy=False,
        group_expand="_read_group_stage_ids",
        default=lambda self: self._default_stage_id(),
        ondelete="restrict",
    )
    is_closed = fields.Boolean(related="stage_id.is_closed", store=True)
    user_id = fields.Many2one("res.users", string="Assignee", tracking=True, index=True, domain=[("share", "=", False)])
    team_id = fields.Many2one("crm.team", string="Sales Team", tracking=True, index=True, groups=INTERNAL)
    company_id = fields.Many2one("res.company", required=True, default=lambda self: self.env.company, index=True)
    sale_order_id = fields.Many2one("sale.order", string="Sales Order", index="btree_not_null")
    picking_id = fields.Many2one("stock.picking", string="Delivery", index="btree_not_null")
    invoice_id = fields.Many2one(
        "account.move",
        index="btree_not_null",
        domain=[("move_type", "in", ("out_invoice", "out_refund"))],
    )
    product_id = fields.Many2one("product.product")
    color = fields.Integer()
    # SLA
    policy_id = fields.Many2one(
        "ecrm.escalation.policy",
        string="SLA Policy",
        compute="_compute_policy_id",
        store=True,
        readonly=False,
        tracking=True,
        groups=INTERNAL,
    )
    date_open = fields.Datetime(
        string="Opened On", required=True, default=fields.Datetime.now, copy=False, help="Start of the clocks."
    )
    date_closed = fields.Datetime(string="Closed On", readonly=True, copy=False)
    ecrm_paused_since = fields.Datetime(string="Paused Since", readonly=True, copy=False, groups=INTERNAL)
    ecrm_paused_hours = fields.Float(
        string="Paused Working Hours",
        readonly=True,
        copy=False,
        groups=INTERNAL,
        help="Working hours spent waiting on the customer; added back to the deadlines.",
    )
    response_deadline = fields.Datetime(compute="_compute_deadlines", store=True, tracking=True, groups=INTERNAL)
    resolution_deadline = fields.Datetime(compute="_compute_deadlines", store=True, tracking=True, groups=INTERNAL)
    first_response_date = fields.Datetime(readonly=True, copy=False, groups=INTERNAL)
    escalation_ids = fields.One2many(
        "ecrm.case.escalation", "case_id", string="Escalations", readonly=True, groups=INTERNAL
    )
    escalation_level = fields.Integer(
        compute="_compute_escalation_level", store=True, groups=INTERNAL, help="Highest level fired."
    )
    next_escalation_at = fields.Datetime(
        compute="_compute_next_escalation_at",
        store=True,
        copy=False,
        groups=INTERNAL,
        help="When the next escalation level is due; empty when nothing is left, or the case is closed or paused.",
    )
    response_late = fields.Boolean(compute="_compute_sla_late", groups=INTERNAL)
    resolution_late = fields.Boolean(compute="_compute_sla_late", groups=INTERNAL)

    def init(self):
        # The escalation cron reads only the due cases: a partial index on the
        # (small) set of cases that still have a level to fire.
        tools.create_index(
            self.env.cr,
            "ecrm_case_next_escalation_idx",
            self._table,
            ["next_escalation_at", "id"],
            where="next_escalation_at IS NOT NULL",
        )

    # --- defaults and computes ------------------------------------------------

    @api.model
    def _default_stage_id(self):
        return self.env["ecrm.case.stage"].search([("is_closed", "=", False)], limit=1)

    @api.model
    def _read_group_stage_ids(self, stages, domain):
        return stages.search([], order=stages._order)

    @api.depends("partner_id.email")
    def _compute_email_from(self):
        for case in self:
            case.email_from = case.partner_id.email or case.email_from

    def _compute_access_url(self):
        res = super()._compute_access_url()
        for case in self:
            case.access_url = f"/my/cases/{case.id}"
        return res

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
        for case in self:
            policy = case.policy_id.sudo()
            if not policy or not case.date_open:
                case.response_deadline = case.resolution_deadline = False
                continue
            paused = case.ecrm_paused_hours
            case.response_deadline = (
                policy._ecrm_plan(case.date_open, policy.response_hours + paused) if policy.response_hours else False
            )
            case.resolution_deadline = (
                policy._ecrm_plan(case.date_open, policy.resolution_hours + paused)
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
        for case in self:
            case.next_escalation_at = min(case._ecrm_pending_levels().values(), default=False)

    def _compute_sla_late(self):
        now = fields.Datetime.now()
        for case in self:
            response_at = case.first_response_date or now
            resolution_at = case.date_closed or now
            case.response_late = bool(case.response_deadline and response_at > case.response_deadline)
            case.resolution_late = bool(case.resolution_deadline and resolution_at > case.resolution_deadline)

    @api.constrains("sale_order_id", "picking_id", "invoice_id", "partner_id")
    def _check_documents_customer(self):
        for case in self.filtered("partner_id"):
            customer = case.commercial_partner_id
            # sudo: only the documents' customers are compared
            for document in (case.sale_order_id.sudo(), case.picking_id.sudo(), case.invoice_id.sudo()):
                if not document:
                    continue
                owners = document.partner_id.commercial_partner_id
                if document._name == "stock.picking":
                    # a delivery may go to another address (a gift): its order's customer counts too
                    owners |= document.sale_id.partner_id.commercial_partner_id
                if customer not in owners:
                    raise ValidationError(
                        self.env._(
                            "%(document)s does not belong to the customer %(customer)s of case %(case)s.",
                            document=document.display_name,
                            customer=customer.display_name,
                            case=case.name,
                        )
                    )

    # --- CRUD -------------------------------------------------------------------

    def _ecrm_check_system_fields(self, vals_list, create=False):
        """Refuse the fields only the system writes. The one exception: a case
        created through the API stores the client's Idempotency-Key prefixed
        with the creating user (a user only ever claims their own keys)."""
        if self.env.su:
            return
        for vals in vals_list:
            names = SYSTEM_FIELDS & vals.keys()
            key = vals.get("api_request_key")
            if create and (not key or str(key).startswith(f"{self.env.uid}:")):
                names -= {"api_request_key"}
            if names:
                labels = sorted(self._fields[name]._description_string(self.env) for name in names)
                raise AccessError(
                    self.env._("Only the system sets these fields of a case: %(fields)s.", fields=", ".join(labels))
                )

    @api.model_create_multi
    def create(self, vals_list):
        self._ecrm_check_system_fields(vals_list, create=True)
        for vals in vals_list:
            company = self.env["res.company"].browse(vals.get("company_id")) or self.env.company
            vals["name"] = self.env["ir.sequence"].with_company(company).next_by_code("ecrm.case") or "/"
        cases = super().create(vals_list)
        for case in cases.filtered("partner_id"):
            case.message_subscribe(partner_ids=case.partner_id.ids)
        closed = cases.filtered("is_closed")
        if closed:
            closed.date_closed = fields.Datetime.now()
        waiting = cases.filtered("stage_id.is_waiting_customer")
        if waiting:
            waiting.sudo().ecrm_paused_since = fields.Datetime.now()  # sudo: a system stamp
        cases._ecrm_log_interactions("inbound", "opened")
        return cases

    def write(self, vals):
        self._ecrm_check_system_fields([vals])
        if "stage_id" in vals:
            self._ecrm_track_clock(self.env["ecrm.case.stage"].browse(vals["stage_id"]), vals)
        res = super().write(vals)
        if vals.get("partner_id"):
            for case in self:
                case.message_subscribe(partner_ids=case.partner_id.ids)
        return res

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

    # --- actions ------------------------------------------------------------------

    def action_open_document(self):
        self.ensure_one()
        document = self.sale_order_id or self.picking_id or self.invoice_id
        if not document:
            return False
        return {
            "type": "ir.actions.act_window",
            "res_model": document._name,
            "res_id": document.id,
            "view_mode": "form",
        }

    # --- identity -------------------------------------------------------------------

    @api.model
    def _ecrm_find_or_create_partner(self, email=None, phone=None, name=None, company=None):
        """The customer these identifiers point to; a new contact only when none matches.

        Only partners of ``company`` (the case's; the current company by
        default) or shared ones match, never the partner of an internal user.

        Uses the shared identity resolution (``res.partner._ecrm_match``) when it
        is installed, else the normalised email, then the sanitised phone.
        """
        # sudo: identity resolution must see every customer whatever the channel's
        # user (email gateway, portal, API key); only the matched partner leaves.
        Partner = self.env["res.partner"].sudo()
        email_norm = email_normalize(email) if email else False
        company = company or self.env.company
        partner = Partner.browse()
        if hasattr(Partner, "_ecrm_match"):
            partner = Partner._ecrm_match(email=email_norm or None, phone=phone or None, company=company)
        else:
            scope = Partner._ecrm_customer_of_domain(company)
            if email_norm:
                partner = Partner.search([("email_normalized", "=", email_norm), *scope], order="id", limit=1)
            if not partner and phone:
                sanitized = Partner._phone_format(number=phone, raise_exception=False) or phone
                partner = Partner.search(
                    ["|", ("phone_sanitized", "=", sanitized), ("phone", "=", phone), *scope], order="id", limit=1
                )
        if not partner:
            partner = Partner.create(
                {
                    "name": name or email_norm or phone,
                    "email": email_norm or False,
                    "phone": phone or False,
                }
            )
        return partner[:1].sudo(False)

    # --- mail gateway ---------------------------------------------------------------

    @api.model
    def message_new(self, msg_dict, custom_values=None):
        values = dict(custom_values or {})
        partner_id = msg_dict.get("author_id")
        if not partner_id:
            name, email = tools.parse_contact_from_email(msg_dict.get("email_from") or "")
            if email:
                company = self.env["res.company"].browse(values.get("company_id")) or self.env.company
                partner_id = self._ecrm_find_or_create_partner(email=email, name=name, company=company).id
        values.setdefault("channel", "email")
        values.setdefault("subject", msg_dict.get("subject") or self.env._("(no subject)"))
        values.setdefault("description", self._ecrm_mail_description(msg_dict.get("body")))
        if partner_id:
            values.setdefault("partner_id", partner_id)
        values["name"] = "/"  # the reference comes from the sequence, not the subject
        case = super().message_new(msg_dict, custom_values=values)
        return case

    @api.model
    def _ecrm_mail_description(self, body):
        """The description of a case opened by a mail: its body, or for a huge
        one (a pasted log, a forwarded thread) the start of its text, so that
        the form stays quick to open and save."""
        if not body or len(body) <= MAIL_DESCRIPTION_MAX:
            return body
        text = html2plaintext(body)[:MAIL_DESCRIPTION_MAX]
        cut = self.env._("(Cut: the whole message is in the chatter.)")
        return plaintext2html(f"{text}\n\n{cut}")

    def message_update(self, msg_dict, update_vals=None):
        res = super().message_update(msg_dict, update_vals=update_vals)
        # an automatic reply (out-of-office...) is no answer: the case keeps its stage
        if not self.env.context.get("ecrm_auto_submitted"):
            self._ecrm_customer_answered("email")
        return res

    def message_post(self, **kwargs):
        if self.env.context.get("ecrm_auto_submitted") and self.env.context.get("from_alias"):
            # an automatic reply on a case: kept in the chatter, as a note (no follower is
            # notified of an out-of-office, nor answers it) headed by what it is
            kwargs["subtype_id"] = self.env["ir.model.data"]._xmlid_to_res_id("mail.mt_note")
            kwargs.pop("subtype_xmlid", None)
            label = self.env._("Automatic reply: the case keeps its stage.")
            kwargs["body"] = Markup("<p><i>%s</i></p>") % label + kwargs.get("body", "")
        return super().message_post(**kwargs)

    def _message_post_after_hook(self, message, msg_values):
        res = super()._message_post_after_hook(message, msg_values)
        if message.message_type == "comment" and not message.subtype_id.internal:
            author_users = message.author_id.user_ids
            if author_users and not any(author_users.mapped("share")):
                self._ecrm_first_response(message)
            elif message.author_id and message.author_id.commercial_partner_id == self.commercial_partner_id:
                self._ecrm_customer_answered("portal")
        return res

    def _ecrm_first_response(self, message):
        unanswered = self.filtered(lambda c: not c.first_response_date)
        if unanswered:
            unanswered.sudo().first_response_date = message.date  # sudo: a system stamp
        self._ecrm_log_interactions("outbound", "answered")

    def _ecrm_customer_answered(self, channel):
        """A customer message: log it and, on a case waiting on them, resume the clock
        (back to the last open stage before the waiting one)."""
        self._ecrm_log_interactions("inbound", "message", channel=channel)
        waiting = self.filtered("stage_id.is_waiting_customer")
        if not waiting:
            return
        stages = self.env["ecrm.case.stage"].search([("is_closed", "=", False), ("is_waiting_customer", "=", False)])
        for case in waiting:
            before = stages.filtered(lambda s, case=case: s.sequence <= case.stage_id.sequence)
            stage = before[-1:] or stages[:1]
            if stage:
                # sudo: the customer's message (portal or email) moves the case, not their rights
                case.sudo().stage_id = stage

    def _ecrm_log_interactions(self, direction, event, channel=None):
        labels = {
            "opened": self.env._("Case opened"),
            "answered": self.env._("Case answered"),
            "message": self.env._("Message on case"),
        }
        self.env["ecrm.interaction"]._log(
            [
                {
                    "partner_id": case.partner_id.id,
                    "name": f"{labels[event]}: {case.name} {case.subject}",
                    "channel": channel or INTERACTION_CHANNEL.get(case.channel, case.channel),
                    "direction": direction,
                    "category": "service",
                    "res_model": self._name,
                    "res_id": case.id,
                    "company_id": case.company_id.id,
                }
                for case in self
            ]
        )

    def _message_get_suggested_recipients(self):
        recipients = super()._message_get_suggested_recipients()
        for case in self.filtered("partner_id"):
            case._message_add_suggested_recipient(recipients, partner=case.partner_id, reason=self.env._("Customer"))
        return recipients

    # --- escalation -------------------------------------------------------------------

    def _ecrm_pending_levels(self):
        """{level: due datetime} for the levels still to fire (or to retry) on this case."""
        self.ensure_one()
        if self.is_closed or self.ecrm_paused_since or not self.policy_id:
            return {}
        done = self.escalation_ids.filtered(lambda e: e.state == "done").level_id
        pending = {}
        for level in self.policy_id.sudo().level_ids - done:
            due = level._ecrm_due_at(self)
            if due:
                pending[level] = due
        return pending

    @api.model
    def _cron_ecrm_escalate(self, batch_size=100):
        """Fire the due escalation levels, each once per case.

        Only due cases are read (partial index on ``next_escalation_at``), in
        batches locked with SKIP LOCKED so that parallel workers share the work.
        A level's log row is inserted (unique per case and level) before its
        actions run, and the batch commits with it: a crash rolls both back, a
        second worker finds the row and does nothing. A failed action leaves a
        'failed' row that the next run retries. A batch that meets another
        worker's concurrent update (serialization failure, deadlock) is rolled
        back and retried with a fresh snapshot, the batches before it staying
        committed.
        """
        now = fields.Datetime.now()
        auto_commit = _ecrm_auto_commit()
        seen = []
        done = 0
        tries = 0
        while True:
            try:
                ids = self._ecrm_escalate_batch(now, seen, batch_size)
            except PG_CONCURRENCY_EXCEPTIONS_TO_RETRY as error:
                # Another worker changed one of these cases after this transaction's
                # snapshot: nothing of the batch is kept; earlier batches are committed.
                # Retry the batch with a fresh snapshot (only when this cron owns its
                # transaction; inside a caller's transaction the caller decides).
                tries += 1
                if not auto_commit or tries >= ESCALATION_BATCH_TRIES:
                    raise
                _logger.info("Escalation batch retried after a concurrent update (%s, try %s)", error.pgcode, tries)
                self.env.cr.rollback()  # also clears the environments' caches
                continue
            if not ids:
                break
            tries = 0
            seen.extend(ids)
            done += len(ids)
            [(remaining,)] = self.env.execute_query(
                SQL(
                    "SELECT count(*) FROM ecrm_case WHERE next_escalation_at <= %s AND NOT (id = ANY(%s))",
                    now,
                    seen,
                )
            )
            self.env["ir.cron"]._notify_progress(done=done, remaining=remaining)
            if auto_commit:
                self.env.cr.commit()  # pylint: disable=invalid-commit
        return done

    @api.model
    def _ecrm_escalate_batch(self, now, seen, batch_size):
        """Lock the next ``batch_size`` due cases not in ``seen`` (busy ones are
        skipped) and fire their due levels; returns their ids."""
        self.env.flush_all()
        rows = self.env.execute_query(
            SQL(
                """
                SELECT id FROM ecrm_case
                 WHERE next_escalation_at <= %(now)s AND NOT (id = ANY(%(seen)s))
                 ORDER BY next_escalation_at, id
                 LIMIT %(limit)s
                   FOR UPDATE SKIP LOCKED
                """,
                now=now,
                seen=seen,
                limit=batch_size,
            )
        )
        ids = [row[0] for row in rows]
        if ids:
            self.browse(ids)._ecrm_escalate(now)
        return ids

    def _ecrm_escalate(self, now):
        """Fire the levels of these (locked) cases that are due at ``now``."""
        Log = self.env["ecrm.case.escalation"].sudo()
        for case in self:
            pending = case._ecrm_pending_levels()
            levels = sorted((lvl for lvl, due in pending.items() if due <= now), key=lambda lvl: (lvl.sequence, lvl.id))
            for level in levels:
                chain = level.policy_id.level_ids
                rank = list(chain).index(level) + 1
                claimed = self.env.execute_query(
                    SQL(
                        """
                        INSERT INTO ecrm_case_escalation
                               (case_id, level_id, rank, fired_at, state, attempts, company_id,
                                create_uid, write_uid, create_date, write_date)
                        VALUES (%(case)s, %(level)s, %(rank)s, %(now)s, 'done', 1, %(company)s,
                                %(uid)s, %(uid)s, %(now)s, %(now)s)
                        ON CONFLICT (case_id, level_id) DO UPDATE
                           SET attempts = ecrm_case_escalation.attempts + 1, fired_at = %(now)s,
                               state = 'done', error = NULL
                         WHERE ecrm_case_escalation.state = 'failed'
                        RETURNING id
                        """,
                        case=case.id,
                        level=level.id,
                        rank=rank,
                        now=now,
                        company=case.company_id.id,
                        uid=self.env.uid,
                    )
                )
                Log.invalidate_model()
                case.invalidate_recordset(["escalation_ids"])
                if not claimed:
                    continue  # another worker or an earlier run fired it
                log = Log.browse(claimed[0][0])
                try:
                    with self.env.cr.savepoint():
                        # in the case's company: its templates, sequences and rules
                        company = case.company_id
                        level.with_company(company)._ecrm_fire(case.with_company(company))
                except PG_CONCURRENCY_EXCEPTIONS_TO_RETRY:
                    # another transaction changed a record the actions write (e.g. the
                    # notified partner): not a failed action; the cron retries the batch
                    raise
                except Exception as error:
                    _logger.warning("Escalation %s of case %s failed: %s", level.name, case.name, error)
                    log.write({"state": "failed", "error": str(error)})
                else:
                    log.modified(["state", "rank"])
        self.modified(["escalation_ids"])
        # webhooks go out from their outbox, by their own cron, once this batch commits
        self.env["ecrm.webhook.delivery"]._ecrm_trigger_queued(self)

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
            ("picking_type_code", "=", "outgoing"),
            ("state", "in", ("confirmed", "waiting", "assigned")),
            ("scheduled_date", "<", limit),
            ("partner_id", "!=", False),
            ("ecrm_late_case_id", "=", False),
        ]
        opened = 0
        auto_commit = _ecrm_auto_commit()
        while pickings := Picking.search(domain, order="scheduled_date, id", limit=batch_size):
            cases = self._ecrm_open_late_delivery_cases(pickings, category)
            opened += len(cases)
            self.env["ir.cron"]._notify_progress(done=opened, remaining=Picking.search_count(domain))
            if auto_commit:
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
