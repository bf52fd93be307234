import { registry } from "@web/core/registry";
import { stepUtils } from "@web_tour/tour_service/tour_utils";

// An agent opens the e-CRM app (overview), finds a customer, reads the profile and its
// e-CRM page, then opens a case from one of the customer's orders.
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
            content: "The app opens on the overview: cases figures are shown",
            trigger: ".o_ecrm_dashboard .o_ecrm_tile_cases .fs-3",
        },
        {
            content: "Open the customers from the RFM tile",
            trigger: '.o_ecrm_dashboard .o_ecrm_tile_rfm a[name="action_open_customers"]',
            run: "click",
        },
        {
            // the overview has a search field too: search once the customers are shown
            content: "The customers are listed",
            trigger: '.o_breadcrumb .active:contains("Customers")',
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
        {
            content: "Open the e-CRM page",
            trigger: '.o_notebook .nav-link:contains("e-CRM")',
            run: "click",
        },
        {
            content: "The 360 shows the confirmed order as open",
            trigger: '.o_notebook .o_field_widget[name="ecrm_open_order_count"]:contains("1")',
        },
        {
            content: "The 360 shows the lifetime sales",
            trigger: '.o_notebook .o_field_widget[name="ecrm_lifetime_sales"]:contains("240.00")',
        },
        {
            content: "The RFM group is shown",
            trigger: '.o_notebook .o_field_widget[name="ecrm_segment_id"]:contains("Champions")',
        },
        {
            content: "The contact pressure group is shown",
            trigger: '.o_notebook .o_field_widget[name="ecrm_pressure"]',
        },
        {
            content: "Open the customer's orders",
            trigger: '.o_form_view button[name="action_ecrm_orders"]',
            run: "click",
        },
        {
            content: "The customer's orders are listed",
            trigger: '.o_breadcrumb .active:contains("Sales Orders")',
        },
        {
            content: "Open the order",
            trigger: '.o_list_view .o_data_row td.o_data_cell:contains("TOUR/SO/001")',
            run: "click",
        },
        {
            content: "The order is shown",
            trigger: '.o_breadcrumb .active:contains("TOUR/SO/001")',
        },
        {
            content: "Open a case on the order",
            trigger: '.o_form_view button[name="action_ecrm_open_case"]',
            run: "click",
        },
        {
            content: "Describe the case",
            trigger: '.o_form_view .o_field_widget[name="subject"] input',
            run: "edit Parcel arrived damaged",
        },
        {
            content: "Open the documents of the case",
            trigger: '.o_notebook .nav-link:contains("Documents")',
            run: "click",
        },
        {
            content: "The case is linked to the order",
            trigger: '.o_form_view .o_field_widget[name="sale_order_id"] input:value("TOUR/SO/001")',
        },
        {
            content: "Save the case",
            trigger: ".o_form_view .o_form_button_save",
            run: "click",
        },
        {
            content: "The case is saved",
            trigger: ".o_form_view .o_form_saved",
        },
    ],
});
