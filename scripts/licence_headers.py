#!/usr/bin/env python3
# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Licence header on every Python file, as OCA addons carry it.

    scripts/licence_headers.py            add the header where it is missing
    scripts/licence_headers.py --check    list the files without it, exit 1 if any
    scripts/licence_headers.py FILE...    only those files (pre-commit passes them)

Without files it walks every addon (ecrm_*/), bench/ and scripts/. The header is two
comment lines at the top (after a shebang or coding line):

    # Copyright 2026 ecrm_addon contributors
    # License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

A file that has a copyright line of its own keeps it (only the missing line is
added); empty files (package markers) are left alone. Running it twice changes
nothing the second time.
"""

import argparse
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# every addon of the repository (ecrm_addon and the bridges beside it), the benchmarks, the commands
DIRECTORIES = (*sorted(path.parent.name for path in ROOT.glob("ecrm_*/__manifest__.py")), "bench", "scripts")
COPYRIGHT = "# Copyright 2026 ecrm_addon contributors"
LICENCE = "# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl)."
COPYRIGHT_RE = re.compile(r"#\s*Copyright\b", re.IGNORECASE)
LICENCE_RE = re.compile(r"#\s*License\s+LGPL-3\.0 or later\b")
PREAMBLE_RE = re.compile(r"#!|#.*coding[:=]")


def python_files(directories=DIRECTORIES, root=ROOT):
    for directory in directories:
        yield from sorted((root / directory).rglob("*.py"))


def add_header(text):
    """``text`` with the header lines it lacks; ``text`` itself when complete."""
    if not text.strip():
        return text
    lines = text.splitlines(keepends=True)
    # the leading comment block holds the header (a docstring or code ends it)
    head = 0
    while head < len(lines) and lines[head].lstrip().startswith("#"):
        head += 1
    block = lines[:head]
    has_copyright = any(COPYRIGHT_RE.match(line.strip()) for line in block)
    has_licence = any(LICENCE_RE.match(line.strip()) for line in block)
    if has_copyright and has_licence:
        return text
    if has_licence:  # copyright goes above the licence line
        at = next(i for i, line in enumerate(block) if LICENCE_RE.match(line.strip()))
        return "".join([*lines[:at], COPYRIGHT + "\n", *lines[at:]])
    if has_copyright:  # licence goes below the last copyright line
        at = max(i for i, line in enumerate(block) if COPYRIGHT_RE.match(line.strip())) + 1
        return "".join([*lines[:at], LICENCE + "\n", *lines[at:]])
    at = 0
    while at < min(len(block), 2) and PREAMBLE_RE.match(block[at]):
        at += 1
    return "".join([*lines[:at], COPYRIGHT + "\n", LICENCE + "\n", *lines[at:]])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--check", action="store_true", help="list the files without the header, exit 1 if any")
    parser.add_argument("files", nargs="*", type=Path, help="files to check or fix (default: every .py)")
    args = parser.parse_args(argv)
    files = [path for path in args.files if path.suffix == ".py"] if args.files else list(python_files())
    missing = []
    for path in files:
        text = path.read_text(encoding="utf-8")
        fixed = add_header(text)
        if fixed == text:
            continue
        missing.append(path)
        if not args.check:
            path.write_text(fixed, encoding="utf-8")
    for path in missing:
        shown = path.relative_to(ROOT) if path.is_absolute() and path.is_relative_to(ROOT) else path
        print(f"{'missing licence header' if args.check else 'licence header added'}: {shown}")
    return 1 if args.check and missing else 0


if __name__ == "__main__":
    sys.exit(main())
