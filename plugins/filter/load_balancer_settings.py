# Copyright: eightfold.devops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The load_balancer_settings filter: the load_balancer role's variables checked, and the backend's servers
resolved from the inventory (docs in load_balancer_settings.yml)."""

from __future__ import annotations

import re
from collections.abc import Mapping

from ansible.errors import AnsibleFilterError

NAME = re.compile(r"^[A-Za-z0-9._:-]+$")
ADDRESS = re.compile(r"^[A-Za-z0-9._:-]+$")
TIME = re.compile(r"^[0-9]+(us|ms|s|m|h|d)?$")
METHOD = re.compile(r"^[A-Z]+$")
RETRY_ON = (
    "none", "conn-failure", "empty-response", "junk-response", "response-timeout", "0rtt-rejected",
    "all-retryable-errors", "401", "403", "404", "408", "425", "500", "501", "502", "503", "504",
)  # fmt: skip
TIMES = (
    "load_balancer_health_check_interval",
    "load_balancer_timeout_connect",
    "load_balancer_timeout_client",
    "load_balancer_timeout_server",
    "load_balancer_timeout_http_request",
    "load_balancer_timeout_queue",
    "load_balancer_timeout_check",
)
COUNTS = (
    "load_balancer_health_check_fall",
    "load_balancer_health_check_rise",
    "load_balancer_redispatch_interval",
    "load_balancer_maxconn",
)
LOOPBACK = ("127.0.0.1", "::1", "localhost")
REQUIRED = (
    "load_balancer_port", "load_balancer_metrics_port", "load_balancer_stats_port",
    "load_balancer_metrics_enabled", "load_balancer_stats_enabled", "load_balancer_backends",
    "load_balancer_backend_group", "load_balancer_backend_port", "load_balancer_backend_name",
    "load_balancer_health_check_path", "load_balancer_health_check_status", "load_balancer_retries",
    "load_balancer_retry_on", "load_balancer_retry_methods", "load_balancer_stats_listen_address",
    "load_balancer_stats_user", "load_balancer_stats_password", "load_balancer_frontend_extra",
    "load_balancer_backend_extra", *TIMES, *COUNTS,
)  # fmt: skip


def is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def is_port(value):
    return is_int(value) or (isinstance(value, str) and value.isdigit())


def port_in_range(value):
    return is_port(value) and 0 < int(value) < 65536


def group_servers(group, groups, hostvars, default_port):
    """One server per host of the group: name inventory_hostname, address notes_address else ansible_host,
    port notes_port else the default."""
    servers = []
    for host in groups.get(group) or []:
        try:
            variables = hostvars[host]
        except KeyError:
            variables = {}
        address = variables.get("notes_address")
        if address is None:
            address = variables.get("ansible_host", "")
        port = variables.get("notes_port")
        servers.append(
            {
                "name": host,
                "address": "" if address is None else str(address),
                "port": default_port if port is None else port,
            }
        )
    return servers


def check_servers(source, servers):
    errors = []
    for server in servers:
        if not isinstance(server, Mapping):
            errors.append(f"{source}: {server!r} is not a mapping of name, address and port.")
            continue
        name = server.get("name")
        if not isinstance(name, str) or not NAME.match(name):
            errors.append(f"{source}: server name {name} may only have letters, digits and . _ : -.")
        address = server.get("address")
        address = "" if address is None else str(address)
        if not address:
            errors.append(
                f"{source}: {name} has no address (set notes_address or ansible_host for that host, "
                "or address in load_balancer_backends)."
            )
        elif not ADDRESS.match(address):
            errors.append(f"{source}: {name} has the address {address}, not an IP address or host name.")
        port = server.get("port")
        if not port_in_range(port):
            errors.append(
                f"{source}: {name} has the port {port}, not a port from 1 to 65535 (notes_port or port)."
            )
    names = [server.get("name") for server in servers if isinstance(server, Mapping)]
    if len(set(map(str, names))) != len(names):
        errors.append(f"{source}: server names must be unique, found {', '.join(map(str, names))}.")
    return errors


def load_balancer_settings(settings, groups, hostvars):
    """The servers of the backend and notes about what the settings leave out, after checking every setting
    that meta/argument_specs.yml cannot: port ranges and clashes, the servers' names, addresses and ports,
    HAProxy times, counts, retry keywords and methods, the statistics page's password, single-line extras.

    settings: the role's variables by name. groups, hostvars: the inventory's.
    Raises AnsibleFilterError with every problem found, on one line, each naming its variable.
    """
    if not isinstance(settings, Mapping):
        raise AnsibleFilterError("load_balancer_settings expects a mapping of the role's variables")
    missing = [name for name in REQUIRED if name not in settings]
    if missing:
        raise AnsibleFilterError(f"load_balancer_settings: missing {', '.join(missing)}")
    s = settings
    errors, notes = [], []

    ports = {
        name: s[name]
        for name in ("load_balancer_port", "load_balancer_metrics_port", "load_balancer_stats_port")
    }
    for name, value in ports.items():
        if not port_in_range(value):
            errors.append(f"{name} is {value}, not a port from 1 to 65535.")
    used = [s["load_balancer_port"]]
    used += [s["load_balancer_metrics_port"]] if s["load_balancer_metrics_enabled"] else []
    used += [s["load_balancer_stats_port"]] if s["load_balancer_stats_enabled"] else []
    if len({str(port) for port in used}) != len(used):
        errors.append(
            "load_balancer_port, load_balancer_metrics_port and load_balancer_stats_port (those enabled) "
            f"must differ, they are {', '.join(map(str, used))}."
        )

    backend = s["load_balancer_backend_name"]
    backends, group = s["load_balancer_backends"], s["load_balancer_backend_group"]
    if not isinstance(backends, list):
        errors.append("load_balancer_backends must be a list of {name, address, port}.")
        backends = []
    if backends:
        servers, source = list(backends), "load_balancer_backends"
    else:
        source = f"load_balancer_backend_group ({group})"
        servers = group_servers(group, groups, hostvars, s["load_balancer_backend_port"])
        if group not in groups:
            notes.append(
                f"load_balancer_backend_group: the inventory has no group {group}, so backend "
                f"{backend} has no server (requests are answered 503); set it to the "
                "group of the backend hosts, or list them in load_balancer_backends"
            )
        elif not servers:
            notes.append(
                f"load_balancer_backend_group: group {group} has no hosts, so backend "
                f"{backend} has no server (requests are answered 503)"
            )
    errors += check_servers(source, servers)

    if not isinstance(backend, str) or not NAME.match(backend):
        errors.append(f"load_balancer_backend_name {backend} may only have letters, digits and . _ : -.")
    path = s["load_balancer_health_check_path"]
    if not isinstance(path, str) or not re.match(r"^/\S*$", path):
        errors.append("load_balancer_health_check_path must start with / and have no spaces.")
    status = s["load_balancer_health_check_status"]
    if not (is_port(status) and 99 < int(status) < 600):
        errors.append(f"load_balancer_health_check_status is {status}, not an HTTP status.")
    for name in TIMES:
        if not TIME.match(str(s[name])):
            errors.append(f"{name} is {s[name]}, not a time like 500ms, 2s or 1m.")
    for name in COUNTS:
        if not (is_port(s[name]) and int(s[name]) >= 1):
            errors.append(f"{name} is {s[name]}, it must be 1 or more.")
    if not (is_port(s["load_balancer_retries"]) and int(s["load_balancer_retries"]) >= 0):
        errors.append(f"load_balancer_retries is {s['load_balancer_retries']}, it must be 0 or more.")
    unknown = [str(item) for item in s["load_balancer_retry_on"] if str(item) not in RETRY_ON]
    if unknown:
        errors.append(f"load_balancer_retry_on: unknown {', '.join(unknown)} (known: {', '.join(RETRY_ON)}).")
    methods = [str(item) for item in s["load_balancer_retry_methods"] if not METHOD.match(str(item))]
    if methods:
        errors.append(
            f"load_balancer_retry_methods: {', '.join(methods)} are not HTTP methods (GET, HEAD...)."
        )
    if not s["load_balancer_retry_methods"]:
        errors.append("load_balancer_retry_methods is empty; name at least one method (GET).")
    if s["load_balancer_stats_enabled"]:
        password, user = str(s["load_balancer_stats_password"]), str(s["load_balancer_stats_user"])
        if not password and s["load_balancer_stats_listen_address"] not in LOOPBACK:
            errors.append(
                "load_balancer_stats_password is empty while the statistics page listens on "
                f"{s['load_balancer_stats_listen_address']}; set a password or listen on 127.0.0.1."
            )
        if not re.match(r"^[A-Za-z0-9._-]+$", user):
            errors.append("load_balancer_stats_user may only have letters, digits and . _ -.")
        if re.search(r"[\s#'\"\\]", password):
            errors.append("load_balancer_stats_password may not hold spaces, quotes, backslashes or #.")
    extra = list(s["load_balancer_frontend_extra"]) + list(s["load_balancer_backend_extra"])
    if any(re.search(r"[\r\n]", str(line)) for line in extra):
        errors.append("load_balancer_frontend_extra and load_balancer_backend_extra take one line per item.")

    if errors:
        raise AnsibleFilterError(" ".join(errors) + " Nothing was changed.")
    return {"servers": servers, "notes": notes}


class FilterModule:
    def filters(self):
        return {"load_balancer_settings": load_balancer_settings}
