# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Odoo's own tests of the mass-mailing send flow, run again with ecrm_addon
installed: the pressure override must keep the parent's behaviour when no rule
blocks (rules are active, with limits nobody reaches). Subclassed, not imported by name, so
that they run once, after installation, as tests of this addon."""

from odoo.addons.mass_mailing.tests import test_mailing_ab_testing as mass_mailing_ab_testing
from odoo.addons.mass_mailing.tests import test_mailing_internals as mass_mailing_internals
from odoo.addons.mass_mailing.tests import test_mailing_retry as mass_mailing_retry
from odoo.addons.mass_mailing_sms.tests import test_mailing_internals as mass_mailing_sms_internals
from odoo.tests import tagged


class WithLooseRules:
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["ecrm.pressure.rule"].create(
            [
                {"name": "Loose email", "channel": "email", "max_count": 1000, "company_id": False},
                {"name": "Loose SMS", "channel": "sms", "max_count": 1000, "company_id": False},
            ]
        )


@tagged("post_install", "-at_install", "ecrm_odoo_mass_mailing")
class TestOdooMassMailValues(WithLooseRules, mass_mailing_internals.TestMassMailValues):
    allow_inherited_tests_method = True


@tagged("post_install", "-at_install", "ecrm_odoo_mass_mailing")
class TestOdooMassMailFeatures(WithLooseRules, mass_mailing_internals.TestMassMailFeatures):
    allow_inherited_tests_method = True


@tagged("post_install", "-at_install", "ecrm_odoo_mass_mailing")
class TestOdooMailingRetry(WithLooseRules, mass_mailing_retry.TestMailingRetry):
    allow_inherited_tests_method = True


@tagged("post_install", "-at_install", "ecrm_odoo_mass_mailing")
class TestOdooMassSmsValues(WithLooseRules, mass_mailing_sms_internals.TestMassMailValues):
    allow_inherited_tests_method = True


@tagged("post_install", "-at_install", "ecrm_odoo_mass_mailing")
class TestOdooMailingABTesting(WithLooseRules, mass_mailing_ab_testing.TestMailingABTesting):
    allow_inherited_tests_method = True
