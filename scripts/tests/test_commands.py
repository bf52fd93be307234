# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The two README commands end bad configurations with a clear message.

They run the real scripts in subprocesses; none of these cases needs Odoo or
PostgreSQL, because each must stop before touching either.
"""

import os
import socket
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def run(script, env_extra, args=()):
    env = {**os.environ, **env_extra}
    return subprocess.run(
        [str(REPO / "scripts" / script), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        stdin=subprocess.DEVNULL,
    )


def assert_clear_error(result, words):
    assert result.returncode == 2, result.stdout + result.stderr
    assert words in result.stderr
    assert "Traceback" not in result.stdout + result.stderr


@pytest.mark.parametrize("script", ["run", "test"])
def test_odoo_src_pointing_at_nothing(script, tmp_path):
    result = run(script, {"ODOO_SRC": str(tmp_path / "missing"), "ECRM_HTTP_PORT": "18998"})
    assert_clear_error(result, "does not exist")


def test_odoo_src_that_is_not_odoo(tmp_path):
    (tmp_path / "README").write_text("not odoo")
    result = run("test", {"ODOO_SRC": str(tmp_path)})
    assert_clear_error(result, "is not an Odoo source tree")


def test_http_port_taken():
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = run("run", {"ECRM_HTTP_PORT": str(port)})
    assert_clear_error(result, f"port {port} is taken")


def test_second_run_while_one_is_up():
    port = "18997"
    pidfile = REPO / ".local" / f"odoo-{port}.pid"
    pidfile.parent.mkdir(exist_ok=True)
    pidfile.write_text(str(os.getpid()))  # a live process standing for the running Odoo
    try:
        result = run("run", {"ECRM_HTTP_PORT": port})
    finally:
        pidfile.unlink()
    assert_clear_error(result, "already running")


def test_unknown_option():
    assert_clear_error(run("run", {}, ["--bogus"]), "unknown option")


def test_reset_while_odoo_is_up_drops_nothing():
    """--reset stops at the running server, before any database is touched."""
    port = "18996"
    pidfile = REPO / ".local" / f"odoo-{port}.pid"
    pidfile.parent.mkdir(exist_ok=True)
    pidfile.write_text(str(os.getpid()))  # a live process standing for the running Odoo
    try:
        result = run("run", {"ECRM_HTTP_PORT": port, "ECRM_DB": "ecrm_never_created"}, ["--reset"])
    finally:
        pidfile.unlink()
    assert_clear_error(result, "already running")
    assert "dropping" not in result.stdout


def test_help_tells_reset():
    result = run("run", {}, ["--help"])
    assert result.returncode == 0
    assert "--reset" in result.stdout and "from scratch" in result.stdout
