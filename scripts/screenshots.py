# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Screenshots of the main e-CRM screens for the README, in headless Chromium.

Run against the server scripts/run starts:
    .venv/bin/python scripts/screenshots.py [--url http://localhost:8069] [--db ecrm_demo]
    .venv/bin/python scripts/screenshots.py --login manager --password manager --only overview,customer_360 --prefix es_
Writes docs/screenshots/*.png. Uses the DevTools protocol (websocket-client).
"""

import argparse
import base64
import json
import shutil
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

import requests
import websocket

OUT = Path(__file__).resolve().parents[1] / "docs" / "screenshots"


def page_url(base, path):
    return base.rstrip("/") + path


class Browser:
    def __init__(self, port=9333):
        self.profile = tempfile.mkdtemp(prefix="ecrm_shots_")
        self.proc = subprocess.Popen(
            [
                shutil.which("chromium") or "/usr/bin/chromium",
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--hide-scrollbars",
                "--window-size=1440,900",
                f"--remote-debugging-port={port}",
                f"--user-data-dir={self.profile}",
                "about:blank",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(50):
            try:
                tabs = json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/json", timeout=1))
                break
            except OSError:
                time.sleep(0.2)
        page = next(t for t in tabs if t["type"] == "page")
        self.ws = websocket.create_connection(page["webSocketDebuggerUrl"], timeout=60)
        self.seq = 0

    def call(self, method, **params):
        self.seq += 1
        self.ws.send(json.dumps({"id": self.seq, "method": method, "params": params}))
        while True:
            msg = json.loads(self.ws.recv())
            if msg.get("id") == self.seq:
                return msg.get("result", {})

    def shot(self, url, path, wait=4.0):
        self.call("Page.navigate", url=url)
        time.sleep(wait)
        # Close transient notifications ("page out of date" and the like).
        self.call(
            "Runtime.evaluate",
            expression="document.querySelectorAll('.o_notification_close, .o_notification .btn-close')"
            ".forEach(b => b.click())",
        )
        time.sleep(0.5)
        data = self.call("Page.captureScreenshot", format="png")["data"]
        path.write_bytes(base64.b64decode(data))

    def close(self):
        self.ws.close()
        self.proc.terminate()
        shutil.rmtree(self.profile, ignore_errors=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", default="http://localhost:8069")
    parser.add_argument("--db", default="ecrm_demo")
    parser.add_argument("--login", default="admin")
    parser.add_argument("--password", default="admin")
    parser.add_argument("--only", help="comma-separated screens to take (default: all)")
    parser.add_argument("--prefix", default="", help="prefix of the file names, e.g. es_ for a Spanish user's shots")
    args = parser.parse_args()
    session = requests.Session()
    auth = session.post(
        page_url(args.url, "/web/session/authenticate"),
        json={"jsonrpc": "2.0", "params": {"db": args.db, "login": args.login, "password": args.password}},
        timeout=30,
    ).json()
    if not auth.get("result"):
        raise SystemExit(f"login failed: {auth.get('error')}")

    def call(model, method, *call_args, **kwargs):
        reply = session.post(
            page_url(args.url, "/web/dataset/call_kw"),
            json={
                "jsonrpc": "2.0",
                "params": {"model": model, "method": method, "args": list(call_args), "kwargs": kwargs},
            },
            timeout=30,
        ).json()
        return reply.get("result")

    def first_id(model, domain, order=None):
        return (call(model, "search", domain, limit=1, order=order) or [0])[0]

    customer = first_id("res.partner", [("name", "=", "Ana García López")])
    # a case (open ones first) of a category with canned answers: its form suggests the most used ones
    answered = {
        category
        for answer in call("ecrm.case.answer", "search_read", [("category_ids", "!=", False)], ["category_ids"]) or []
        for category in answer["category_ids"]
    }
    answer_case = first_id("ecrm.case", [("category_id", "in", sorted(answered))], order="is_closed, date_open desc")
    screens = {
        "overview": "/odoo/action-ecrm_addon.ecrm_dashboard_action",
        "customers": "/odoo/action-ecrm_addon.res_partner_action_customers",
        "customer_360": f"/odoo/action-ecrm_addon.res_partner_action_customers/{customer}",
        "cases": "/odoo/action-ecrm_addon.ecrm_case_action",
        "case_answers": f"/odoo/action-ecrm_addon.ecrm_case_action/{answer_case}",
        "rfm_analysis": "/odoo/action-ecrm_addon.ecrm_rfm_score_action",
        "rfm_segments": "/odoo/action-ecrm_addon.ecrm_rfm_segment_action",
        # expected value (12 months) per RFM segment, stacked by churn risk
        "customer_value": "/odoo/action-ecrm_addon.ecrm_clv_score_action?view_type=graph",
        "pressure_rules": "/odoo/action-ecrm_addon.ecrm_pressure_rule_action",
        "duplicates": "/odoo/action-ecrm_addon.ecrm_duplicate_group_action",
        "csat_analysis": "/odoo/action-ecrm_addon.ecrm_case_report_action_csat",
    }
    if args.only:
        screens = {name: path for name, path in screens.items() if name in args.only.split(",")}
    # the onboarding tour would cover the screens of a user who has it on
    call("res.users", "switch_tour_enabled", [], False)
    OUT.mkdir(parents=True, exist_ok=True)
    browser = Browser()
    try:
        browser.call("Network.enable")
        host = args.url.split("//", 1)[1].split(":")[0].split("/")[0]
        browser.call("Network.setCookie", name="session_id", value=session.cookies["session_id"], domain=host, path="/")
        for name, path in screens.items():
            browser.shot(page_url(args.url, path), OUT / f"{args.prefix}{name}.png")
            print(f"docs/screenshots/{args.prefix}{name}.png")
    finally:
        browser.close()


if __name__ == "__main__":
    main()
