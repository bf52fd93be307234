# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import threading

from ecrm_addon.tools.cron import auto_commit


def test_commits_outside_tests():
    assert auto_commit()


def test_never_commits_in_a_thread_running_tests():
    thread = threading.current_thread()
    thread.testing = True
    try:
        assert not auto_commit()
    finally:
        del thread.testing
