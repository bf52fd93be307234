# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from datetime import timedelta

from odoo import api, fields, models
from odoo.tools.misc import format_date, format_datetime

# job code and label; the cron that runs each job
JOBS = [("rfm", "RFM refresh"), ("duplicates", "Duplicate scan")]
JOB_CRONS = {"rfm": "ecrm_addon.ecrm_rfm_cron", "duplicates": "ecrm_addon.ecrm_duplicate_group_cron_scan"}
# A run started longer ago than this was interrupted (a crash, a killed
# worker): both jobs take minutes at shop scale, and a cron worker is killed
# long before.
JOB_STALE_AFTER = timedelta(hours=6)


class EcrmJobRequest(models.Model):
    """A long operation asked for from the UI (RFM refresh, duplicate scan).

    The button records who asked and wakes the job's cron up, so the browser
    never waits; the cron marks the requests it serves as running, then done,
    and tells each requester through the bus. The requests also give the
    state shown next to the button (queued, running with its progress, last run).
    """

    _name = "ecrm.job.request"
    _description = "e-CRM Background Job Request"
    _order = "id desc"

    job = fields.Selection(JOBS, required=True, readonly=True, index=True)
    user_id = fields.Many2one(
        "res.users", string="Requested By", required=True, readonly=True, ondelete="cascade", index=True
    )
    state = fields.Selection(
        [("queued", "Queued"), ("running", "Running"), ("done", "Done")],
        default="queued",
        required=True,
        readonly=True,
        index=True,
    )
    date_started = fields.Datetime(string="Started On", readonly=True)
    date_done = fields.Datetime(string="Done On", readonly=True)

    @api.autovacuum
    def _gc_done_requests(self):
        """Requests served more than 30 days ago are of no use any more."""
        limit = fields.Datetime.now() - timedelta(days=30)
        self.sudo().search([("state", "=", "done"), ("date_done", "<", limit)]).unlink()

    @api.model
    def _ecrm_request(self, job):
        """Record that the current user asks for ``job`` and trigger its cron
        (once: a request already queued is reused). Returns the client action
        telling the user it runs in the background."""
        # sudo: the requester may read neither crons nor other users' requests;
        # what it gets is one request row of its own and a trigger of this cron.
        requests = self.sudo()
        running = requests.search_count([("job", "=", job), ("state", "=", "running")])
        if not requests.search_count([("job", "=", job), ("user_id", "=", self.env.uid), ("state", "=", "queued")]):
            requests.create({"job": job, "user_id": self.env.uid})
        self.env.ref(JOB_CRONS[job]).sudo()._trigger()
        if running:
            message = self.env._(
                "%(status)s. Your request runs right after it: you will be notified when it is done.",
                status=self._ecrm_status(job),
            )
        else:
            message = self.env._("Started in the background: you will be notified when it is done.")
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "info",
                "title": dict(self._fields["job"]._description_selection(self.env))[job],
                "message": message,
                "sticky": False,
            },
        }

    @api.model
    def _ecrm_start(self, job):
        """The cron of ``job`` starts: the requests it serves become running."""
        requests = self.sudo().search([("job", "=", job), ("state", "in", ("queued", "running"))])
        requests.write({"state": "running", "date_started": fields.Datetime.now()})
        return requests

    def _ecrm_done(self, job, summary):
        """The cron finished: mark the served requests done and tell each
        requester (``summary(env)`` builds the message as the requester, in its language)."""
        if not self:
            return
        self.write({"state": "done", "date_done": fields.Datetime.now()})
        for user in self.user_id:
            env = self.with_user(user).with_context(lang=user.lang).env
            user._bus_send(
                "simple_notification",
                {
                    "type": "success",
                    "title": dict(self._fields["job"]._description_selection(env))[job],
                    "message": summary(env),
                    "sticky": True,
                },
            )

    @api.model
    def _ecrm_running_status(self, cron, running):
        """The status of a run in progress: its progress, or, for a run that
        started long ago and never finished, that it was interrupted."""
        started = running.date_started or running.write_date
        if started < fields.Datetime.now() - JOB_STALE_AFTER:
            return self.env._(
                "Interrupted (started %(date)s): the next run serves its requests",
                date=format_datetime(self.env, started, dt_format="short"),
            )
        progress = self.env["ir.cron.progress"].sudo().search([("cron_id", "=", cron.id)], limit=1, order="id desc")
        if progress.remaining:
            return self.env._(
                "Running: %(done)s of %(total)s done",
                done=progress.done,
                total=progress.done + progress.remaining,
            )
        return self.env._("Running")

    @api.model
    def _ecrm_status(self, job):
        """One line for the UI: queued, running (with the cron's progress) or
        the last run, in the current user's time zone."""
        # sudo: only the job's state is read, never another user's data.
        cron = self.env.ref(JOB_CRONS[job]).sudo()
        requests = self.sudo()
        running = requests.search([("job", "=", job), ("state", "=", "running")], limit=1)
        if running:
            return self._ecrm_running_status(cron, running)
        if requests.search_count([("job", "=", job), ("state", "=", "queued")], limit=1):
            return self.env._("Queued, starts within a minute")
        last_done = requests.search([("job", "=", job), ("state", "=", "done")], limit=1).date_done
        last_run = max(filter(None, [cron.lastcall, last_done]), default=False)
        if last_run:
            return self.env._("Last run: %(date)s", date=format_datetime(self.env, last_run, dt_format="short"))
        if job == "rfm":
            # computed outside the cron (installation, a script): its latest reference date
            dates = self.env["res.company"].sudo().search([]).mapped("ecrm_rfm_scored_date")
            computed = max(filter(None, dates), default=False)
            if computed:
                return self.env._("Last run: %(date)s", date=format_date(self.env, computed))
        return self.env._("Never run")
