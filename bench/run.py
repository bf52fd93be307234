#!/usr/bin/env python3
# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Benchmark runner of ecrm_addon: generates shop-scale data in a scratch
database (once) and times each engine next to its baselines in the same run.

    bench/run.py --db NAME [--scale CUSTOMERS,ORDERS] [--sections rfm,pressure,...]
    bench/run.py --db NAME --sections pressure --update bench/results/latest.json
    bench/run.py --db NAME --scales 10000,100000:100000,1000000[:...]

The database is created (ecrm_addon installed, no demo data) when it does not
exist; in --scales mode each scale has its own, NAME_<customers>. Prints a
table and writes the JSON to bench/results/<date>-<customers>x<orders>.json
(``--output`` to choose; ``--update FILE`` re-runs only the chosen sections
and merges them into FILE). Sections are plain modules with ``run(env,
options)`` and ``table_rows(result)``, listed in SECTIONS.
"""

import argparse
import contextlib
import datetime
import hashlib
import importlib
import importlib.util
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

import benchlib  # noqa: E402  (bench/ is not a package)

# section name -> module of bench/. "api" is the API case intake (cases/s with
# two workers, bench/load.py).
SECTIONS = {
    "rfm": "rfm",
    "clv": "clv",
    "pressure": "pressure",
    "escalation": "cases",
    "duplicates": "duplicates",
    "partner360": "partner360",
    "responses": "responses",
    "api": "load",
}
DEFAULT_DB = "ecrm_bench"
GENERATION_PARAM = "ecrm_bench.generation"
CODE_PARAM = "ecrm_bench.code"


def section_available(name):
    return importlib.util.find_spec(SECTIONS[name]) is not None


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", default=os.environ.get("ECRM_BENCH_DB", DEFAULT_DB), help="scratch database")
    parser.add_argument("--scale", default="100000,1000000", help="customers,orders (default 100000,1000000)")
    parser.add_argument(
        "--scales",
        help="two or more scales, e.g. 10000,100000:100000,1000000: runs each and reports the growth between them",
    )
    parser.add_argument("--interactions", type=int, help="interaction-log rows (default: 2 per order)")
    parser.add_argument("--cases", type=int, help="open cases (default: 2 per customer)")
    parser.add_argument("--due", type=int, default=1000, help="cases due for escalation (default 1000)")
    parser.add_argument(
        "--response-events", type=int, default=1_000_000, help="trace events of the responses section (default 1M)"
    )
    parser.add_argument("--sections", default=",".join(SECTIONS), help=f"comma-separated, among {', '.join(SECTIONS)}")
    parser.add_argument(
        "--update",
        metavar="FILE",
        help="merge the sections run into this JSON (other sections kept; with --scales, the same scales' JSON)",
    )
    parser.add_argument("--regenerate", action="store_true", help="delete the generated data and generate again")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per measure (median reported)")
    parser.add_argument(
        "--idiom-sample", type=int, default=2000, help="records the idioms' per-record work is timed on"
    )
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--generate-only", action="store_true", help="generate (if needed), spot-check and stop")
    parser.add_argument("--output", help="JSON file (default bench/results/<date>-<scale>.json)")
    parser.add_argument("--note", action="append", default=[], help="a note to keep in the JSON (repeatable)")
    parser.add_argument("--markdown", metavar="FILE", help="print an existing result JSON as a Markdown table and stop")
    parser.add_argument("--addons-path", help="default: Odoo's addons and this repository")
    parser.add_argument("--data-dir", help="Odoo's data directory (filestore) for the created databases")
    args = parser.parse_args(argv)
    try:
        args.customers, args.orders = benchlib.parse_scale(args.scale)
        args.scale_list = benchlib.parse_scales(args.scales) if args.scales else [(args.customers, args.orders)]
        args.sections = benchlib.parse_sections(args.sections, list(SECTIONS))
    except ValueError as error:
        parser.error(str(error))
    if args.repeat < 1 or args.idiom_sample < 1 or args.due < 0:
        parser.error("--repeat and --idiom-sample must be positive, --due not negative")
    return args


def database_names(args):
    """The scratch database of each scale: --db itself, or NAME_<customers> with --scales."""
    if not args.scales:
        return [args.db]
    return [f"{args.db}_{customers}" for customers, _orders in args.scale_list]


def machine_info(cr):
    import odoo.release

    info = {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "odoo": odoo.release.version,
    }
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            info["cpu_model"] = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), "")
        with open("/proc/meminfo", encoding="utf-8") as f:
            info["memory_kib"] = int(next(line.split()[1] for line in f if line.startswith("MemTotal")))
    except OSError:
        pass
    cr.execute("SHOW server_version")
    info["postgresql"] = cr.fetchone()[0]
    for setting in ("shared_buffers", "work_mem"):
        cr.execute(f"SHOW {setting}")
        info[f"pg_{setting}"] = cr.fetchone()[0]
    with contextlib.suppress(OSError, subprocess.CalledProcessError):
        info["git_commit"] = subprocess.run(
            ["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True
        ).stdout.strip()
    return info


def load_average():
    with contextlib.suppress(OSError):
        return [round(x, 2) for x in os.getloadavg()]
    return None


def repo_modules(root=REPO):
    """The addons of this repository (folders with a manifest)."""
    return sorted(path.name for path in root.iterdir() if (path / "__manifest__.py").is_file())


def code_digest(modules, root=REPO):
    """One digest of the sources of ``modules``: what an update would load.
    Bytecode caches are left out; a renamed or moved file changes it."""
    digest = hashlib.sha256()
    for module in modules:
        for path in sorted((root / module).rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                digest.update(path.relative_to(root).as_posix().encode() + b"\0")
                digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


def _odoo(dbname, args, addons, *options):
    """Run Odoo once on ``dbname`` (``--stop-after-init``); exits with its log tail when it fails."""
    import odoo

    odoo_root = Path(odoo.__file__).resolve().parent.parent
    command = [sys.executable]
    command += [str(odoo_root / "odoo-bin")] if (odoo_root / "odoo-bin").is_file() else ["-m", "odoo"]
    command += ["-d", dbname, *options, "--stop-after-init", "--log-level=warn"]
    command += ["--addons-path", addons, "--http-port", os.environ.get("ECRM_BENCH_HTTP_PORT", "8191")]
    if args.data_dir:
        command += ["--data-dir", args.data_dir]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode:
        sys.stderr.write(done.stdout[-3000:] + done.stderr[-3000:])
    return done.returncode == 0


def ensure_database(dbname, args, addons):
    """Create the scratch database with ecrm_addon (no demo data) when it is
    missing; update this repository's addons in an existing one whose code is
    not the checkout's (the digest of the last install or update is kept in
    the database). Returns the digest of the code the database now runs."""
    import odoo
    from odoo.service import db as db_service

    if not db_service.exp_db_exist(dbname):
        print(f"creating database {dbname} with ecrm_addon, no demo data (a few minutes) ...", flush=True)
        if not _odoo(dbname, args, addons, "-i", "ecrm_addon", "--without-demo=all"):
            with contextlib.suppress(Exception):
                db_service.exp_drop(dbname)
            sys.exit(f"installing ecrm_addon into {dbname} failed; the half-made database was dropped")
        with odoo.sql_db.db_connect(dbname).cursor() as cr:
            return code_digest(_installed(cr, repo_modules()))
    with odoo.sql_db.db_connect(dbname).cursor() as cr:
        installed = _installed(cr, repo_modules())
        cr.execute("SELECT value FROM ir_config_parameter WHERE key = %s", [CODE_PARAM])
        stored = (cr.fetchone() or [None])[0]
    digest = code_digest(installed)
    if stored != digest:
        print(f"updating {', '.join(installed)} in {dbname}: its code is not this checkout's ...", flush=True)
        if not _odoo(dbname, args, addons, "-u", ",".join(installed)):
            sys.exit(f"updating {dbname} failed (see above); the database is left as it was")
    return digest


def _installed(cr, modules):
    cr.execute(
        "SELECT name FROM ir_module_module WHERE state = 'installed' AND name = ANY(%s) ORDER BY name", [modules]
    )
    return [name for (name,) in cr.fetchall()]


def prepare_data(env, args, customers, orders):
    """Generate what is missing at this scale; returns the generation report (or None)."""
    import generate

    cr = env.cr
    volumes = benchlib.default_volumes(customers, orders, args.interactions, args.cases)
    have = generate.existing_volumes(env)
    report = {}
    if args.regenerate or have["customers"] != customers:
        if have["customers"]:
            print(f"deleting generated data ({have['customers']:,} customers, {have['orders']:,} orders)", flush=True)
            generate.delete_generated(env)
            cr.commit()
        print(
            f"generating {customers:,} customers, about {orders:,} orders, {volumes['interactions']:,} interactions"
            f" and {volumes['cases']:,} cases ({args.due:,} due) ...",
            flush=True,
        )
        t0 = time.perf_counter()
        report = generate.generate(
            env,
            customers,
            orders,
            seed=args.seed,
            interactions=volumes["interactions"],
            cases=volumes["cases"],
            due=args.due,
        )
    else:
        # the same customers: add (or redo) what differs from the requested volumes
        t0 = time.perf_counter()
        if abs(have["interactions"] - volumes["interactions"]) > volumes["interactions"] * 0.01:
            print(f"generating {volumes['interactions']:,} interactions ...", flush=True)
            generate.delete_interactions(env)
            report["interactions"] = generate.generate_interactions(env, volumes["interactions"])
        if have["cases"] != volumes["cases"]:
            print(f"generating {volumes['cases']:,} cases ({args.due:,} due) ...", flush=True)
            generate.delete_cases(env)
            report["cases"] = generate.generate_cases(env, volumes["cases"], args.due)
    if report:
        generate.analyze(env)
        report["total_s"] = time.perf_counter() - t0
        report["date"] = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
        report["load_average"] = load_average()
        # kept in the database: later runs on the same data report how it was made
        env["ir.config_parameter"].set_param(GENERATION_PARAM, json.dumps(report, default=str))
        cr.commit()
        print(f"generated in {report['total_s']:.0f} s", flush=True)
        return report
    stored = env["ir.config_parameter"].get_param(GENERATION_PARAM)
    return dict(json.loads(stored), reused=True) if stored else None


def run_scale(dbname, customers, orders, args, addons):
    """Generate (if needed) and run the sections on one database; returns the result dict and table rows."""
    import generate

    import odoo

    digest = ensure_database(dbname, args, addons)
    registry = odoo.modules.registry.Registry(dbname)
    result = {
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "database": dbname,
        "requested_scale": benchlib.default_volumes(customers, orders, args.interactions, args.cases),
        "load_average_start": load_average(),
        "sections": {},
    }
    rows = []
    with registry.cursor() as cr:
        env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
        if "ecrm.rfm.score" not in env:
            sys.exit(f"ecrm_addon is not installed in {dbname} (see bench/README.md)")
        env["ir.config_parameter"].set_param(CODE_PARAM, digest)
        cr.commit()
        result["machine"] = machine_info(cr)
        generated = prepare_data(env, args, customers, orders)
        if generated:
            result["generated"] = generated
        volumes = generate.existing_volumes(env)
        result["scale"] = volumes
        problems = generate.spot_check(env)
        result["orm_spot_check"] = {"ok": not problems, "problems": problems}
        cr.commit()
        rows.append(
            (
                "scale",
                f"{volumes['customers']:,} customers, {volumes['orders']:,} orders (+ invoices), "
                f"{volumes['refunds']:,} refunds, {volumes['interactions']:,} interactions, "
                f"{volumes['cases']:,} open cases",
            )
        )
        rows.append(("ORM reads generated records back", "ok" if not problems else f"{len(problems)} MISMATCHES"))
        if args.generate_only:
            return result, rows
        args.volumes = volumes
        for name in args.sections:
            rows.extend(run_section(env, name, args, result))
    result["load_average_end"] = load_average()
    result["max_rss_kib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    result["targets_summary"] = benchlib.targets_summary(result["sections"])
    rows.extend(benchlib.targets_rows(result["targets_summary"]))
    return result, rows


def run_section(env, name, args, result):
    """Run one section, store its result (with the load average around it) and return its table rows."""
    if not section_available(name):
        result["sections"][name] = {
            "available": False,
            "note": f"bench/{SECTIONS[name]}.py is not on this branch: section not available",
        }
        return [(f"{name}: section", "not available (no bench/" + SECTIONS[name] + ".py)")]
    module = importlib.import_module(SECTIONS[name])
    print(f"running section {name} ...", flush=True)
    load_before = load_average()
    t0 = time.perf_counter()
    try:
        section = module.run(env, args)
        env.cr.commit()
    except Exception as error:  # a failing section must not lose the others' results
        env.cr.rollback()
        env.invalidate_all()
        import traceback

        traceback.print_exc()
        result["sections"][name] = {"available": True, "error": repr(error)}
        return [(f"{name}: section", f"FAILED: {error!r}")]
    section["section_total_s"] = time.perf_counter() - t0
    section["load_average"] = {"before": load_before, "after": load_average()}
    section["measured_at"] = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
    section["max_rss_kib_after"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    result["sections"][name] = section
    return list(module.table_rows(section))


def all_rows(result):
    """Table rows of every section in a (possibly merged) result."""
    rows = []
    for name, section in result.get("sections", {}).items():
        if not section.get("available", True):
            rows.append((f"{name}: section", "not available"))
        elif "error" in section:
            rows.append((f"{name}: section", f"FAILED: {section['error']}"))
        else:
            rows.extend(importlib.import_module(SECTIONS[name]).table_rows(section))
    return rows


def print_markdown(path):
    """The table of a result JSON in Markdown (for the README), without a database."""
    result = json.loads(Path(path).read_text(encoding="utf-8"))
    rows = all_rows(result) + benchlib.targets_rows(benchlib.targets_summary(result["sections"]))
    print(benchlib.markdown_table(rows))


def write_document(args, document, default):
    """Write the run's JSON: to --output (default bench/results/<default>.json),
    or merged into the --update file (the sections run replaced)."""
    if args.update:
        output = Path(args.update)
        existing = json.loads(output.read_text(encoding="utf-8")) if output.exists() else {}
        print()
        if args.scales:
            document = benchlib.merge_scales(existing, document, args.sections)
            rows = benchlib.scales_rows(document["runs"], document["growth"])
        else:
            document = benchlib.merge_results(existing, document, args.sections)
            document["targets_summary"] = benchlib.targets_summary(document["sections"])
            rows = all_rows(document) + benchlib.targets_rows(document["targets_summary"])
        print(benchlib.format_table(rows, f"merged into {output}"))
    else:
        output = Path(args.output) if args.output else HERE / "results" / f"{default}.json"
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(document, indent=2, default=str) + "\n", encoding="utf-8")
    print(f"written {output}")


def main(argv=None):
    args = parse_args(argv)
    import odoo
    from odoo.tools import config

    addons = args.addons_path
    if not addons:
        root = Path(odoo.__file__).resolve().parent.parent
        addons = ",".join(str(p) for p in (root / "addons", root / "odoo" / "addons", REPO) if p.is_dir())
    if args.markdown:
        config.parse_config(["--addons-path", addons])
        odoo.modules.module.initialize_sys_path()
        print_markdown(args.markdown)
        return
    options = ["--addons-path", addons, "--log-level", "warn"]
    if args.data_dir:
        options += ["--data-dir", args.data_dir]
    config.parse_config(options)
    odoo.netsvc.init_logger()

    runs = []
    for dbname, (customers, orders) in zip(database_names(args), args.scale_list, strict=True):
        result, rows = run_scale(dbname, customers, orders, args, addons)
        result["notes"] = list(args.note)
        runs.append((result, rows))
        title = f"ecrm_addon benchmark, {result['date']}, {result['machine'].get('cpu_model', '')}, db {dbname}"
        print()
        print(benchlib.format_table(rows, title))
        print(f"load average: {result['load_average_start']} at the start, {result.get('load_average_end')} at the end")

    if args.generate_only:
        return
    if args.scales:
        scale_runs = [result for result, _rows in runs]
        steps = benchlib.growth_steps(scale_runs)
        print()
        print(benchlib.format_table(benchlib.scales_rows(scale_runs, steps), "growth between consecutive scales"))
        document = {"mode": "scales", "runs": scale_runs, "growth": steps}
        sizes = "-".join(str(run["scale"]["customers"]) for run in scale_runs)
        default = f"{datetime.date.today():%Y%m%d}-scales-{sizes}"
    else:
        document = runs[0][0]
        default = f"{datetime.date.today():%Y%m%d}-{document['scale']['customers']}x{document['scale']['orders']}"
    write_document(args, document, default)


if __name__ == "__main__":
    main()
