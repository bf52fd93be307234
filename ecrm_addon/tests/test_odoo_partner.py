# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Odoo's own tests of the partner flows the identity feature overrides, run
again with ecrm_addon installed: ``find_or_create`` and ``name_create`` (and
``_parse_partner_name`` under them), the merge wizard, and the partner lookup
of the mail gateway (``_mail_find_partner_from_emails`` /
``_mail_search_on_partner``). Subclassed, not imported by name, so that they run
once, after installation, as tests of this addon.

The mail gateway's own end-to-end tests live in the test-only module
``test_mail``, which ecrm_addon cannot depend on: test_identity.py covers the
same behaviours (unknown sender, known sender in another case, followers first)."""

from odoo.addons.base.tests import test_res_partner as base_res_partner
from odoo.addons.base.tests import test_res_partner_merge as base_res_partner_merge
from odoo.addons.mail.tests import test_mail_tools as mail_mail_tools
from odoo.addons.mail.tests import test_res_partner as mail_res_partner
from odoo.tests import tagged


@tagged("post_install", "-at_install", "ecrm_odoo_partner")
class TestOdooPartner(base_res_partner.TestPartner):
    allow_inherited_tests_method = True


@tagged("post_install", "-at_install", "ecrm_odoo_partner")
class TestOdooMergePartner(base_res_partner_merge.TestMergePartner):
    allow_inherited_tests_method = True


@tagged("post_install", "-at_install", "ecrm_odoo_partner")
class TestOdooMailPartner(mail_res_partner.TestPartner):
    allow_inherited_tests_method = True


@tagged("post_install", "-at_install", "ecrm_odoo_partner")
class TestOdooMailTools(mail_mail_tools.TestMailTools):
    allow_inherited_tests_method = True
