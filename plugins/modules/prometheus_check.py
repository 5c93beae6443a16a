#!/usr/bin/python
# Copyright: eightfold.devops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# ruff: noqa: E402 - Ansible modules import after DOCUMENTATION, EXAMPLES and RETURN

from __future__ import annotations

DOCUMENTATION = r"""
---
module: prometheus_check
short_description: Ask Prometheus for the health of its targets and the alerts that fire, and wait for them
version_added: 0.1.0
description:
  - Reads the active targets (C(/api/v1/targets)) and alerts (C(/api/v1/alerts)) of a Prometheus server
    through its HTTP API and reports which targets are up, which are not (with Prometheus' last scrape
    error), which expected ones Prometheus does not know, and which alerts fire or are pending.
  - With O(wait_timeout), asks again every O(interval) seconds until every expected target is up, every
    alert of O(expect_alerts) fires and no alert of a severity in O(fail_severities) fires, and fails after
    the timeout naming the targets that are not up with their last error, and the alerts.
  - Optionally runs instant queries (O(queries)) and returns their values per instance, for health reports.
  - Only reads; it runs the same in check mode. Uses the Python standard library only.
author: eightfold.devops maintainers (@eightfold)
options:
  url:
    description: Base URL of the Prometheus server (its API is under C(/api/v1)).
    type: str
    default: http://127.0.0.1:9090
  url_username:
    description: User for HTTP basic auth in front of the API, if any.
    type: str
  url_password:
    description: Password for O(url_username).
    type: str
  validate_certs:
    description: Verify the server's certificate for an C(https) URL.
    type: bool
    default: true
  ca_path:
    description: A PEM file of CA certificates to verify the server with, instead of the system's.
    type: path
  timeout:
    description: Seconds one API request may take.
    type: int
    default: 10
  targets:
    description:
      - The targets that must be up, as C(instance) (the C(instance) label) or C(job/instance).
      - Empty - every active target Prometheus knows (of O(jobs)) must be up.
    type: list
    elements: str
    default: []
  jobs:
    description: Only consider the targets of these jobs. Empty - all jobs.
    type: list
    elements: str
    default: []
  expect_alerts:
    description:
      - Alerts that must be firing, each a mapping of labels the alert must have (C(alertname) and any other
        label, for example C(instance)), or just an alert name.
    type: list
    elements: raw
    default: []
  fail_severities:
    description:
      - Severities (the alert's C(severity) label) that must not fire, for example V([critical]). With
        O(wait_timeout) the module waits for such alerts to clear (a problem that was just fixed keeps its
        alert until Prometheus' next scrape and rule evaluation); those still firing at the end make the
        result unhealthy (RV(failing_alerts)). An alert that O(expect_alerts) asks for is not counted.
    type: list
    elements: str
    default: []
  require_up:
    description:
      - Fail when an expected target is not up or missing (after O(wait_timeout)). With V(false) the module
        only reports them (for example to check that a stopped exporter is reported down).
    type: bool
    default: true
  report_only:
    description:
      - Wait like O(require_up=true) does, but report what is unhealthy (RV(healthy), RV(down), RV(missing),
        RV(awaited_alerts), RV(failing_alerts)) instead of failing. Errors reaching the API still fail.
    type: bool
    default: false
  wait_timeout:
    description:
      - Seconds to wait for every expected target to be up, every expected alert to fire and the alerts of
        O(fail_severities) to clear; 0 - ask once.
    type: int
    default: 0
  interval:
    description: Seconds between two looks while waiting.
    type: int
    default: 2
  queries:
    description:
      - Instant queries to run after the checks, by name (PromQL). Their values are returned per instance in
        RV(figures); a query that fails is reported in RV(query_errors) and does not fail the module.
    type: dict
    default: {}
attributes:
  check_mode:
    support: full
    description: The module only reads; it runs the same in check mode.
  diff_mode:
    support: none
    description: Nothing changes.
notes:
  - Run it on the Prometheus host (the default URL is the local server) or anywhere that reaches the API.
seealso:
  - name: Prometheus HTTP API
    description: The endpoints this module reads.
    link: https://prometheus.io/docs/prometheus/latest/querying/api/
"""

EXAMPLES = r"""
- name: Wait until every target is up (at most a minute)
  eightfold.devops.prometheus_check:
    wait_timeout: 60
  register: health

- name: Wait until every target is up and no critical alert fires, after a deploy
  eightfold.devops.prometheus_check:
    fail_severities: [critical]
    wait_timeout: 60

- name: Check that a stopped exporter is reported down and its alert fires
  eightfold.devops.prometheus_check:
    targets: [node/agent12]
    expect_alerts:
      - {alertname: InstanceDown, instance: agent12}
    require_up: false
    wait_timeout: 90

- name: Key figures per host for a report
  eightfold.devops.prometheus_check:
    url: https://prometheus.example.org
    ca_path: /etc/ssl/certs/internal-ca.pem
    queries:
      memory_available_percent: 100 * node_memory_MemAvailable_bytes / node_memory_MemTotal_bytes
      load1: node_load1
"""

RETURN = r"""
targets:
  description: Every active target (of O(jobs)) - job, instance, health (up, down, unknown), last_error,
    last_scrape, last_scrape_duration, scrape_url, labels.
  returned: always
  type: list
  elements: dict
  sample: [{job: node, instance: web1, health: up, last_error: "", scrape_url: "https://web1:9100/metrics"}]
up:
  description: The targets that are up, as job/instance.
  returned: always
  type: list
  elements: str
  sample: [node/web1, prometheus/mon1]
down:
  description: The expected targets that are not up, with their health and Prometheus' last scrape error.
  returned: always
  type: list
  elements: dict
  sample: [{job: node, instance: web2, health: down, last_error: "connection refused", scrape_url: "..."}]
missing:
  description: Expected targets (O(targets)) that Prometheus does not have.
  returned: always
  type: list
  elements: str
alerts:
  description: The alerts that fire - alertname, state, labels, annotations, active_at, value.
  returned: always
  type: list
  elements: dict
pending_alerts:
  description: The alerts whose condition holds but whose C(for) has not passed yet.
  returned: always
  type: list
  elements: dict
awaited_alerts:
  description: The entries of O(expect_alerts) that no firing alert matches.
  returned: always
  type: list
  elements: dict
failing_alerts:
  description: The firing alerts with a severity of O(fail_severities) (not asked for by O(expect_alerts)).
  returned: always
  type: list
  elements: dict
figures:
  description: Values of O(queries) by instance, then by query name (series without an instance under C(_)).
  returned: always
  type: dict
  sample: {web1: {load1: 0.12, memory_available_percent: 71.3}}
query_errors:
  description: Queries of O(queries) that failed, with the error.
  returned: always
  type: dict
summary:
  description: Counts - targets, up, down, missing, firing, pending.
  returned: always
  type: dict
  sample: {targets: 4, up: 4, down: 0, missing: 0, firing: 0, pending: 0}
healthy:
  description: Every expected target is up, every expected alert fires and no alert of O(fail_severities)
    fires.
  returned: always
  type: bool
waited:
  description: Seconds spent waiting.
  returned: always
  type: float
"""

import time

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.eightfold.devops.plugins.module_utils._prometheus import (
    ApiError,
    Client,
    describe_problems,
    evaluate,
    read_alerts,
    read_figures,
    read_targets,
)


def normalise_alerts(module, entries):
    wanted = []
    for index, entry in enumerate(entries):
        if isinstance(entry, str) and entry:
            wanted.append({"alertname": entry})
        elif isinstance(entry, dict) and entry and all(isinstance(k, str) for k in entry):
            wanted.append({k: str(v) for k, v in entry.items()})
        else:
            module.fail_json(
                msg=f"expect_alerts[{index}]: {entry!r} is neither an alert name nor a mapping of labels",
            )
    return wanted


def main():
    module = AnsibleModule(
        argument_spec=dict(
            url=dict(type="str", default="http://127.0.0.1:9090"),
            url_username=dict(type="str"),
            url_password=dict(type="str", no_log=True),
            validate_certs=dict(type="bool", default=True),
            ca_path=dict(type="path"),
            timeout=dict(type="int", default=10),
            targets=dict(type="list", elements="str", default=[]),
            jobs=dict(type="list", elements="str", default=[]),
            expect_alerts=dict(type="list", elements="raw", default=[]),
            fail_severities=dict(type="list", elements="str", default=[]),
            require_up=dict(type="bool", default=True),
            report_only=dict(type="bool", default=False),
            wait_timeout=dict(type="int", default=0),
            interval=dict(type="int", default=2),
            queries=dict(type="dict", default={}),
        ),
        supports_check_mode=True,
    )
    p = module.params
    if not p["url"].startswith(("http://", "https://")):
        module.fail_json(msg=f"url must start with http:// or https://, got {p['url']!r}")
    for name in ("timeout", "wait_timeout", "interval"):
        if p[name] < 0 or (name != "wait_timeout" and p[name] == 0):
            module.fail_json(msg=f"{name} must be a positive number of seconds, got {p[name]}")
    bad = [t for t in p["targets"] if not t or t.count("/") > 1]
    if bad:
        module.fail_json(msg=f"targets: {bad[0]!r} is neither 'instance' nor 'job/instance'")
    bad = [name for name, expr in p["queries"].items() if not isinstance(expr, str) or not expr.strip()]
    if bad:
        module.fail_json(msg=f"queries: {bad[0]} must be a PromQL expression (a non-empty string)")
    expect_alerts = normalise_alerts(module, p["expect_alerts"])

    client = Client(
        p["url"],
        username=p["url_username"],
        password=p["url_password"],
        ca_path=p["ca_path"],
        validate_certs=p["validate_certs"],
        timeout=p["timeout"],
    )
    start = time.monotonic()
    deadline = start + p["wait_timeout"]
    while True:
        try:
            targets = read_targets(client, p["jobs"])
            alerts = read_alerts(client)
        except ApiError as exc:
            if time.monotonic() >= deadline:
                module.fail_json(msg=str(exc), waited=round(time.monotonic() - start, 1))
            time.sleep(min(p["interval"], max(deadline - time.monotonic(), 0)))
            continue
        state = evaluate(targets, alerts, p["targets"], expect_alerts, p["fail_severities"])
        targets_ok = not p["require_up"] or not (state["down"] or state["missing"])
        # Without explicit targets there must be some: an empty server is not a healthy one.
        if p["require_up"] and not p["targets"] and not targets:
            targets_ok = False
            state["missing"] = ["(any target)"]
        healthy = targets_ok and not state["awaited_alerts"] and not state["failing_alerts"]
        if healthy or time.monotonic() >= deadline:
            break
        time.sleep(min(p["interval"], max(deadline - time.monotonic(), 0)))
    waited = round(time.monotonic() - start, 1)

    figures, query_errors = read_figures(client, p["queries"]) if p["queries"] else ({}, {})
    result = dict(
        changed=False,
        targets=targets,
        figures=figures,
        query_errors=query_errors,
        healthy=healthy and not (state["down"] or state["missing"]),
        waited=waited,
        **state,
    )
    if not healthy and not p["report_only"]:
        module.fail_json(msg=describe_problems(state, waited if p["wait_timeout"] else 0), **result)
    summary = state["summary"]
    result["msg"] = (
        f"{summary['up']} of {summary['targets']} target(s) up, {summary['firing']} alert(s) firing"
        + (f", {summary['down']} down" if summary["down"] else "")
        + (f"; {describe_problems(state, waited if p['wait_timeout'] else 0)}" if not healthy else "")
    )
    module.exit_json(**result)


if __name__ == "__main__":
    main()
