# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from contextlib import closing, suppress
from datetime import MAXYEAR
from itertools import chain

from odoo import api, fields, models
from odoo.exceptions import ValidationError

from ..tools.pressure import Verdict, cyclic_gc_paused, filter_batch


class PressureSimulation:
    """What a simulated sending collects instead of writing: carried from batch
    to batch as the traces and logged interactions of a real sending would be."""

    def __init__(self, limit=False):
        self.limit = limit  # the mailing's defer limit date, False when it excludes
        self.checked = 0  # recipients handed to the pressure rules
        self.per_rule = {}  # {rule_id: [excluded, deferred]}
        self.sent = {}  # {partner_id: messages allowed so far} (logged interactions)
        self.seen_emails = []  # trace emails of the batches done (Odoo's seen list)


class PressureSimulationDone(Exception):
    """Raised by the composer once a simulated sending has gone through every
    batch: it stops Odoo's send before the mailing is marked as sent."""


class MailingMailing(models.Model):
    _inherit = "mailing.mailing"

    ecrm_ignore_pressure = fields.Boolean(
        string="Ignore Contact Pressure",
        copy=False,
        groups="ecrm_addon.group_ecrm_manager",
        help="Send to every recipient whatever the pressure rules say; the messages still count.",
    )
    ecrm_pressure_defer = fields.Boolean(
        string="Defer Instead of Excluding",
        help="Recipients a pressure rule blocks are sent to once their window frees, until the limit date.",
    )
    ecrm_pressure_defer_until = fields.Datetime(
        string="Defer Until",
        help="Recipients still blocked at this date are excluded.",
    )
    ecrm_pressure_deferral_ids = fields.One2many("ecrm.pressure.deferral", "mailing_id", string="Deferred Recipients")
    ecrm_pressure_deferral_count = fields.Integer(
        string="Deferred", compute="_compute_ecrm_pressure_deferral_count", compute_sudo=True
    )
    ecrm_pressure_excluded_count = fields.Integer(
        string="Excluded by Pressure", compute="_compute_ecrm_pressure_excluded_count"
    )

    def _compute_ecrm_pressure_deferral_count(self):
        counts = dict(
            self.env["ecrm.pressure.deferral"]._read_group(
                [("mailing_id", "in", self.ids), ("state", "=", "waiting")], ["mailing_id"], ["__count"]
            )
        )
        for mailing in self:
            mailing.ecrm_pressure_deferral_count = counts.get(mailing, 0)

    def _compute_ecrm_pressure_excluded_count(self):
        counts = dict(
            self.env["mailing.trace"]._read_group(
                [("mass_mailing_id", "in", self.ids), ("failure_type", "=", "ecrm_pressure")],
                ["mass_mailing_id"],
                ["__count"],
            )
        )
        for mailing in self:
            mailing.ecrm_pressure_excluded_count = counts.get(mailing, 0)

    @api.constrains("ecrm_pressure_defer", "ecrm_pressure_defer_until")
    def _check_ecrm_pressure_defer(self):
        for mailing in self:
            if mailing.ecrm_pressure_defer and not mailing.ecrm_pressure_defer_until:
                raise ValidationError(
                    self.env._(
                        "Mailing %(mailing)s defers the recipients a pressure rule blocks: give the date "
                        "until which they may be sent.",
                        mailing=mailing.subject or mailing.display_name,
                    )
                )

    # ------------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------------

    def action_ecrm_pressure_simulate(self):
        self.ensure_one()
        wizard = self.env["ecrm.pressure.simulation"].create({"mailing_id": self.id})
        wizard._compute_lines()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Contact Pressure Check"),
            "res_model": "ecrm.pressure.simulation",
            "res_id": wizard.id,
            "view_mode": "form",
            "target": "new",
        }

    def action_ecrm_view_pressure_exclusions(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("ecrm_addon.mailing_trace_action_ecrm_pressure")
        action["domain"] = [("mass_mailing_id", "=", self.id), ("failure_type", "=", "ecrm_pressure")]
        return action

    def action_ecrm_view_deferrals(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("ecrm_addon.ecrm_pressure_deferral_action")
        action["domain"] = [("mailing_id", "=", self.id)]
        return action

    # ------------------------------------------------------------------
    # Contact pressure
    # ------------------------------------------------------------------

    def _ecrm_pressure_company(self):
        """The company whose rules and log the mailing answers to: its responsible's."""
        self.ensure_one()
        return self.user_id.company_id or self.env.company

    def _ecrm_pressure_channel(self):
        self.ensure_one()
        return "sms" if self.mailing_type == "sms" else "email"

    def _ecrm_pressure_filter(self, keys_by_res_id, now=None, sent=None):
        """Apply the pressure rules to one batch of recipients: one query.

        ``keys_by_res_id``: ``{res_id: [normalised email or E.164 number, ...]}``
        in sending order. The batch's own sends count: a customer reached by
        several records gets at most the messages its rules still allow (at
        most one under a minimum gap), the first records in order; ``sent``
        carries those counts from earlier batches that left no trace (the
        simulation). Returns ``(blocked, partners)``: ``{res_id: Verdict}`` for
        the records a rule blocks (none when the mailing ignores pressure) and
        ``{res_id: (commercial partner id, ...)}`` for every record whose address
        belongs to a known customer. Only the blocked records get a ``Verdict``.
        """
        self.ensure_one()
        keys = set(chain.from_iterable(keys_by_res_id.values()))
        # sudo: the override is a manager's decision; whoever sends honours it.
        ignore = self.sudo().ecrm_ignore_pressure
        # the check's rows and verdicts, then an object or two per record: no
        # cycle, no collection of the worker's heap meanwhile (see cyclic_gc_paused)
        with cyclic_gc_paused():
            verdicts = self.env["ecrm.pressure.rule"]._ecrm_check(
                self._ecrm_pressure_company(), self._ecrm_pressure_channel(), "marketing", keys=keys, now=now
            )
            # one pass over the records, no object per recipient beyond its customers
            partners, refused = filter_batch(keys_by_res_id, verdicts, sent)
            if ignore:
                return {}, partners
            # only immutable values: the collector stops tracking them at its next pass
            blocked = {
                res_id: Verdict(partners[res_id], rule_id, blocked_until, {})
                for res_id, (blocked_until, _sequence, rule_id) in refused.items()
            }
        return blocked, partners

    def _ecrm_pressure_defer(self, blocked, partners):
        """Store the blocked recipients the mailing may still send before its limit date.

        Returns the res_ids deferred; the other blocked ones are to be excluded
        (and their earlier deferral, if any, is closed).
        """
        self.ensure_one()
        if not blocked or not self.ecrm_pressure_defer or not self.ecrm_pressure_defer_until:
            return set()
        limit = self.ecrm_pressure_defer_until
        deferred = {res_id for res_id, verdict in blocked.items() if verdict.blocked_until <= limit}
        # sudo: deferrals are the mailing's bookkeeping, written for whoever sends it.
        Deferral = self.env["ecrm.pressure.deferral"].sudo()
        existing = Deferral.search([("mailing_id", "=", self.id), ("res_id", "in", list(blocked))])
        by_res_id = {deferral.res_id: deferral for deferral in existing}
        to_create = []
        for res_id in deferred:
            verdict = blocked[res_id]
            vals = {"until": verdict.blocked_until, "rule_id": verdict.rule_id, "state": "waiting"}
            if res_id in by_res_id:
                by_res_id[res_id].write(vals)
            else:
                to_create.append(
                    dict(
                        vals,
                        mailing_id=self.id,
                        company_id=self._ecrm_pressure_company().id,
                        res_model=self.mailing_model_real,
                        res_id=res_id,
                        partner_id=(partners.get(res_id) or [False])[0],
                    )
                )
        Deferral.create(to_create)
        existing.filtered(lambda deferral: deferral.res_id not in deferred).state = "cancelled"
        return deferred

    def _ecrm_pressure_reason(self, verdict):
        # sudo: the sender may not read the rules; only the name goes to the trace.
        rule = self.env["ecrm.pressure.rule"].sudo().browse(verdict.rule_id)
        if verdict.blocked_until.year == MAXYEAR:
            # never frees by itself: a channel the customer turned off, a message heavier than the cap
            return self.env._("Excluded by pressure rule %(rule)s (until it changes)", rule=rule.name)
        return self.env._(
            "Excluded by pressure rule %(rule)s (blocked until %(date)s UTC)",
            rule=rule.name,
            date=fields.Datetime.to_string(verdict.blocked_until),
        )

    def _ecrm_pressure_apply(self, values_by_res_id, keys_by_res_id, cancel_values):
        """Apply the pressure rules to one batch of a composer's message values.

        ``values_by_res_id`` maps each record to the values of its message (mail
        or SMS, with their ``mailing_trace_ids`` commands); ``keys_by_res_id`` the
        recipients to check, in sending order; ``cancel_values(reason)`` the
        channel's values of a cancelled message. Deferred recipients are removed
        from the batch, blocked ones cancelled with their trace naming the rule,
        the others logged as sent. Under a simulation (context key
        ``ecrm_pressure_simulation``) the same decisions are only counted:
        no deferral, no interaction is written.
        """
        # a customer who prefers the campaign's other channel gets that mailing
        keys_by_res_id = self._ecrm_route_preferred(values_by_res_id, keys_by_res_id, cancel_values)
        simulation = self.env.context.get("ecrm_pressure_simulation")
        if simulation is not None:
            return self._ecrm_pressure_apply_simulated(simulation, values_by_res_id, keys_by_res_id, cancel_values)
        blocked, partners = self._ecrm_pressure_filter(keys_by_res_id)
        deferred = self._ecrm_pressure_defer(blocked, partners)
        for res_id, verdict in blocked.items():
            if res_id in deferred:
                del values_by_res_id[res_id]
                continue
            self._ecrm_pressure_cancel(values_by_res_id[res_id], verdict, cancel_values)
        self._ecrm_pressure_log_sent(partners, [res_id for res_id in keys_by_res_id if res_id not in blocked])
        return values_by_res_id

    def _ecrm_pressure_cancel(self, values, verdict, cancel_values):
        reason = self._ecrm_pressure_reason(verdict)
        values.update(cancel_values(reason))
        for command in values.get("mailing_trace_ids") or []:
            command[2].update(
                {
                    "trace_status": "cancel",
                    "failure_type": "ecrm_pressure",
                    "failure_reason": reason,
                    "ecrm_pressure_rule_id": verdict.rule_id,
                }
            )

    def _ecrm_pressure_apply_simulated(self, simulation, values_by_res_id, keys_by_res_id, cancel_values):
        """``_ecrm_pressure_apply`` without writing: the same filter and the same
        defer-or-exclude decision, counted per rule in ``simulation``."""
        blocked, _partners = self._ecrm_pressure_filter(keys_by_res_id, sent=simulation.sent)
        simulation.checked += len(keys_by_res_id)
        for res_id, verdict in blocked.items():
            counts = simulation.per_rule.setdefault(verdict.rule_id, [0, 0])
            if simulation.limit and verdict.blocked_until <= simulation.limit:
                counts[1] += 1
                del values_by_res_id[res_id]
            else:
                counts[0] += 1
                self._ecrm_pressure_cancel(values_by_res_id[res_id], verdict, cancel_values)
        return values_by_res_id

    def _ecrm_pressure_log_sent(self, partners, res_ids):
        """Log the messages sent to known customers as marketing interactions."""
        self.ensure_one()
        company = self._ecrm_pressure_company()
        channel = self._ecrm_pressure_channel()
        now = fields.Datetime.now()
        name = self.subject or self.display_name
        Interaction = self.env["ecrm.interaction"]
        Interaction._log(
            [
                Interaction._log_values(
                    self, partner_id, name, channel, "outbound", "marketing", date=now, company_id=company.id
                )
                for res_id in res_ids
                for partner_id in partners.get(res_id, ())
            ]
        )

    def _ecrm_pressure_simulate(self):
        """What sending now would do: ``(checked, {rule_id: (excluded, deferred)})``.

        Runs Odoo's own sending (``action_send_mail``) on the remaining
        recipients (``_get_remaining_recipients``), with the simulation in the
        context key ``ecrm_pressure_simulation``: Odoo builds the composer as it
        does to send (its values, ``_get_mass_mailing_context()``, the
        responsible's context) and applies its exclusions (blacklist, opt-out,
        missing or invalid address, already sent, duplicates; for SMS the number
        checks) batch by batch; ``_ecrm_pressure_apply`` runs in simulation mode
        and the composers create no mail and no SMS. Whatever the sending writes
        on its way (composer, link trackers, attachment copies) is rolled back
        with a savepoint.
        """
        self.ensure_one()
        simulation = PressureSimulation(self.ecrm_pressure_defer and self.ecrm_pressure_defer_until)
        res_ids = self._get_remaining_recipients()
        if res_ids:
            with closing(self.env.cr.savepoint()), suppress(PressureSimulationDone):
                self.with_context(ecrm_pressure_simulation=simulation).action_send_mail(res_ids=res_ids)
        return simulation.checked, {rule_id: tuple(counts) for rule_id, counts in simulation.per_rule.items()}
