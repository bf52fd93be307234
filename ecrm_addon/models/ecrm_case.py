# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from collections import defaultdict
from contextlib import contextmanager

from odoo import api, fields, models, tools
from odoo.exceptions import AccessError, ValidationError

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
# Key of the creation memo in the cursor's cache (see ``ecrm.case._ecrm_creation_memo``).
CREATION_MEMO = "ecrm_case_creation_memo"


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
    # The stored computes are precomputed (here and in the other files of the
    # case): a new case is inserted with them, not updated right after.
    partner_id = fields.Many2one("res.partner", string="Customer", tracking=True, index=True)
    commercial_partner_id = fields.Many2one(
        related="partner_id.commercial_partner_id", string="Customer Company", store=True, index=True, precompute=True
    )
    email_from = fields.Char(string="Email", compute="_compute_email_from", store=True, readonly=False, precompute=True)
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
    is_closed = fields.Boolean(related="stage_id.is_closed", store=True, precompute=True)
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
        precompute=True,
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
    response_deadline = fields.Datetime(
        compute="_compute_deadlines", store=True, precompute=True, tracking=True, groups=INTERNAL
    )
    resolution_deadline = fields.Datetime(
        compute="_compute_deadlines", store=True, precompute=True, tracking=True, groups=INTERNAL
    )
    first_response_date = fields.Datetime(readonly=True, copy=False, groups=INTERNAL)
    escalation_ids = fields.One2many(
        "ecrm.case.escalation", "case_id", string="Escalations", readonly=True, groups=INTERNAL
    )
    escalation_level = fields.Integer(
        compute="_compute_escalation_level", store=True, precompute=True, groups=INTERNAL, help="Highest level fired."
    )
    next_escalation_at = fields.Datetime(
        compute="_compute_next_escalation_at",
        store=True,
        precompute=True,
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

    @contextmanager
    def _ecrm_creation_memo(self):
        """Around the creation of cases: what their computes read that cannot
        change meanwhile (the calendars' working time of their deadlines and
        escalation levels, their customers' RFM segments) is read once for the
        batch and shared, see ``_ecrm_memo``. A creation nested in another
        shares the outer one's; the memo is dropped when the outer one ends."""
        cache = self.env.cr.cache
        if CREATION_MEMO in cache:
            yield
            return
        cache[CREATION_MEMO] = {}
        try:
            yield
        finally:
            cache.pop(CREATION_MEMO, None)

    def _ecrm_memo(self, key):
        """The dict ``key`` of the creation memo under way (shared by the
        computes of the new cases); outside a creation, a new empty dict."""
        memo = self.env.cr.cache.get(CREATION_MEMO)
        return {} if memo is None else memo.setdefault(key, {})

    @api.model_create_multi
    def create(self, vals_list):
        self._ecrm_check_system_fields(vals_list, create=True)
        for vals in vals_list:
            company = self.env["res.company"].browse(vals.get("company_id")) or self.env.company
            vals["name"] = self.env["ir.sequence"].with_company(company).next_by_code("ecrm.case") or "/"
        # the creator follows as Odoo's mail.thread would subscribe them, in the same
        # insert as the customer (after the creation message, as before)
        subscribe_creator = not self.env.context.get("mail_create_nosubscribe") and self.env.user.active
        cases = super(EcrmCase, self.with_context(mail_create_nosubscribe=True)).create(vals_list)
        cases = cases.with_env(self.env)
        cases._ecrm_subscribe_new(self.env.user.partner_id if subscribe_creator else self.env["res.partner"])
        closed = cases.filtered("is_closed")
        if closed:
            closed.date_closed = fields.Datetime.now()
        waiting = cases.filtered("stage_id.is_waiting_customer")
        if waiting:
            waiting.sudo().ecrm_paused_since = fields.Datetime.now()  # sudo: a system stamp
        cases._ecrm_log_interactions("inbound", "opened")
        return cases

    def _ecrm_subscribe_new(self, creator):
        """Followers of new cases: ``creator`` (a partner, or none) and each case's
        customer when active, one insert per customer rather than one
        ``message_subscribe`` per case. The subtypes are those each got before:
        Odoo's defaults for the creator, those of outside partners for a
        customer who is not the creator."""
        by_customer = defaultdict(list)
        for case in self:
            customer = case.partner_id if case.partner_id.active else case.partner_id.browse()
            by_customer[customer].append(case.id)
        Followers = self.env["mail.followers"]
        for customer, case_ids in by_customer.items():
            partners = creator | customer
            if partners:
                outside = (customer - creator).filtered("partner_share")
                Followers._insert_followers(self._name, case_ids, partners.ids, customer_ids=outside.ids)

    def write(self, vals):
        self._ecrm_check_system_fields([vals])
        if "stage_id" in vals:
            self._ecrm_track_clock(self.env["ecrm.case.stage"].browse(vals["stage_id"]), vals)
        res = super().write(vals)
        if vals.get("partner_id"):
            for case in self:
                case.message_subscribe(partner_ids=case.partner_id.ids)
        return res

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
