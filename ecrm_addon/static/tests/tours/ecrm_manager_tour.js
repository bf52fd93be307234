import { registry } from "@web/core/registry";
import { stepUtils } from "@web_tour/tour_service/tour_utils";

// A manager creates a pressure rule from e-CRM > Configuration.
registry.category("web_tour.tours").add("ecrm_manager_pressure_rule_tour", {
    url: "/odoo",
    steps: () => [
        stepUtils.showAppsMenuItem(),
        {
            content: "Open the e-CRM app",
            trigger: '.o_app[data-menu-xmlid="ecrm_addon.ecrm_menu_root"]',
            run: "click",
        },
        {
            content: "Open the Configuration menu",
            trigger: '.o_main_navbar [data-menu-xmlid="ecrm_addon.ecrm_menu_config"]',
            run: "click",
        },
        {
            content: "Open the pressure rules",
            trigger: '[data-menu-xmlid="ecrm_addon.ecrm_pressure_rule_menu"]',
            run: "click",
        },
        {
            content: "Create a rule",
            trigger: ".o_list_button_add",
            run: "click",
        },
        {
            trigger: '.o_form_view .o_field_widget[name="name"] input',
            run: "edit Tour marketing emails",
        },
        {
            trigger: '.o_form_view .o_field_widget[name="max_count"] input',
            run: "edit 1",
        },
        {
            trigger: '.o_form_view .o_field_widget[name="period_days"] input',
            run: "edit 30",
        },
        {
            content: "Save the rule",
            trigger: ".o_form_view .o_form_button_save",
            run: "click",
        },
        {
            content: "The rule is saved",
            trigger: ".o_form_view .o_form_saved",
        },
    ],
});

// The manager checks what the rules would do to a mailing.
registry.category("web_tour.tours").add("ecrm_manager_pressure_check_tour", {
    steps: () => [
        {
            content: "Wait for the mailing editor",
            trigger: '[name="body_arch"] :iframe .o_tour_mailing_body',
        },
        {
            content: "Check the contact pressure of the mailing",
            trigger: '.o_form_view button[name="action_ecrm_pressure_simulate"]',
            run: "click",
        },
        {
            content: "Every recipient is checked",
            trigger: '.modal .o_field_widget[name="checked_count"]:contains("3")',
        },
        {
            content: "The two customers mailed today would be excluded",
            trigger: '.modal .o_field_widget[name="excluded_count"]:contains("2")',
        },
        {
            content: "The exclusions name the new rule",
            trigger: '.modal .o_field_widget[name="line_ids"] .o_data_row:contains("Tour marketing emails")',
        },
        {
            trigger: ".modal .modal-footer button.btn-primary",
            run: "click",
        },
    ],
});
