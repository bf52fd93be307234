# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Pure helpers of the benchmark runner (no Odoo import): scales, ratios,
merging results, growth between consecutive scales, and the printed table.

Tested by scripts/tests/test_bench.py.
"""

import copy
import itertools
import math
import statistics
import tracemalloc

# Per-scale defaults of the generator, as multiples of the customers / orders:
# 100k customers and 1M orders give 2M interactions and 200k open cases.
INTERACTIONS_PER_ORDER = 2
CASES_PER_CUSTOMER = 2


# Rows per INSERT ... SELECT of the generator's big tables: bounds what one
# statement holds (its after-trigger queue when the triggers fire).
CHUNK_ROWS = 1_000_000


def chunk_ranges(first, last, size=None):
    """Consecutive inclusive ranges ``(low, high)`` covering ``first..last``,
    ``size`` values each (default CHUNK_ROWS; the last one shorter); none when
    ``last < first``."""
    size = CHUNK_ROWS if size is None else size
    if size < 1:
        raise ValueError("a chunk holds at least one value")
    return [(low, min(low + size - 1, last)) for low in range(first, last + 1, size)]


def droppable_indexes(catalogue):
    """The indexes a bulk load may drop and build again after: neither unique
    (they enforce a rule on the rows loaded) nor backing a constraint, on a
    table the role owns (only the owner may drop an index).

    ``catalogue``: dicts with ``name``, ``definition`` (pg_get_indexdef),
    ``unique``, ``constraint`` and ``owned`` (booleans). Returns them in the
    given order."""
    return [index for index in catalogue if not index["unique"] and not index["constraint"] and index["owned"]]


def retarget_index(definition, table, target):
    """``definition`` (pg_get_indexdef of an index of ``table``, schema-qualified
    as PostgreSQL writes it) made to build the same index on ``target``; None
    when it does not name ``table`` exactly once."""
    on = f" ON {table} USING "
    if definition.count(on) != 1:
        return None
    return definition.replace(on, f" ON {target} USING ")


def index_differences(before, after):
    """What differs between two index catalogues (name -> definition): the
    indexes missing, added or defined differently, as readable lines."""
    before = {index["name"]: index["definition"] for index in before}
    after = {index["name"]: index["definition"] for index in after}
    lines = [f"missing: {before[name]}" for name in sorted(before.keys() - after.keys())]
    lines += [f"added: {after[name]}" for name in sorted(after.keys() - before.keys())]
    lines += [
        f"changed: {before[name]} -> {after[name]}"
        for name in sorted(before.keys() & after.keys())
        if before[name] != after[name]
    ]
    return lines


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
    """``"10000,100000:100000,1000000"`` -> two or more (customers, orders)
    pairs, smallest first (each scale has its own database, named after its
    customers: no two may have as many)."""
    scales = [parse_scale(part) for part in str(text).split(":") if part.strip()]
    if len(scales) < 2:
        raise ValueError(f"--scales takes two or more scales separated by ':', not {text!r}")
    customers = [scale[0] for scale in scales]
    if len(set(customers)) != len(customers):
        raise ValueError("the scales of --scales must differ in their customers (one database each)")
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


def merge_scales(existing, new, sections):
    """A scaling result ``existing`` with ``sections`` of each of its scales
    replaced by ``new``'s (``merge_results`` per scale, the scales matched by
    their data), the targets and the growth between the scales computed again.
    Both must hold the same scales."""
    if not existing:
        return copy.deepcopy(new)
    old_runs = {_scale_key(run["scale"]): run for run in existing.get("runs", [])}
    new_keys = [_scale_key(run["scale"]) for run in new.get("runs", [])]
    if sorted(old_runs) != sorted(new_keys):
        raise ValueError(f"cannot merge the scales {new_keys} into {sorted(old_runs)}: run the same scales")
    runs = []
    for run in new["runs"]:
        merged = merge_results(old_runs[_scale_key(run["scale"])], run, sections)
        merged["targets_summary"] = targets_summary(merged["sections"])
        runs.append(merged)
    document = copy.deepcopy(existing)
    document.update(runs=runs, growth=growth_steps(runs), updated_sections=list(sections))
    return document


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


def _peak_memory(section, prefix=""):
    """{dotted key: bytes} of a section's result: the numeric leaves of its
    peak Python memory (tracemalloc), i.e. whose dotted key names a peak."""
    found = {}
    for key, value in (section or {}).items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            found.update(_peak_memory(value, f"{name}."))
        elif "peak" in name and _is_number(value):
            found[name] = value
    return found


def _ratios(before, after):
    ratios = {key: ratio(after[key], before.get(key)) for key in after if key in before}
    return {key: value for key, value in ratios.items() if value is not None}


def growth(small, large):
    """Growth of each timing and each peak memory between two runs (``large``
    / ``small``) next to the growth of the data: ``{"from": scale, "to":
    scale, "data": {...}, "sections": {name: {key: ratio}}, "memory": {name:
    {key: ratio}}}`` (``sections`` holds the timings)."""
    data = {}
    for key in ("customers", "orders", "invoices", "interactions", "cases", "due_cases"):
        value = ratio((large.get("scale") or {}).get(key), (small.get("scale") or {}).get(key))
        if value is not None:
            data[key] = value
    sections, memory = {}, {}
    for name, result in (large.get("sections") or {}).items():
        before = (small.get("sections") or {}).get(name)
        timings = _ratios(_timings(before), _timings(result))
        if timings:
            sections[name] = timings
        peaks = _ratios(_peak_memory(before), _peak_memory(result))
        if peaks:
            memory[name] = peaks
    return {
        "from": _scale_label(small),
        "to": _scale_label(large),
        "data": data,
        "sections": sections,
        "memory": memory,
    }


def growth_steps(runs):
    """growth() between each run and the next (runs smallest first)."""
    return [growth(small, large) for small, large in itertools.pairwise(runs)]


def scales_rows(runs, steps):
    """Table rows of a scaling run: (measure, value at each scale..., growth
    of each step...). The data first, then per section its timings and its
    peak Python memory; a measure is shown when some step has its growth."""
    header = ["", *(_scale_label(run) for run in runs)]
    if len(steps) == 1:
        header.append("growth")
    else:
        header += [f"x {_short_scale(a)}->{_short_scale(b)}" for a, b in itertools.pairwise(runs)]
    rows = [tuple(header)]

    def add(label, values, ratios, fmt):
        cells = [fmt(value) if value is not None else "n/a" for value in values]
        rows.append((label, *cells, *(fmt_ratio(value) for value in ratios)))

    data_keys = [key for step in steps for key in step["data"]]
    for key in dict.fromkeys(data_keys):
        values = [(run.get("scale") or {}).get(key) for run in runs]
        add(f"data: {key}", values, [step["data"].get(key) for step in steps], lambda v: f"{v:,}")
    names = dict.fromkeys(name for step in steps for part in ("sections", "memory") for name in step.get(part, {}))
    for name in names:
        for part, read, fmt in (("sections", _timings, fmt_seconds), ("memory", _peak_memory, fmt_bytes)):
            measures = [read((run.get("sections") or {}).get(name)) for run in runs]
            keys = dict.fromkeys(key for step in steps for key in step.get(part, {}).get(name, {}))
            for key in keys:
                ratios = [step.get(part, {}).get(name, {}).get(key) for step in steps]
                add(f"{name}: {key}", [measure.get(key) for measure in measures], ratios, fmt)
    return rows


def growth_rows(small, large, grown):
    """Table rows (measure, small, large, growth) of a scaling run of two scales."""
    return scales_rows([small, large], [grown])


def _scale_label(result):
    scale = result.get("scale") or {}
    return f"{scale.get('customers', 0):,} / {scale.get('orders', 0):,}"


def _short_scale(result):
    """A scale's customers in short: 10k, 1.5M."""
    customers = (result.get("scale") or {}).get("customers", 0)
    for unit, size in (("M", 1_000_000), ("k", 1_000)):
        if customers >= size:
            return f"{customers / size:g}{unit}"
    return str(customers)


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
        "escalation",
        "#20",
        "escalation cron, 1k due / idiom's scan of the open cases",
        "due_over_idiom",
        "<= 0.16x",
        "due_over_idiom",
    ),
    ("api", "#20", "API cases created per second (2 workers, 50 clients)", "created_per_s", ">= 50", "created_per_s"),
    ("api", "#20", "API latency p99 (ms)", "latency_p99_ms", "<= 2000", "p99"),
    ("api", "#20", "API errors after retries", "error_count", "0", "errors"),
    (
        "api",
        "#20",
        "API cases created == acknowledged",
        "created_equals_acknowledged",
        "the same cases",
        "created_equals_acknowledged",
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


# The unit of a measured value that is not a ratio (by its key in the section).
TARGET_UNITS = {"created_per_s": "cases/s", "latency_p99_ms": "ms", "error_count": "", "filter_queries": ""}


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
        row = {"issue": issue, "what": what, "target": target, "measured": result.get(key), "verdict": verdict(met)}
        if key in TARGET_UNITS:
            row["unit"] = TARGET_UNITS[key]
        rows.append(row)
    return rows


def targets_rows(summary):
    """Table rows of targets_summary()."""
    out = []
    for row in summary:
        measured = row["measured"]
        if isinstance(measured, bool):
            measured = "yes" if measured else "no"
        elif measured is None:
            measured = "n/a"
        elif "unit" in row:
            measured = f"{measured:,.1f} {row['unit']}".rstrip() if isinstance(measured, float) else f"{measured}"
        elif isinstance(measured, float):
            measured = fmt_ratio(measured)
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
