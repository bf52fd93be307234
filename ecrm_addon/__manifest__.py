# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
{
    "name": "e-CRM for online shops",
    "summary": "Unified customer profile, multichannel cases with escalation, "
    "RFM segments and contact-pressure limits on the shop's own data",
    "version": "18.0.1.2.0",
    "category": "Sales/CRM",
    "website": "https://github.com/ecrm-addon/ecrm_addon",
    "author": "ecrm_addon contributors",
    "license": "LGPL-3",
    "development_status": "Beta",
    "maintainers": ["ecrm-addon"],
    "application": True,
    "installable": True,
    "uninstall_hook": "uninstall_hook",
    "depends": [
        "sale_management",
        "sale_stock",
        "account",
        "mass_mailing",
        "mass_mailing_sms",
        # revenue of a mailing: the orders carrying its UTM source
        "mass_mailing_sale",
        "portal",
        "phone_validation",
        # working hours and time off of the team members that cases are routed to
        "resource",
        # identity: contact imports land on existing customers (auto-installed with web)
        "base_import",
        # satisfaction: rating requests on closed cases and Odoo's public rating page
        "rating",
        # onboarding tour offered once to a new user
        "web_tour",
    ],
    "external_dependencies": {"python": ["phonenumbers", "numpy", "scipy"]},
    "data": [
        "security/ecrm_groups.xml",
        "security/ir.model.access.csv",
        "security/ecrm_interaction_security.xml",
        "security/ecrm_rfm_security.xml",
        "data/ecrm_rfm_segment_data.xml",
        # identity, duplicates and customer 360
        "security/ecrm_duplicate_group_security.xml",
        "data/ecrm_duplicate_cron.xml",
        "views/ecrm_duplicate_group_views.xml",
        "data/ecrm_consent_mail_template_data.xml",
        "views/portal_consent_templates.xml",
        "views/portal_preferences_templates.xml",
        # RFM engine
        "data/ecrm_rfm_cron.xml",
        "views/ecrm_rfm_score_views.xml",
        "views/ecrm_rfm_snapshot_views.xml",
        # cases and escalation
        "security/ecrm_case_security.xml",
        "security/ecrm_routing_security.xml",
        "data/ecrm_case_data.xml",
        "data/ecrm_sla_policy_data.xml",
        "views/ecrm_case_views.xml",
        "views/ecrm_case_config_views.xml",
        "views/ecrm_case_document_views.xml",
        "data/ecrm_webhook_cron.xml",
        "views/ecrm_webhook_delivery_views.xml",
        "views/ecrm_case_portal_templates.xml",
        "report/ecrm_case_report_views.xml",
        # contact pressure
        "security/ecrm_pressure_security.xml",
        "data/ecrm_pressure_rule_data.xml",
        "data/ecrm_pressure_weight_data.xml",
        "views/ecrm_pressure_rule_views.xml",
        "views/ecrm_pressure_report_views.xml",
        "views/mailing_mailing_views.xml",
        "data/ecrm_pressure_cron.xml",
        "views/ecrm_interaction_views.xml",
        "views/ecrm_rfm_segment_views.xml",
        "views/ecrm_segment_action_views.xml",
        "data/ecrm_segment_action_data.xml",
        "views/res_partner_views.xml",
        "views/res_config_settings_views.xml",
        # overview (landing dashboard) and background jobs
        "security/ecrm_dashboard_security.xml",
        "data/ecrm_dashboard_data.xml",
        "data/ecrm_case_mail_template_data.xml",
        "data/ecrm_case_customer_mail_data.xml",
        "views/ecrm_case_satisfaction_views.xml",
        "views/ecrm_dashboard_views.xml",
        "views/ecrm_menus.xml",
        # serving the customer: canned answers, cases on the customer 360
        "data/ecrm_case_answer_data.xml",
        "views/ecrm_case_answer_views.xml",
        "views/res_partner_cases_views.xml",
        "views/ecrm_routing_views.xml",
        # customer value and products to offer
        "security/ecrm_clv_security.xml",
        "data/ecrm_product_rule_cron.xml",
        "views/ecrm_clv_views.xml",
        # onboarding
        "data/ecrm_tour_data.xml",
        # responses into the profile
        "security/ecrm_response_security.xml",
        "data/ecrm_response_cron.xml",
        "views/ecrm_response_views.xml",
    ],
    "assets": {
        "web.assets_backend": [
            "ecrm_addon/static/src/js/tours/ecrm_onboarding_tour.js",
        ],
        "web.assets_tests": [
            "ecrm_addon/static/tests/tours/*.js",
        ],
    },
    "demo": [
        "demo/ecrm_demo.xml",
    ],
}
