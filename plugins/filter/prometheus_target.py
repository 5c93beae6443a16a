# Copyright: eightfold.devops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The prometheus_target filter: the settings of a target registration (prometheus' register_target)
checked, and what the registration needs - the address as Prometheus writes it and the monitoring hosts to
write to, or a note when there are none (docs in prometheus_target.yml)."""

from __future__ import annotations

from collections.abc import Mapping

from ansible.errors import AnsibleFilterError
from ansible_collections.eightfold.devops.plugins.filter.monitoring_problems import monitoring_problems


def prometheus_target(settings, hosts, host=None):
    """{host, servers, note}: host is the address to scrape ([] around an IPv6 address), servers the
    monitoring hosts to write the target to, note a line saying why there are none. Bad settings raise,
    naming them."""
    if not isinstance(settings, Mapping):
        raise AnsibleFilterError("prometheus_target expects a mapping of the register_target variables")
    problems = monitoring_problems(settings, "prometheus_target", hosts=list(hosts or []))
    if problems:
        raise AnsibleFilterError("; ".join(problems))
    address = str(settings["prometheus_target_address"])
    servers = list(settings["prometheus_servers"])
    note = ""
    if not servers:
        job = settings["prometheus_target_job"]
        note = (
            f"{host + ': ' if host else ''}no monitoring host to register the target of job {job} with: "
            "prometheus_servers is empty (by default the hosts of the inventory group monitoring), so "
            "nothing was registered"
        )
    return {
        "host": f"[{address}]" if ":" in address and not address.startswith("[") else address,
        "servers": servers,
        "note": note,
    }


class FilterModule:
    def filters(self):
        return {"prometheus_target": prometheus_target}
