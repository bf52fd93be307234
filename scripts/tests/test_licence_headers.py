# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""scripts/licence_headers.py: the OCA header added once, where it is missing."""

import importlib.util
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / "licence_headers.py"
_spec = importlib.util.spec_from_file_location("licence_headers", SCRIPT)
licence_headers = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(licence_headers)

HEADER = licence_headers.COPYRIGHT + "\n" + licence_headers.LICENCE + "\n"


def test_header_goes_on_top_of_a_module():
    assert licence_headers.add_header('"""Doc."""\nimport os\n') == HEADER + '"""Doc."""\nimport os\n'


def test_header_goes_below_shebang_and_coding_line():
    text = "#!/usr/bin/env python3\n# -*- coding: utf-8 -*-\nprint(1)\n"
    assert licence_headers.add_header(text) == (
        "#!/usr/bin/env python3\n# -*- coding: utf-8 -*-\n" + HEADER + "print(1)\n"
    )


def test_adding_twice_changes_nothing():
    once = licence_headers.add_header("#!/usr/bin/env python3\nprint(1)\n")
    assert licence_headers.add_header(once) == once


def test_an_own_copyright_is_kept_and_the_licence_added_below():
    text = "# Copyright 2025 Some Shop\nimport os\n"
    assert licence_headers.add_header(text) == (
        "# Copyright 2025 Some Shop\n" + licence_headers.LICENCE + "\nimport os\n"
    )


def test_a_missing_copyright_goes_above_the_licence():
    text = licence_headers.LICENCE + "\nimport os\n"
    assert licence_headers.add_header(text) == HEADER + "import os\n"


def test_empty_package_marker_is_left_alone():
    assert licence_headers.add_header("") == ""


def test_check_lists_the_files_without_and_fixes_nothing(tmp_path):
    bare, done = tmp_path / "bare.py", tmp_path / "done.py"
    bare.write_text("import os\n", encoding="utf-8")
    done.write_text(HEADER + "import os\n", encoding="utf-8")
    run = subprocess.run(
        [sys.executable, str(SCRIPT), "--check", str(bare), str(done)], capture_output=True, text=True, check=False
    )
    assert (run.returncode, run.stdout) == (1, f"missing licence header: {bare}\n")
    assert bare.read_text(encoding="utf-8") == "import os\n"
    fix = subprocess.run([sys.executable, str(SCRIPT), str(bare)], capture_output=True, text=True, check=False)
    assert fix.returncode == 0
    check = subprocess.run([sys.executable, str(SCRIPT), "--check", str(bare), str(done)], check=False)
    assert check.returncode == 0
