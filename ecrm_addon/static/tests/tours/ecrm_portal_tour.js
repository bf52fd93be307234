import { registry } from "@web/core/registry";

// A portal customer opens a case from /my/cases and finds it listed.
registry.category("web_tour.tours").add("ecrm_portal_new_case_tour", {
    url: "/my/cases",
    steps: () => [
        {
            content: "Start a new case",
            trigger: 'a[href="/my/cases/new"]',
            run: "click",
        },
        {
            trigger: "form[action='/my/cases/new'] input[name='subject']",
            run: "edit Wrong size delivered",
        },
        {
            trigger: "form[action='/my/cases/new'] textarea[name='description']",
            run: "edit I ordered a medium and got a small.",
        },
        {
            content: "Send the case",
            trigger: "form[action='/my/cases/new'] button[type='submit']",
            run: "click",
        },
        {
            content: "The case page is shown",
            trigger: ".card-header:contains('Wrong size delivered')",
        },
        {
            content: "Back to the cases",
            trigger: ".o_portal_submenu a[href='/my/cases']",
            run: "click",
        },
        {
            content: "The case is listed",
            trigger: ".o_portal_my_doc_table td:contains('Wrong size delivered')",
        },
    ],
});

// The customer reads the agent's reply on the case page.
registry.category("web_tour.tours").add("ecrm_portal_case_reply_tour", {
    steps: () => [
        {
            content: "The agent's reply is visible",
            trigger: "#chatterRoot:shadow .o-mail-Message:contains('A new parcel leaves today.')",
        },
    ],
});
