from . import test_case_command
