import { registry } from "@web/core/registry";
import { stepUtils } from "@web_tour/tour_service/tour_utils";

// The service loop, one tour per person: the customer opens a case on the portal,
// the agent answers it with a canned answer and solves it, the customer rates it
// from the emailed link, the manager reads the CSAT on the overview.
registry.category("web_tour.tours").add("ecrm_loop_portal_case_tour", {
    url: "/my/cases",
    steps: () => [
        {
            content: "Start a new case",
            trigger: 'a[href="/my/cases/new"]',
            run: "click",
        },
        {
            trigger: "form[action='/my/cases/new'] input[name='subject']",
            run: "edit Parcel never arrived",
        },
        {
            trigger: "form[action='/my/cases/new'] textarea[name='description']",
            run: "edit The tracking says delivered but nothing came.",
        },
        {
            content: "Send the case",
            trigger: "form[action='/my/cases/new'] button[type='submit']",
            run: "click",
        },
        {
            content: "The case page is shown",
            trigger: ".card-header:contains('Parcel never arrived')",
        },
    ],
});

registry.category("web_tour.tours").add("ecrm_loop_agent_answer_tour", {
    steps: () => [
        {
            content: "The case is shown",
            trigger: '.o_form_view .o_field_widget[name="subject"] input:value("Parcel never arrived")',
        },
        {
            content: "Insert the suggested answer",
            trigger: '.o_field_widget[name="suggested_answer_ids"] .o_data_row:contains("Tour parcel lost") button[name="action_ecrm_insert"]',
            run: "click",
        },
        {
            content: "The composer opens filled with the answer for this customer",
            trigger: '.modal .o_field_widget[name="body"]:contains("we send a new parcel today")',
        },
        {
            content: "Send the answer",
            trigger: ".modal button.o_mail_send:contains('Send')",
            run: "click",
        },
        {
            content: "The answer is in the chatter",
            trigger: '.o-mail-Chatter .o-mail-Message:contains("we send a new parcel today")',
        },
        {
            content: "Show the folded stages",
            trigger: ".o_statusbar_status button.dropdown-toggle:contains('...')",
            run: "click",
        },
        {
            content: "Solve the case",
            trigger: ".o-dropdown--menu .dropdown-item:contains('Solved')",
            run: "click",
        },
        {
            content: "The case is solved and saved (the statusbar saves it)",
            trigger: ".o_form_view .o_form_saved .o_statusbar_status button.o_arrow_button_current:contains('Solved')",
        },
    ],
});

registry.category("web_tour.tours").add("ecrm_loop_customer_rating_tour", {
    steps: () => [
        {
            content: "Satisfied is chosen from the email",
            trigger: ".o_rating_page_submit label.active[for='rate_5']",
        },
        {
            trigger: ".o_rating_page_submit textarea[name='feedback']",
            run: "edit Quick and kind, thank you.",
        },
        {
            content: "Send the feedback",
            trigger: ".o_rating_page_submit button[type='submit']",
            run: "click",
        },
        {
            content: "The thank-you page is shown",
            trigger: ".o_rating_page_thank_you",
        },
    ],
});

registry.category("web_tour.tours").add("ecrm_loop_manager_csat_tour", {
    url: "/odoo",
    steps: () => [
        stepUtils.showAppsMenuItem(),
        {
            content: "Open the e-CRM app",
            trigger: '.o_app[data-menu-xmlid="ecrm_addon.ecrm_menu_root"]',
            run: "click",
        },
        {
            content: "The overview shows the CSAT of the rated case",
            trigger: '.o_ecrm_dashboard .o_ecrm_tile_cases a:contains("CSAT") .fs-3:contains("100%")',
        },
    ],
});
