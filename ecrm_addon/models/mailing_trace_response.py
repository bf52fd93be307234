# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Responses into the profile: what customers do with mass mailings and SMS
(opens, clicks, replies, bounces, unsubscribes, as their traces record them)
becomes inbound marketing touches of the interaction log, folded set-based."""

from datetime import timedelta

from odoo import api, fields, models, tools
from odoo.tools import SQL

from .ecrm_interaction_response import RESPONSES

# System parameter holding the fold's high-water mark: the latest trace
# update folded by the cron.
FOLD_MARK_PARAM = "ecrm_addon.response_fold_mark"
# The cron folds again the traces updated this long before its mark: a
# transaction committing late (its write_date older than the mark) is not
# missed, and folding twice adds nothing.
FOLD_OVERLAP = timedelta(minutes=15)


class MailingTrace(models.Model):
    _inherit = "mailing.trace"

    ecrm_unsubscribed_datetime = fields.Datetime(
        string="Unsubscribed On",
        readonly=True,
        copy=False,
        help="When the recipient unsubscribed through this mailing's link.",
    )

    def init(self):
        res = super().init()
        # The cron folds the traces updated since its mark.
        tools.create_index(self.env.cr, "mailing_trace_ecrm_write_date_idx", self._table, ["write_date"])
        return res

    # ------------------------------------------------------------------
    # Odoo's batch setters: each batch of updates is folded in one statement
    # ------------------------------------------------------------------

    def set_opened(self, domain=None):
        traces = super().set_opened(domain=domain)
        traces._ecrm_fold_responses()
        return traces

    def set_clicked(self, domain=None):
        traces = super().set_clicked(domain=domain)
        traces._ecrm_fold_responses()
        return traces

    def set_replied(self, domain=None):
        traces = super().set_replied(domain=domain)
        traces._ecrm_fold_responses()
        return traces

    def set_bounced(self, domain=None, bounce_message=False):
        traces = super().set_bounced(domain=domain, bounce_message=bounce_message)
        traces._ecrm_fold_responses()
        return traces

    def set_ecrm_unsubscribed(self, domain=None):
        """Mark the traces (``self`` and those of ``domain``) as unsubscribed
        through their mailing, and fold it; the first date is kept."""
        traces = self + (self.search(domain) if domain else self.browse())
        traces.filtered(lambda trace: not trace.ecrm_unsubscribed_datetime).write(
            {"ecrm_unsubscribed_datetime": fields.Datetime.now()}
        )
        traces._ecrm_fold_responses()
        return traces

    # ------------------------------------------------------------------
    # The fold
    # ------------------------------------------------------------------

    def _ecrm_fold_responses(self, since=None, refresh=True):
        """Fold the responses recorded on traces into the interaction log.

        Scope: the traces of ``self``, or with ``since`` every trace updated
        after that date. One ``INSERT ... SELECT`` writes one inbound
        marketing touch per customer, mailing and kind of response (opened,
        clicked, replied, bounced, unsubscribed), dated when it happened, on
        the mailing (the document) in the company of its responsible (as the
        sends are logged); customers are found from the trace's address
        through the identity keys, as the pressure rules find them. The unique
        index on (customer, mailing, kind) makes it idempotent: a response already folded
        is skipped. Then, with ``refresh``, the response figures of the
        customers who got a new touch (one statement). Returns the number of
        touches written.
        """
        if since is None and not self:
            return 0
        self.flush_model()
        self.env["mailing.mailing"].flush_model(["subject", "user_id"])
        self.env["res.partner"].flush_model(["ecrm_email_key", "ecrm_phone_key", "commercial_partner_id", "active"])
        self.env["ecrm.interaction"].flush_model()
        scope = SQL("t.write_date > %s", since) if since is not None else SQL("t.id = ANY(%s)", self.ids)
        self.env.cr.execute(self._ecrm_fold_sql(scope))
        rows = self.env.cr.fetchall()
        self.env["ecrm.interaction"].invalidate_model()
        if refresh:
            Score = self.env["ecrm.response.score"].sudo()  # sudo: the figures are the company's
            for company_id, partner_ids, _count in rows:
                Score._ecrm_refresh(self.env["res.company"].browse(company_id), partner_ids)
        return sum(count for _company_id, _partner_ids, count in rows)

    @api.model
    def _ecrm_fold_sql(self, scope):
        """The fold's statement for the traces of ``scope`` (an SQL condition on
        ``t``); returns per company the customers it wrote touches for and how many."""
        labels = dict(self.env["ecrm.interaction"]._fields["ecrm_response"]._description_selection(self.env))
        now = fields.Datetime.now()
        return SQL(
            """
            WITH events AS (
                SELECT t.mass_mailing_id, t.trace_type, t.email, t.sms_number, ev.kind, ev.date,
                       COALESCE(u.company_id, %(company)s) AS company_id,
                       COALESCE(m.subject, '') AS subject
                  FROM mailing_trace t
                  JOIN mailing_mailing m ON m.id = t.mass_mailing_id
                  LEFT JOIN res_users u ON u.id = m.user_id
                 CROSS JOIN LATERAL (VALUES
                       ('open', t.open_datetime),
                       ('click', t.links_click_datetime),
                       ('reply', t.reply_datetime),
                       ('bounce', CASE WHEN t.trace_status = 'bounce' THEN t.write_date END),
                       ('unsubscribe', t.ecrm_unsubscribed_datetime)
                   ) AS ev(kind, date)
                 WHERE %(scope)s AND ev.date IS NOT NULL
            ),
            customers AS (
                SELECT e.*, p.commercial_partner_id AS partner_id
                  FROM events e
                  JOIN res_partner p ON p.ecrm_email_key = e.email
                 WHERE e.trace_type <> 'sms' AND p.active
                 UNION ALL
                SELECT e.*, p.commercial_partner_id AS partner_id
                  FROM events e
                  JOIN res_partner p ON p.ecrm_phone_key = e.sms_number
                 WHERE e.trace_type = 'sms' AND p.active
            ),
            inserted AS (
                INSERT INTO ecrm_interaction
                       (name, partner_id, commercial_partner_id, date, channel, direction, category, weight,
                        res_model, res_id, company_id, ecrm_response, create_uid, create_date, write_uid, write_date)
                SELECT l.label || ': ' || c.subject, c.partner_id, c.partner_id, c.date,
                       CASE WHEN c.trace_type = 'sms' THEN 'sms' ELSE 'email' END, 'inbound', 'marketing', 0.0,
                       'mailing.mailing', c.mass_mailing_id, c.company_id, c.kind,
                       %(uid)s, %(now)s, %(uid)s, %(now)s
                  FROM customers c
                  JOIN (VALUES %(labels)s) AS l(kind, label) ON l.kind = c.kind
                    ON CONFLICT (partner_id, res_id, ecrm_response) WHERE ecrm_response IS NOT NULL DO NOTHING
                RETURNING company_id, partner_id
            )
            SELECT company_id, array_agg(DISTINCT partner_id), count(*) FROM inserted GROUP BY company_id
            """,
            scope=scope,
            company=self.env.company.id,
            labels=SQL(", ").join(SQL("(%s, %s)", kind, labels[kind]) for kind, _label in RESPONSES),
            uid=self.env.uid,
            now=now,
        )

    @api.model
    def _cron_ecrm_fold_responses(self):
        """Fold the trace updates since the last run (SMS delivery reports,
        anything that bypassed Odoo's setters, the traces before the addon),
        then refresh the figures of the customers concerned."""
        params = self.env["ir.config_parameter"].sudo()
        mark = params.get_param(FOLD_MARK_PARAM)
        since = fields.Datetime.to_datetime(mark) - FOLD_OVERLAP if mark else fields.Datetime.to_datetime("1970-01-01")
        self.env.cr.execute(SQL("SELECT max(write_date) FROM mailing_trace"))
        latest = self.env.cr.fetchone()[0]
        # sudo: the log and the figures are the company's, whoever runs the cron
        self.sudo()._ecrm_fold_responses(since=since)
        if latest:
            params.set_param(FOLD_MARK_PARAM, fields.Datetime.to_string(latest))
