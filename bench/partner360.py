# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Customer 360 section of the benchmark: opening the partner form of a small
customer (one order) and of the biggest one (most orders, invoices and
touches), as the web client does it (``web_read`` with the form view's field
specification, cold ORM cache, as the administrator), with the number of SQL
queries and the time; and the e-CRM 360 figures alone. In the same run, the
Odoo idiom: the same figures computed with per-record loops over the
customer's orders, deliveries, invoices and touches (``search`` then a Python
loop reading each record), query count and time.

The engine's figures are compared with the idiom's (they must agree).
"""

import statistics
import time
import tracemalloc

from lxml import etree

from odoo import fields
from odoo.addons.ecrm_addon.models.res_partner_360 import OPEN_DELIVERY_STATUSES
from odoo.addons.ecrm_addon.models.stock_picking import PENDING_PICKING_STATES

# Issue #3 (identity and 360): "the number of SQL queries to open the form does
# not grow with the customer's history" (the same for 10 and 2,000 orders).
TARGETS = {"big_minus_small_queries_max": 0}


def _field_spec(model, node, depth=0):
    """The web client's specification for the fields of a view node: every
    field of this view (not of its sub-views), relational ones with their
    display name, x2many ones with the fields of their sub-view."""
    spec = {}
    for field_node in node.iter("field"):
        # skip the fields of sub-views: they belong to another model
        parent = field_node.getparent()
        inner = False
        while parent is not None and parent is not node:
            if parent.tag == "field":
                inner = True
                break
            parent = parent.getparent()
        if inner:
            continue
        name = field_node.get("name")
        field = model._fields.get(name)
        if field is None:
            continue
        if field.type == "many2one":
            spec[name] = {"fields": {"display_name": {}}}
        elif field.type in ("one2many", "many2many"):
            comodel = model.env[field.comodel_name]
            sub = next((child for child in field_node if child.tag in ("list", "kanban")), None)
            sub_spec = _field_spec(comodel, sub, depth + 1) if sub is not None and depth < 1 else {}
            spec[name] = {"fields": sub_spec or {"display_name": {}}, "limit": 40}
        else:
            spec[name] = {}
    return spec


def form_spec(env):
    Partner = env["res.partner"]
    arch = Partner.get_views([(False, "form")])["views"]["form"]["arch"]
    return _field_spec(Partner, etree.fromstring(arch))


def _measure(env, partner_id, spec, repeat):
    """(median seconds, queries) of a cold ``web_read`` of one partner."""
    times, queries = [], 0
    for _i in range(repeat):
        env.invalidate_all()
        before = env.cr.sql_log_count
        t0 = time.perf_counter()
        values = env["res.partner"].browse(partner_id).web_read(spec)
        times.append(time.perf_counter() - t0)
        queries = env.cr.sql_log_count - before
    return statistics.median(times), times, queries, values[0]


def idiom_360(env, partner_id):
    """The 360 figures with per-record loops (a first implementation)."""
    company = env.company
    today = fields.Date.context_today(env["res.partner"])
    partner = env["res.partner"].browse(partner_id)
    commercial = partner.commercial_partner_id
    contacts = (
        env["res.partner"].with_context(active_test=False).search([("commercial_partner_id", "=", commercial.id)])
    )
    figures = dict.fromkeys(env["res.partner"]._ecrm_360_figure_fields(), 0)
    for order in env["sale.order"].search([("partner_id", "in", contacts.ids), ("state", "=", "sale")]):
        figures["ecrm_lifetime_sales"] += order.currency_id._convert(
            order.amount_untaxed, company.currency_id, company, today
        )
        figures["ecrm_sale_count"] += 1
        if order.invoice_status == "to invoice" or order.delivery_status in OPEN_DELIVERY_STATUSES:
            figures["ecrm_open_order_count"] += 1
    for picking in env["stock.picking"].search(
        [("partner_id", "in", contacts.ids), ("picking_type_code", "=", "outgoing")]
    ):
        if picking.state in PENDING_PICKING_STATES:
            figures["ecrm_pending_delivery_count"] += 1
    for move in env["account.move"].search(
        [
            ("commercial_partner_id", "=", commercial.id),
            ("state", "=", "posted"),
            ("move_type", "in", ("out_invoice", "out_refund")),
        ]
    ):
        if move.payment_state in ("not_paid", "partial"):
            figures["ecrm_unpaid_amount"] += move.company_currency_id._convert(
                move.amount_residual_signed, company.currency_id, company, today
            )
            figures["ecrm_unpaid_invoice_count"] += 1
    last = False
    logs = env["ecrm.interaction"].search([("commercial_partner_id", "=", commercial.id)])
    for log in logs:
        figures["ecrm_interaction_count"] += 1
        last = max(last, log.date) if last else log.date
    figures["ecrm_last_interaction_date"] = last
    figures["timeline"] = logs[:20].mapped("name")
    return figures


def _idiom_measure(env, partner_id, repeat):
    times, queries, figures = [], 0, {}
    for _i in range(repeat):
        env.invalidate_all()
        before = env.cr.sql_log_count
        t0 = time.perf_counter()
        figures = idiom_360(env, partner_id)
        times.append(time.perf_counter() - t0)
        queries = env.cr.sql_log_count - before
    return statistics.median(times), times, queries, figures


def _same(a, b):
    if isinstance(a, float) or isinstance(b, float):
        return abs((a or 0.0) - (b or 0.0)) < 0.01
    return (a or False) == (b or False)


def _customers(env):
    """(small, biggest): a generated customer with one order, the one with the most."""
    import generate

    env.cr.execute(
        """
        SELECT o.partner_id, count(*) FROM sale_order o
         WHERE o.client_order_ref = %s GROUP BY o.partner_id ORDER BY count(*), o.partner_id
        """,
        [generate.MARK],
    )
    rows = env.cr.fetchall()
    return rows[0], rows[-1]


def run(env, options):
    repeat = options.repeat
    admin = env.ref("base.user_admin")
    uenv = env(user=admin, context={"bin_size": True, "lang": "en_US", "tz": "UTC"})
    if not admin.has_group("ecrm_addon.group_ecrm_user"):
        raise RuntimeError("the administrator is not an e-CRM user: the 360 fields would not be read")
    spec = form_spec(uenv)
    # what the 360 reads on the partner: its figures (smart buttons, e-CRM page) and the timeline
    fields_360 = env["res.partner"]._ecrm_360_figure_fields()
    spec_360 = {name: {} for name in fields_360}
    spec_360["ecrm_timeline_ids"] = spec.get("ecrm_timeline_ids", {"fields": {"display_name": {}}})
    result = {"form_fields": len(spec), "customers": {}}
    for label, (partner_id, orders) in zip(("small", "biggest"), _customers(env), strict=True):
        env.cr.execute(
            "SELECT count(*) FROM ecrm_interaction WHERE commercial_partner_id = %s",
            [partner_id],
        )
        touches = env.cr.fetchone()[0]
        form_s, form_runs, form_queries, _values = _measure(uenv, partner_id, spec, repeat)
        e360_s, e360_runs, e360_queries, values = _measure(uenv, partner_id, spec_360, repeat)
        idiom_s, idiom_runs, idiom_queries, figures = _idiom_measure(uenv, partner_id, repeat)
        tracemalloc.start()
        try:
            uenv.invalidate_all()
            uenv["res.partner"].browse(partner_id).web_read(spec_360)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        mismatches = [name for name in fields_360 if not _same(values[name], figures[name])]
        result["customers"][label] = {
            "partner_id": partner_id,
            "orders": orders,
            "interactions": touches,
            "form_open_s": form_s,
            "form_open_runs_s": form_runs,
            "form_open_queries": form_queries,
            "e360_s": e360_s,
            "e360_runs_s": e360_runs,
            "e360_queries": e360_queries,
            "idiom_s": idiom_s,
            "idiom_runs_s": idiom_runs,
            "idiom_queries": idiom_queries,
            "idiom_over_e360": idiom_s / e360_s if e360_s else None,
            "engine_vs_idiom_mismatches": mismatches,
            "peak_python_memory_bytes": {"e360": peak},
        }
    small, big = result["customers"]["small"], result["customers"]["biggest"]
    result["big_minus_small_queries"] = big["form_open_queries"] - small["form_open_queries"]
    result["big_over_small_queries"] = big["form_open_queries"] / max(1, small["form_open_queries"])
    result["big_over_small_form_time"] = big["form_open_s"] / small["form_open_s"] if small["form_open_s"] else None
    result["targets"] = {
        **TARGETS,
        "rule": "the form's query count does not grow with the customer's history (issue #3): "
        "the biggest customer's form costs no more queries than the small one's",
    }
    result["meets_targets"] = {
        "queries_flat": result["big_minus_small_queries"] <= TARGETS["big_minus_small_queries_max"],
        "engine_equals_idiom": not small["engine_vs_idiom_mismatches"] and not big["engine_vs_idiom_mismatches"],
    }
    return result


def table_rows(result):
    from benchlib import fmt_bytes, fmt_ratio, fmt_seconds, verdict

    rows = []
    for label in ("small", "biggest"):
        row = result["customers"][label]
        who = f"{label} customer ({row['orders']:,} orders, {row['interactions']:,} touches)"
        rows.extend(
            [
                (
                    f"360 form open, {who}",
                    f"{fmt_seconds(row['form_open_s'])}, {row['form_open_queries']} queries "
                    f"({result['form_fields']} form fields)",
                ),
                (
                    f"360 figures alone, {label}",
                    f"{fmt_seconds(row['e360_s'])}, {row['e360_queries']} queries; peak Python memory "
                    f"{fmt_bytes(row['peak_python_memory_bytes']['e360'])}",
                ),
                (
                    f"360 Odoo idiom (per-record loops), {label}",
                    f"{fmt_seconds(row['idiom_s'])}, {row['idiom_queries']} queries "
                    f"(idiom / 360 {fmt_ratio(row['idiom_over_e360'])})",
                ),
            ]
        )
    rows.append(
        (
            "360 form, biggest vs small",
            f"{result['big_minus_small_queries']:+d} queries  (target: no more queries: "
            f"{verdict(result['meets_targets']['queries_flat'])}); "
            f"time {fmt_ratio(result['big_over_small_form_time'])}",
        )
    )
    rows.append(("360 engine = idiom", "yes" if result["meets_targets"]["engine_equals_idiom"] else "NO"))
    return rows
