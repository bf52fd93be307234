#!/usr/bin/env python3
"""Benchmark runner of ecrm_addon: generates shop-scale data in a scratch
database (once) and times each engine next to its baselines in the same run.

    bench/run.py --db NAME [--scale CUSTOMERS,ORDERS] [--sections rfm] [--regenerate]

The database must have ecrm_addon installed (see bench/README.md). Prints a
table and writes the JSON to bench/results/<date>-<customers>x<orders>.json
(``--output`` to choose). Sections are plain modules with ``run(env, options)``
and ``table_rows(result)``: add one to SECTIONS to benchmark another engine.
"""

import argparse
import contextlib
import datetime
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
sys.path.insert(0, str(HERE))

SECTIONS = ("rfm",)  # later: "pressure", "cases", "duplicates"


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", required=True, help="scratch database with ecrm_addon installed")
    parser.add_argument("--scale", default="100000,1000000", help="customers,orders (default 100000,1000000)")
    parser.add_argument("--sections", default=",".join(SECTIONS), help=f"comma-separated, among {', '.join(SECTIONS)}")
    parser.add_argument("--regenerate", action="store_true", help="delete the generated data and generate again")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per measure (median reported)")
    parser.add_argument("--idiom-sample", type=int, default=2000, help="customers the idiom's ORM writes are timed on")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--generate-only", action="store_true", help="generate (if needed), spot-check and stop")
    parser.add_argument("--output", help="JSON file (default bench/results/<date>-<scale>.json)")
    parser.add_argument("--addons-path", help="default: Odoo's addons and this repository")
    args = parser.parse_args(argv)
    customers, orders = (int(x) for x in args.scale.split(","))
    args.customers, args.orders = customers, orders
    args.sections = [s for s in args.sections.split(",") if s]
    unknown = set(args.sections) - set(SECTIONS)
    if unknown:
        parser.error(f"unknown sections: {', '.join(sorted(unknown))}")
    return args


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


def main(argv=None):  # noqa: PLR0915
    args = parse_args(argv)
    import odoo
    from odoo.tools import config

    addons = args.addons_path
    if not addons:
        root = Path(odoo.__file__).resolve().parent.parent
        addons = ",".join(str(p) for p in (root / "addons", root / "odoo" / "addons", REPO) if p.is_dir())
    config.parse_config(["-d", args.db, "--addons-path", addons, "--log-level", "warn"])
    odoo.netsvc.init_logger()
    registry = odoo.modules.registry.Registry(args.db)

    import generate

    result = {
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "database": args.db,
        "requested_scale": {"customers": args.customers, "orders": args.orders},
        "sections": {},
    }
    with registry.cursor() as cr:
        env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
        if "ecrm.rfm.score" not in env:
            sys.exit(f"ecrm_addon is not installed in {args.db} (see bench/README.md)")
        result["machine"] = machine_info(cr)
        have = generate.existing_scale(env)
        if args.regenerate or have[0] != args.customers:
            if any(have):
                print(f"deleting generated data ({have[0]:,} customers, {have[1]:,} orders)", flush=True)
                generate.delete_generated(env)
                cr.commit()
            print(f"generating {args.customers:,} customers and about {args.orders:,} orders ...", flush=True)
            t0 = time.perf_counter()
            result["generated"] = generate.generate(env, args.customers, args.orders, seed=args.seed)
            cr.commit()
            result["generated"]["total_s"] = time.perf_counter() - t0
            print(f"generated in {result['generated']['total_s']:.0f} s: {result['generated']}", flush=True)
        cr.execute("SELECT count(*) FROM account_move WHERE ref = 'bench' AND move_type = 'out_refund'")
        refunds = cr.fetchone()[0]
        customers, orders = generate.existing_scale(env)
        result["scale"] = {"customers": customers, "orders": orders, "invoices": orders, "refunds": refunds}
        problems = generate.spot_check(env)
        result["orm_spot_check"] = {"ok": not problems, "problems": problems}
        cr.commit()
        if args.generate_only:
            print(f"data ready: {result['scale']}, ORM spot check {problems or 'ok'}")
            return

        rows = [("scale", f"{customers:,} customers, {orders:,} orders (+ invoices), {refunds:,} refunds")]
        rows.append(("ORM reads generated records back", "ok" if not problems else f"{len(problems)} MISMATCHES"))
        for name in args.sections:
            module = __import__(name)
            print(f"running section {name} ...", flush=True)
            section = module.run(env, args)
            cr.commit()
            result["sections"][name] = section
            rows.extend(module.table_rows(section))
    result["max_rss_kib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

    width = max(len(label) for label, _value in rows)
    print()
    print(f"ecrm_addon benchmark, {result['date']}, {result['machine'].get('cpu_model', '')}")
    print("-" * (width + 60))
    for label, value in rows:
        print(f"{label:<{width}}  {value}")
    print("-" * (width + 60))

    output = (
        Path(args.output)
        if args.output
        else HERE / "results" / (f"{datetime.date.today():%Y%m%d}-{customers}x{orders}.json")
    )
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(result, indent=2, default=str) + "\n", encoding="utf-8")
    print(f"written {output}")


if __name__ == "__main__":
    main()
