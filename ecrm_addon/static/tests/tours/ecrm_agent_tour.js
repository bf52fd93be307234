import { registry } from "@web/core/registry";
import { stepUtils } from "@web_tour/tour_service/tour_utils";

// An agent opens the e-CRM app, finds a customer and reads the profile.
registry.category("web_tour.tours").add("ecrm_agent_customer_tour", {
    url: "/odoo",
    steps: () => [
        stepUtils.showAppsMenuItem(),
        {
            content: "Open the e-CRM app",
            trigger: '.o_app[data-menu-xmlid="ecrm_addon.ecrm_menu_root"]',
            run: "click",
        },
        {
            content: "Search the customer",
            trigger: ".o_searchview_input",
            run: "edit Tour Customer",
        },
        {
            trigger: ".o_searchview_input",
            run: "press Enter",
        },
        {
            content: "Open the customer",
            trigger: '.o_kanban_record:contains("Tour Customer")',
            run: "click",
        },
        {
            content: "The profile is shown",
            trigger: '.o_form_view .o_field_widget[name="name"] input:value("Tour Customer")',
        },
    ],
});
