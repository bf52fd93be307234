# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The benchmark runner's pure parts: scales, sections, ratios, merging
results into an existing JSON, growth between two scales, the table.

No Odoo and no database: bench/benchlib.py and bench/run.py's argument
parsing import nothing of Odoo.
"""

import importlib.util
import itertools
import os
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"
sys.path.insert(0, str(BENCH))

import benchlib  # noqa: E402


def _load_runner():
    spec = importlib.util.spec_from_file_location("bench_run", BENCH / "run.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


runner = _load_runner()


# --- scales and sections -------------------------------------------------------


def test_parse_scale_reads_customers_and_orders():
    assert benchlib.parse_scale("100000,1000000") == (100000, 1000000)
    assert benchlib.parse_scale(" 10_000 , 100_000 ") == (10000, 100000)


@pytest.mark.parametrize("text", ["100000", "a,b", "10,5", "0,10", "1,2,3", "-1,10"])
def test_parse_scale_rejects_bad_input(text):
    with pytest.raises(ValueError, match="scale"):
        benchlib.parse_scale(text)


def test_parse_scales_gives_two_scales_smaller_first():
    assert benchlib.parse_scales("100000,1000000:10000,100000") == [(10000, 100000), (100000, 1000000)]


def test_parse_scales_takes_three_scales_smallest_first():
    assert benchlib.parse_scales("1000000,10000000:10000,100000:100000,1000000") == [
        (10000, 100000),
        (100000, 1000000),
        (1000000, 10000000),
    ]


@pytest.mark.parametrize("text", ["10000,100000", "10,100:10,100", "10,100:10,200", "10,100:20,200:20,300"])
def test_parse_scales_needs_two_scales_of_different_customers(text):
    with pytest.raises(ValueError, match="scales"):
        benchlib.parse_scales(text)


def test_parse_sections_keeps_order_and_drops_repeats():
    assert benchlib.parse_sections("pressure,rfm,pressure", ["rfm", "pressure"]) == ["pressure", "rfm"]


def test_parse_sections_names_the_unknown_ones():
    with pytest.raises(ValueError, match="unknown sections: nope"):
        benchlib.parse_sections("rfm,nope", ["rfm"])


def test_default_volumes_follow_the_scale_unless_given():
    assert benchlib.default_volumes(100000, 1000000) == {
        "customers": 100000,
        "orders": 1000000,
        "interactions": 2000000,
        "cases": 200000,
    }
    assert benchlib.default_volumes(10, 100, interactions=5, cases=0)["cases"] == 0


# --- ratios and formatting -------------------------------------------------------


def test_ratio_is_none_when_it_cannot_be_computed():
    assert benchlib.ratio(4.0, 2.0) == 2.0
    assert benchlib.ratio(1.0, 0) is None
    assert benchlib.ratio(None, 2.0) is None
    assert benchlib.ratio(1.0, None) is None


def test_fmt_seconds_picks_the_unit():
    assert benchlib.fmt_seconds(0.0123) == "12.3 ms"
    assert benchlib.fmt_seconds(4.039) == "4.04 s"
    assert benchlib.fmt_seconds(1200) == "20.0 min"
    assert benchlib.fmt_seconds(None) == "n/a"


def test_fmt_ratio_rounds_large_ratios():
    assert benchlib.fmt_ratio(3.8168) == "3.82x"
    assert benchlib.fmt_ratio(1234.4) == "1,234x"
    assert benchlib.fmt_ratio(None) == "n/a"
    assert benchlib.fmt_ratio(0.00012) == "0.012 %"


def test_fmt_bytes_picks_the_unit():
    assert benchlib.fmt_bytes(512) == "512 B"
    assert benchlib.fmt_bytes(92603) == "90.4 KiB"
    assert benchlib.fmt_bytes(43828958) == "41.8 MiB"


def test_verdict_and_checks():
    assert benchlib.verdict(benchlib.check_max(3.8, 4.0)) == "met"
    assert benchlib.verdict(benchlib.check_min(29.0, 100.0)) == "MISSED"
    assert benchlib.verdict(benchlib.check_max(None, 4.0)) == "no bound"


def test_format_table_aligns_columns_between_rules():
    text = benchlib.format_table([("a", "1"), ("longer label", "22", "x")], "title")
    lines = text.splitlines()
    assert lines[0] == "title"
    assert lines[1] == lines[-1] and set(lines[1]) == {"-"}
    assert lines[2].index("1") == lines[3].index("22") == len("longer label") + 2


# --- merging and growth -------------------------------------------------------


def _result(scale, sections, notes=()):
    return {"date": "d", "scale": scale, "machine": {"cpus": 2}, "sections": sections, "notes": list(notes)}


def test_merge_replaces_only_the_sections_run():
    existing = _result({"customers": 10, "orders": 100}, {"rfm": {"refresh_s": 1.0}, "pressure": {"filter_s": 2.0}})
    new = _result({"customers": 10, "orders": 100}, {"pressure": {"filter_s": 0.5}}, ["re-run"])
    new["date"] = "later"
    merged = benchlib.merge_results(existing, new, ["pressure"])
    assert merged["sections"] == {"rfm": {"refresh_s": 1.0}, "pressure": {"filter_s": 0.5}}
    assert merged["date"] == "later"
    assert merged["notes"] == ["re-run"]
    assert merged["updated_sections"] == ["pressure"]
    assert existing["sections"]["pressure"] == {"filter_s": 2.0}  # the input is left alone


def test_merge_into_nothing_starts_a_result():
    new = _result({"customers": 10, "orders": 100}, {"rfm": {"refresh_s": 1.0}})
    assert benchlib.merge_results({}, new, ["rfm"])["sections"] == {"rfm": {"refresh_s": 1.0}}


def test_merge_refuses_another_scale():
    existing = _result({"customers": 10, "orders": 100}, {})
    new = _result({"customers": 20, "orders": 100}, {"rfm": {}})
    with pytest.raises(ValueError, match="another scale"):
        benchlib.merge_results(existing, new, ["rfm"])


def test_growth_compares_each_timing_with_the_data_growth():
    small = _result(
        {"customers": 10, "orders": 100, "cases": 20},
        {"rfm": {"refresh_s": 1.0, "idiom_detail": {"read_group_s": 0.5}, "count": 3, "flag_s": True}},
    )
    large = _result(
        {"customers": 100, "orders": 1000, "cases": 200},
        {"rfm": {"refresh_s": 8.0, "idiom_detail": {"read_group_s": 5.0}, "count": 30, "flag_s": False}},
    )
    grown = benchlib.growth(small, large)
    assert grown["data"] == {"customers": 10.0, "orders": 10.0, "cases": 10.0}
    assert grown["sections"] == {"rfm": {"refresh_s": 8.0, "idiom_detail.read_group_s": 10.0}}
    rows = benchlib.growth_rows(small, large, grown)
    assert rows[0] == ("", "10 / 100", "100 / 1,000", "growth")
    assert ("rfm: refresh_s", "1.00 s", "8.00 s", "8.00x") in rows


def _scale_run(customers, refresh_s, peak, clv_s):
    return _result(
        {"customers": customers, "orders": customers * 10},
        {
            "rfm": {"refresh_s": refresh_s, "peak_python_memory_bytes": {"refresh": peak}, "runs_s": [refresh_s]},
            "clv": {"clv_s": clv_s, "clv_peak_python_bytes": peak * 2},
        },
    )


def test_growth_steps_of_three_scales_give_time_and_peak_memory_per_step():
    runs = [_scale_run(10, 1.0, 1024, 0.5), _scale_run(100, 8.0, 2048, 5.0), _scale_run(1000, 80.0, 2048, 100.0)]
    steps = benchlib.growth_steps(runs)
    labels = [(step["from"], step["to"]) for step in steps]
    assert labels == [("10 / 100", "100 / 1,000"), ("100 / 1,000", "1,000 / 10,000")]
    assert [step["data"] for step in steps] == [{"customers": 10.0, "orders": 10.0}] * 2
    assert [step["sections"] for step in steps] == [
        {"rfm": {"refresh_s": 8.0}, "clv": {"clv_s": 10.0}},
        {"rfm": {"refresh_s": 10.0}, "clv": {"clv_s": 20.0}},
    ]
    assert [step["memory"] for step in steps] == [
        {"rfm": {"peak_python_memory_bytes.refresh": 2.0}, "clv": {"clv_peak_python_bytes": 2.0}},
        {"rfm": {"peak_python_memory_bytes.refresh": 1.0}, "clv": {"clv_peak_python_bytes": 1.0}},
    ]
    rows = benchlib.scales_rows(runs, steps)
    assert rows[0] == ("", "10 / 100", "100 / 1,000", "1,000 / 10,000", "x 10->100", "x 100->1k")
    assert ("data: orders", "100", "1,000", "10,000", "10x", "10x") in rows
    assert ("rfm: refresh_s", "1.00 s", "8.00 s", "80.00 s", "8.00x", "10x") in rows
    assert ("rfm: peak_python_memory_bytes.refresh", "1.0 KiB", "2.0 KiB", "2.0 KiB", "2.00x", "1.00x") in rows
    assert ("clv: clv_s", "500.0 ms", "5.00 s", "100.00 s", "10x", "20x") in rows
    assert ("clv: clv_peak_python_bytes", "2.0 KiB", "4.0 KiB", "4.0 KiB", "2.00x", "1.00x") in rows
    assert [row[0] for row in rows if "runs_s" in row[0]] == []


def test_scales_rows_say_n_a_for_a_section_missing_at_one_scale():
    runs = [_scale_run(10, 1.0, 1024, 0.5), _scale_run(100, 8.0, 2048, 5.0), _scale_run(1000, 80.0, 2048, 100.0)]
    del runs[2]["sections"]["clv"]
    rows = benchlib.scales_rows(runs, benchlib.growth_steps(runs))
    assert ("clv: clv_s", "500.0 ms", "5.00 s", "n/a", "10x", "n/a") in rows


def test_merge_scales_replaces_the_sections_run_at_each_scale_and_the_growth():
    existing = {"mode": "scales", "runs": [_scale_run(10, 1.0, 1024, 0.5), _scale_run(100, 8.0, 2048, 5.0)]}
    existing["runs"][1]["sections"]["clv"] = {"error": "boom"}
    existing["growth"] = benchlib.growth_steps(existing["runs"])
    new_runs = [_scale_run(10, 9.0, 1024, 0.5), _scale_run(100, 9.0, 2048, 4.0)]
    for run in new_runs:
        del run["sections"]["rfm"]
    merged = benchlib.merge_scales(existing, {"mode": "scales", "runs": new_runs}, ["clv"])
    assert [run["sections"]["rfm"]["refresh_s"] for run in merged["runs"]] == [1.0, 8.0]  # kept
    assert [run["sections"]["clv"]["clv_s"] for run in merged["runs"]] == [0.5, 4.0]
    assert merged["growth"][0]["sections"] == {"rfm": {"refresh_s": 8.0}, "clv": {"clv_s": 8.0}}
    assert merged["updated_sections"] == ["clv"]
    assert "targets_summary" in merged["runs"][1]
    assert existing["runs"][1]["sections"]["clv"] == {"error": "boom"}  # the input is left alone


def test_merge_scales_refuses_other_scales():
    existing = {"runs": [_scale_run(10, 1.0, 1024, 0.5), _scale_run(100, 8.0, 2048, 5.0)]}
    new = {"runs": [_scale_run(10, 1.0, 1024, 0.5), _scale_run(1000, 8.0, 2048, 5.0)]}
    with pytest.raises(ValueError, match="same scales"):
        benchlib.merge_scales(existing, new, ["clv"])


def test_merge_scales_into_nothing_starts_a_result():
    new = {"mode": "scales", "runs": [_scale_run(10, 1.0, 1024, 0.5), _scale_run(100, 8.0, 2048, 5.0)]}
    assert benchlib.merge_scales({}, new, ["rfm"]) == new


# --- the runner's arguments -------------------------------------------------------


def test_runner_defaults_run_every_section_at_100k():
    args = runner.parse_args(["--db", "x"])
    assert (args.customers, args.orders) == (100000, 1000000)
    assert args.sections == list(runner.SECTIONS)
    assert "api" in args.sections
    assert runner.database_names(args) == ["x"]


def test_runner_scales_get_one_database_each():
    args = runner.parse_args(["--db", "b", "--scales", "100000,1000000:10000,100000"])
    assert args.scale_list == [(10000, 100000), (100000, 1000000)]
    assert runner.database_names(args) == ["b_10000", "b_100000"]
    args = runner.parse_args(["--db", "b", "--scales", "1000000,10000000:10000,100000:100000,1000000"])
    assert runner.database_names(args) == ["b_10000", "b_100000", "b_1000000"]


@pytest.mark.parametrize(
    "argv",
    [
        ["--sections", "rfm,bogus"],
        ["--scale", "10"],
        ["--repeat", "0"],
    ],
)
def test_runner_rejects_bad_arguments(argv, capsys):
    with pytest.raises(SystemExit) as exit_info:
        runner.parse_args(argv)
    assert exit_info.value.code == 2
    assert "error" in capsys.readouterr().err


def test_runner_api_section_is_a_slot_for_bench_load():
    assert runner.SECTIONS["api"] == "load"
    assert runner.section_available("api") == (BENCH / "load.py").is_file()
    assert runner.section_available("rfm")


def test_runner_help_runs_without_odoo():
    result = subprocess.run(
        [sys.executable, str(BENCH / "run.py"), "--help"], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    assert "--update" in result.stdout and "--scales" in result.stdout


def _addon(root, name, files):
    folder = root / name
    for relative, text in {"__manifest__.py": "{}", **files}.items():
        (folder / relative).parent.mkdir(parents=True, exist_ok=True)
        (folder / relative).write_text(text, encoding="utf-8")


def test_repo_modules_are_the_folders_with_a_manifest(tmp_path):
    _addon(tmp_path, "b_addon", {})
    _addon(tmp_path, "a_addon", {})
    (tmp_path / "bench").mkdir()
    assert runner.repo_modules(tmp_path) == ["a_addon", "b_addon"]


def test_code_digest_follows_the_sources_and_ignores_bytecode(tmp_path):
    _addon(tmp_path, "a_addon", {"models/a.py": "x = 1\n"})
    before = runner.code_digest(["a_addon"], tmp_path)
    _addon(tmp_path, "a_addon", {"models/__pycache__/a.cpython-312.pyc": "bytecode"})
    assert runner.code_digest(["a_addon"], tmp_path) == before
    (tmp_path / "a_addon" / "models" / "a.py").write_text("x = 2\n", encoding="utf-8")
    changed = runner.code_digest(["a_addon"], tmp_path)
    assert changed != before
    (tmp_path / "a_addon" / "models" / "a.py").rename(tmp_path / "a_addon" / "models" / "b.py")
    assert runner.code_digest(["a_addon"], tmp_path) not in (before, changed)


def test_code_digest_covers_only_the_installed_modules(tmp_path):
    _addon(tmp_path, "a_addon", {"a.py": "a\n"})
    _addon(tmp_path, "b_addon", {"b.py": "b\n"})
    only_a = runner.code_digest(["a_addon"], tmp_path)
    (tmp_path / "b_addon" / "b.py").write_text("changed\n", encoding="utf-8")
    assert runner.code_digest(["a_addon"], tmp_path) == only_a
    assert runner.code_digest(["a_addon", "b_addon"], tmp_path) != only_a


# --- targets next to the measures -------------------------------------------------------


def test_targets_summary_gives_each_issue_target_its_verdict():
    sections = {
        "rfm": {
            "refresh_over_floor": 1.6,
            "full_refresh_over_floor": 4.2,
            "idiom_over_refresh": 29.0,
            "meets_targets": {
                "refresh_over_floor": True,
                "full_refresh_over_floor": False,
                "idiom_over_refresh": False,
            },
        },
        "pressure": {
            "filter_over_recipients": 18.0,
            "filter_queries": 4,
            "filter_over_floor": 1.6,
            "meets_targets": {"filter_queries": True, "filter_over_floor": False},
        },
        "escalation": {"error": "boom"},
        "api": {
            "created_per_s": 35.1,
            "latency_p99_ms": 8567.9,
            "error_count": 0,
            "created_equals_acknowledged": True,
            "meets_targets": {
                "created_per_s": False,
                "p99": False,
                "errors": True,
                "created_equals_acknowledged": True,
            },
        },
    }
    rows = {row["what"]: row for row in benchlib.targets_summary(sections)}
    assert rows["RFM daily run / floor"]["verdict"] == "met"
    assert rows["RFM full run / floor"]["verdict"] == "MISSED"
    assert rows["RFM idiom / daily run"]["verdict"] == "MISSED"
    assert rows["pressure filter / mailing's own recipient computation"]["verdict"] == "no bound"
    assert rows["pressure filter / mailing's own recipient computation"]["measured"] == 18.0
    assert rows["pressure filter / floor"]["verdict"] == "MISSED"
    assert rows["escalation cron none due / 1k due"]["verdict"] == "not run"
    assert rows["360 form queries, biggest - small customer"]["verdict"] == "not run"
    assert rows["escalation cron, 1k due / idiom's scan of the open cases"]["verdict"] == "not run"
    assert rows["API cases created per second (2 workers, 50 clients)"]["verdict"] == "MISSED"
    assert rows["API cases created per second (2 workers, 50 clients)"]["measured"] == 35.1
    assert rows["API latency p99 (ms)"]["verdict"] == "MISSED"
    assert rows["API errors after retries"]["verdict"] == "met"
    assert rows["API cases created == acknowledged"]["verdict"] == "met"
    table = dict(benchlib.targets_rows(benchlib.targets_summary(sections)))
    assert table["target #4: RFM idiom / daily run"] == "29x  (target >= 100x: MISSED)"
    assert table["target #20: API cases created per second (2 workers, 50 clients)"] == (
        "35.1 cases/s  (target >= 50: MISSED)"
    )
    assert table["target #20: API latency p99 (ms)"] == "8,567.9 ms  (target <= 2000: MISSED)"
    assert table["target #20: API errors after retries"] == "0  (target 0: met)"
    assert table["target #20: API cases created == acknowledged"] == "yes  (target the same cases: met)"


def test_markdown_table_escapes_pipes():
    text = benchlib.markdown_table([("a|b", "1")])
    assert text.splitlines() == ["| Measure | Result |", "|---|---|", "| a\\|b | 1 |"]


# --- bulk load of the generator ------------------------------------------------


def test_chunk_ranges_cover_every_value_once_in_order():
    assert benchlib.chunk_ranges(1, 10, 4) == [(1, 4), (5, 8), (9, 10)]
    assert benchlib.chunk_ranges(0, 2, 3) == [(0, 2)]
    assert benchlib.chunk_ranges(1, 0, 5) == []
    ranges = benchlib.chunk_ranges(1, 2_500_001)
    assert ranges[0] == (1, benchlib.CHUNK_ROWS)
    assert ranges[-1] == (2_000_001, 2_500_001)
    assert all(high + 1 == low for (_, high), (low, _) in itertools.pairwise(ranges))
    with pytest.raises(ValueError):
        benchlib.chunk_ranges(1, 10, 0)


def _index(name, definition, unique=False, constraint=False, owned=True):
    return {"name": name, "definition": definition, "unique": unique, "constraint": constraint, "owned": owned}


def test_droppable_indexes_keep_unique_and_constraint_ones():
    plain = _index("sale_order__partner_id_index", "CREATE INDEX sale_order__partner_id_index ON ...")
    partial = _index("sale_order__x_index", "CREATE INDEX sale_order__x_index ON ... WHERE (x IS NOT NULL)")
    catalogue = [
        _index("sale_order_pkey", "CREATE UNIQUE INDEX sale_order_pkey ON ...", unique=True, constraint=True),
        plain,
        _index("sale_order_name_uniq", "CREATE UNIQUE INDEX sale_order_name_uniq ON ...", unique=True),
        _index("sale_order_excl", "CREATE INDEX sale_order_excl ON ... USING gist", constraint=True),
        partial,
        _index("res_users_x_index", "CREATE INDEX res_users_x_index ON ...", owned=False),
    ]
    assert benchlib.droppable_indexes(catalogue) == [plain, partial]


def test_index_differences_names_what_was_not_built_again_as_it_was():
    before = [_index("a", "CREATE INDEX a ON t (x)"), _index("b", "CREATE INDEX b ON t (y)")]
    assert benchlib.index_differences(before, list(reversed(before))) == []
    after = [_index("a", "CREATE INDEX a ON t (x) WHERE (x > 0)"), _index("c", "CREATE INDEX c ON t (z)")]
    assert benchlib.index_differences(before, after) == [
        "missing: CREATE INDEX b ON t (y)",
        "added: CREATE INDEX c ON t (z)",
        "changed: CREATE INDEX a ON t (x) -> CREATE INDEX a ON t (x) WHERE (x > 0)",
    ]


def test_retarget_index_moves_the_definition_to_another_table():
    definition = "CREATE INDEX a_idx ON public.account_move USING btree (ref) WHERE (ref IS NOT NULL)"
    assert (
        benchlib.retarget_index(definition, "public.account_move", "pg_temp_3.probe")
        == "CREATE INDEX a_idx ON pg_temp_3.probe USING btree (ref) WHERE (ref IS NOT NULL)"
    )
    assert benchlib.retarget_index(definition, "public.sale_order", "pg_temp_3.probe") is None


# --- the API load's CPU accounting ------------------------------------------------

import load  # noqa: E402


def test_cpu_stat_line_reads_parent_name_and_own_plus_reaped_ticks():
    # pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime cutime cstime ...
    line = "4242 (odoo: worker) (x)) S 17 4242 4242 0 -1 4194560 10 20 30 40 111 222 333 444 20 0 1 0 99 0"
    assert load._stat(line) == (17, "odoo: worker) (x)", 111 + 222 + 333 + 444)


def test_cpu_tree_takes_a_process_and_its_descendants_only():
    processes = {
        1: (0, "init", 9.0),
        10: (1, "odoo", 1.0),
        11: (10, "odoo", 2.0),
        12: (11, "odoo", 3.0),
        20: (1, "x", 4.0),
    }
    assert load._tree(processes, 10) == {10, 11, 12}
    assert load._tree(processes, 99) == set(), "a process gone: nothing"


def test_cpu_report_per_case_and_the_ceiling_the_cores_allow():
    before = {
        "odoo": 10.0,
        "nginx": 1.0,
        "postgresql": 5.0,
        "load_clients": 2.0,
        "machine_busy": 100.0,
        "machine_total": 200.0,
        "listen_overflows": 7,
    }
    after = dict(
        before, odoo=50.0, nginx=1.5, postgresql=15.0, load_clients=3.0, machine_busy=152.0, listen_overflows=19
    )
    after["machine_total"] = 280.0  # 80 s of CPU time passed (2 cores, 40 s), 52 of them busy
    report = load.cpu_report(before, after, cases=1000, cpus=2)
    assert report["per_case_ms"] == {
        "odoo": 40.0,
        "nginx": 0.5,
        "postgresql": 10.0,
        "load_clients": 1.0,
        "server_side": 50.5,
        "all": 51.5,
    }
    assert report["machine_busy_fraction"] == 0.65
    assert report["listen_overflows"] == 12
    # 2 cores at 50.5 ms of server-side CPU per case: 39.6 cases/s at most
    assert report["ceiling_cases_per_s"] == {"with_clients": 38.8, "server_side_only": 39.6}
    no_cpu = {"with_clients": None, "server_side_only": None}
    assert load.cpu_report(before, before, cases=0, cpus=2)["ceiling_cases_per_s"] == no_cpu
    assert load.cpu_report(before, before, cases=10, cpus=2)["ceiling_cases_per_s"] == no_cpu, "no CPU counted"


@pytest.mark.skipif(not Path("/proc/net/netstat").exists(), reason="Linux /proc only")
def test_cpu_snapshot_reads_this_machine():
    snapshot = load.cpu_snapshot(os.getpid())
    assert snapshot["odoo"] > 0, "the process tree given (here: this test's own process)"
    assert snapshot["nginx"] == 0 and snapshot["postgresql"] >= 0
    assert 0 < snapshot["machine_busy"] <= snapshot["machine_total"]
    assert snapshot["listen_overflows"] >= 0
    rows = load.cpu_rows(load.cpu_report(snapshot, snapshot, cases=0, cpus=2))
    assert [label for label, _value in rows] == [
        "API load: CPU per created case",
        "API load: connections dropped at a full accept queue",
        "API load: cases/s the cores allow at that cost",
    ]


def test_load_targets_mark_each_of_issue_20s_api_targets():
    run = {
        "created_per_s": 50.2,
        "latency_ms": {"p99": 1999.0},
        "error_count": 0,
        "created_equals_acknowledged": True,
    }
    assert load.targets(run)["meets_targets"] == {
        "created_per_s": True,
        "p99": True,
        "errors": True,
        "created_equals_acknowledged": True,
    }
    slow = dict(run, created_per_s=49.9, latency_ms={"p99": 2000.5}, error_count=1, created_equals_acknowledged=False)
    assert load.targets(slow)["meets_targets"] == dict.fromkeys(
        ("created_per_s", "p99", "errors", "created_equals_acknowledged"), False
    )
    assert load.targets(dict(run, created_per_s=None, latency_ms={"p99": None}))["meets_targets"]["p99"] is False
