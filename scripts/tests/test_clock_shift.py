# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""scripts/clock_shift.py: the offset it reads and the clock it moves."""

import datetime
import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).parents[1] / "clock_shift.py"
spec = importlib.util.spec_from_file_location("clock_shift", SCRIPT)
clock_shift = importlib.util.module_from_spec(spec)
spec.loader.exec_module(clock_shift)


@pytest.mark.parametrize(
    ("text", "delta"),
    [
        ("+400d", datetime.timedelta(days=400)),
        ("-3h", datetime.timedelta(hours=-3)),
        ("90m", datetime.timedelta(minutes=90)),
    ],
)
def test_offset_reads_days_hours_minutes(text, delta):
    assert clock_shift.offset(text) == delta


@pytest.mark.parametrize("text", ["400", "+1y", "soon", ""])
def test_offset_refuses_anything_else(text):
    with pytest.raises(SystemExit, match="is not like"):
        clock_shift.offset(text)


def test_odoo_runs_on_the_moved_date_with_a_real_monotonic_clock(tmp_path):
    # a stand-in for Odoo's command line, reporting the clocks it sees
    (tmp_path / "odoo").mkdir()
    (tmp_path / "odoo" / "__init__.py").write_text("")
    (tmp_path / "odoo" / "cli.py").write_text(
        "import datetime, sys, time\n"
        "def main():\n"
        "    start = time.monotonic()\n"
        "    time.sleep(0.05)\n"
        "    print(datetime.date.today().isoformat(), time.monotonic() - start >= 0.05, sys.argv[1:])\n"
    )
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "+400d", "--stop-after-init"],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONPATH": str(tmp_path), "PATH": "/usr/bin:/bin"},
    )
    moved = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=400)).date().isoformat()
    assert done.stdout.split(maxsplit=2) == [moved, "True", "['--stop-after-init']\n"]
