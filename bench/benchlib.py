# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Pure helpers of the benchmark runner (no Odoo import): scales, ratios,
merging results, growth between two scales, and the printed table.

Tested by scripts/tests/test_bench.py.
"""

import copy
import math
import statistics
import tracemalloc

# Per-scale defaults of the generator, as multiples of the customers / orders:
# 100k customers and 1M orders give 2M interactions and 200k open cases.
INTERACTIONS_PER_ORDER = 2
CASES_PER_CUSTOMER = 2


def peak_memory(fn):
    """Peak Python memory (bytes, tracemalloc) while ``fn()`` runs."""
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def parse_scale(text):
    """``"100000,1000000"`` -> ``(100000, 1000000)`` (customers, orders)."""
    parts = [part.strip().replace("_", "") for part in str(text).split(",")]
    if len(parts) != 2 or not all(part.isdigit() for part in parts):
        raise ValueError(f"a scale is CUSTOMERS,ORDERS (two whole numbers), not {text!r}")
    customers, orders = (int(part) for part in parts)
    if customers < 1 or orders < customers:
        raise ValueError(f"a scale needs at least one customer and one order per customer, not {text!r}")
    return customers, orders


def parse_scales(text):
    """``"10000,100000:100000,1000000"`` -> two (customers, orders) pairs, smaller first."""
    scales = [parse_scale(part) for part in str(text).split(":") if part.strip()]
    if len(scales) != 2:
        raise ValueError(f"--scales takes two scales separated by ':', not {text!r}")
    if scales[0] == scales[1]:
        raise ValueError("the two scales of --scales must differ")
    return sorted(scales)


def parse_sections(text, known):
    """Comma-separated section names, in the order given, each known, no repeats."""
    names = []
    for name in (part.strip() for part in str(text).split(",")):
        if name and name not in names:
            names.append(name)
    unknown = [name for name in names if name not in known]
    if unknown:
        raise ValueError(f"unknown sections: {', '.join(unknown)} (known: {', '.join(known)})")
    if not names:
        raise ValueError("no section given")
    return names


def default_volumes(customers, orders, interactions=None, cases=None):
    """The generator's volumes for a scale: interactions and cases follow it unless given."""
    return {
        "customers": customers,
        "orders": orders,
        "interactions": orders * INTERACTIONS_PER_ORDER if interactions is None else interactions,
        "cases": customers * CASES_PER_CUSTOMER if cases is None else cases,
    }


def ratio(numerator, denominator):
    """numerator / denominator, None when either is missing or the denominator is 0."""
    if numerator is None or denominator is None:
        return None
    try:
        if denominator == 0:
            return None
        return numerator / denominator
    except TypeError:
        return None


def median(values):
    values = [value for value in values if value is not None]
    return statistics.median(values) if values else None


def fmt_seconds(seconds):
    """A duration for the table: ms under a second, s above, minutes above 10 min."""
    if seconds is None:
        return "n/a"
    if seconds < 1:
        return f"{seconds * 1000:.1f} ms"
    if seconds < 600:
        return f"{seconds:.2f} s"
    return f"{seconds / 60:.1f} min"


def fmt_ratio(value):
    """A ratio for the table: a percentage under 1 %, two decimals under 10x, whole numbers above."""
    if value is None:
        return "n/a"
    if 0 < value < 0.01:
        return f"{value * 100:.3f} %"
    if value < 10:
        return f"{value:.2f}x"
    return f"{value:,.0f}x"


def fmt_bytes(size):
    if size is None:
        return "n/a"
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(size) < 1024 or unit == "GiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} GiB"  # pragma: no cover


def verdict(met):
    """'met' / 'MISSED' / 'no bound' for a target check (None: nothing to check)."""
    if met is None:
        return "no bound"
    return "met" if met else "MISSED"


def check_max(value, bound):
    """value <= bound, None when the value is missing."""
    return None if value is None else value <= bound


def check_min(value, bound):
    """value >= bound, None when the value is missing."""
    return None if value is None else value >= bound


def format_table(rows, title=None):
    """Rows of (label, value) or (label, value, value...) as aligned text lines."""
    rows = [tuple("" if cell is None else str(cell) for cell in row) for row in rows]
    if not rows:
        return title or ""
    columns = max(len(row) for row in rows)
    rows = [row + ("",) * (columns - len(row)) for row in rows]
    widths = [max(len(row[i]) for row in rows) for i in range(columns)]
    lines = ["  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip() for row in rows]
    rule = "-" * max(len(line) for line in lines)
    out = [title] if title else []
    return "\n".join([*out, rule, *lines, rule])


def merge_results(existing, new, sections):
    """``existing`` JSON result with ``sections`` replaced by ``new``'s (the
    other sections kept as they were, each with the date it was measured).
    The run-wide keys (machine, load, scale) are taken from ``new``; the notes
    of both are kept."""
    merged = copy.deepcopy(existing) if existing else {}
    merged_sections = merged.setdefault("sections", {})
    for name in sections:
        if name in new.get("sections", {}):
            merged_sections[name] = copy.deepcopy(new["sections"][name])
    for key, value in new.items():
        if key in ("sections", "notes"):
            continue
        if key == "scale" and existing and existing.get("scale") and _scale_key(existing["scale"]) != _scale_key(value):
            raise ValueError(
                f"cannot merge results of another scale ({value}) into {existing['scale']}: run every section"
            )
        merged[key] = copy.deepcopy(value)
    notes = list(merged.get("notes") or [])
    notes.extend(note for note in new.get("notes") or [] if note not in notes)
    if notes:
        merged["notes"] = notes
    merged["updated_sections"] = list(sections)
    return merged


def _is_number(value):
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _scale_key(scale):
    return (scale.get("customers"), scale.get("orders"))


def _timings(section, prefix=""):
    """{dotted key: seconds} of a section's result: numeric leaves named ``*_s``."""
    found = {}
    for key, value in (section or {}).items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            found.update(_timings(value, f"{name}."))
        elif (
            key.endswith("_s")
            and isinstance(value, int | float)
            and not isinstance(value, bool)
            and math.isfinite(value)
        ):
            found[name] = value
    return found


def growth(small, large):
    """Growth of each timing between two runs (``large`` / ``small``) next to
    the growth of the data: ``{"data": {...}, "sections": {name: {key: ratio}}}``."""
    data = {}
    for key in ("customers", "orders", "invoices", "interactions", "cases", "due_cases"):
        value = ratio((large.get("scale") or {}).get(key), (small.get("scale") or {}).get(key))
        if value is not None:
            data[key] = value
    sections = {}
    for name, result in (large.get("sections") or {}).items():
        before = _timings((small.get("sections") or {}).get(name))
        after = _timings(result)
        ratios = {key: ratio(after[key], before.get(key)) for key in after if key in before}
        ratios = {key: value for key, value in ratios.items() if value is not None}
        if ratios:
            sections[name] = ratios
    return {"data": data, "sections": sections}


def growth_rows(small, large, grown):
    """Table rows (timing, small, large, growth) of a scaling run."""
    rows = [("", _scale_label(small), _scale_label(large), "growth")]
    for key, value in grown["data"].items():
        rows.append(
            (f"data: {key}", f"{small['scale'][key]:,}", f"{large['scale'][key]:,}", fmt_ratio(value)),
        )
    for name, ratios in grown["sections"].items():
        before = _timings(small["sections"][name])
        after = _timings(large["sections"][name])
        for key, value in ratios.items():
            if key.endswith("runs_s"):
                continue
            rows.append((f"{name}: {key}", fmt_seconds(before[key]), fmt_seconds(after[key]), fmt_ratio(value)))
    return rows


def _scale_label(result):
    scale = result.get("scale") or {}
    return f"{scale.get('customers', 0):,} / {scale.get('orders', 0):,}"


# The targets of the issues, next to what a run measured: (section, issue,
# what, key of the measured ratio, target as text, key of the verdict in the
# section's "meets_targets" or None when the issue sets no bound).
TARGET_SPECS = [
    ("rfm", "#4", "RFM daily run / floor", "refresh_over_floor", "<= 4x", "refresh_over_floor"),
    ("rfm", "#4", "RFM full run / floor", "full_refresh_over_floor", "<= 4x", "full_refresh_over_floor"),
    ("rfm", "#4", "RFM idiom / daily run", "idiom_over_refresh", ">= 100x", "idiom_over_refresh"),
    ("clv", "#18", "customer value fit + scoring / RFM floor", "clv_over_rfm_floor", "<= 3x", "clv_over_rfm_floor"),
    ("responses", "#17", "trace events folded into the profile / floor", "fold_over_floor", "<= 3x", "fold_over_floor"),
    (
        "pressure",
        "#5",
        "pressure filter / mailing's own recipient computation",
        "filter_over_recipients",
        "reported next to it (no bound)",
        None,
    ),
    (
        "pressure",
        "#5",
        "pressure filter queries per batch",
        "filter_queries",
        "one set-based query per batch",
        "filter_queries",
    ),
    ("pressure", "#20", "pressure filter / floor", "filter_over_floor", "<= 1.5x", "filter_over_floor"),
    (
        "escalation",
        "#6",
        "escalation cron none due / 1k due",
        "none_due_over_due",
        "follows the due cases, not the open ones (< 1 %, partial index)",
        "follows_due_not_open",
    ),
    (
        "partner360",
        "#3",
        "360 form queries, biggest - small customer",
        "big_minus_small_queries",
        "does not grow with the history (0)",
        "queries_flat",
    ),
]


def targets_summary(sections):
    """One row per issue target: measured value and verdict (met / MISSED /
    no bound / not run)."""
    rows = []
    for section, issue, what, key, target, verdict_key in TARGET_SPECS:
        result = sections.get(section) or {}
        if not result or "error" in result or result.get("available") is False:
            rows.append({"issue": issue, "what": what, "target": target, "measured": None, "verdict": "not run"})
            continue
        met = (result.get("meets_targets") or {}).get(verdict_key) if verdict_key else None
        rows.append(
            {"issue": issue, "what": what, "target": target, "measured": result.get(key), "verdict": verdict(met)}
        )
    return rows


def targets_rows(summary):
    """Table rows of targets_summary()."""
    out = []
    for row in summary:
        measured = row["measured"]
        if isinstance(measured, float):
            measured = fmt_ratio(measured)
        elif measured is None:
            measured = "n/a"
        out.append((f"target {row['issue']}: {row['what']}", f"{measured}  (target {row['target']}: {row['verdict']})"))
    return out


def markdown_table(rows, header=("Measure", "Result")):
    """Rows of (label, value) as a Markdown table (pipes in cells escaped)."""
    lines = [f"| {' | '.join(header)} |", f"|{'---|' * len(header)}"]
    for row in rows:
        cells = [str(cell).replace("|", "\\|") for cell in row]
        cells += [""] * (len(header) - len(cells))
        lines.append(f"| {' | '.join(cells)} |")
    return "\n".join(lines)


def vacuum(dbname, tables):
    """VACUUM ANALYZE outside any transaction (own autocommit connection)."""
    import psycopg2

    from odoo.sql_db import connection_info_for
    from odoo.tools import SQL

    _name, info = connection_info_for(dbname)
    conn = psycopg2.connect(**info)
    try:
        conn.autocommit = True
        with conn.cursor() as cursor:
            for table in tables:
                cursor.execute(SQL("VACUUM ANALYZE %s", SQL.identifier(table)).code)
    finally:
        conn.close()
