# Copyright: eightfold.devops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The monitoring_problems filter: what is wrong with the settings of the monitoring roles (node_exporter,
prometheus and its register_target entry point, postgres_exporter), judged on the controller before the
host is touched. One line per problem, naming the variable; docs in monitoring_problems.yml."""

from __future__ import annotations

import ipaddress
import re
import sys
from collections.abc import Mapping
from urllib.parse import urlsplit

from ansible.errors import AnsibleFilterError
from ansible_collections.eightfold.devops.plugins.filter.bcrypt_hash import bcrypt_backend

# Prometheus' duration syntax (model.ParseDuration): units from the largest down, each at most once.
DURATION = re.compile(r"^(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?$")
DURATION_SECONDS = (365 * 86400, 7 * 86400, 86400, 3600, 60, 1, 0.001)
SIZE = re.compile(r"^[0-9]+(B|KB|MB|GB|TB|PB|EB)$")
LABEL_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
JOB_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
HOSTNAME = re.compile(
    r"^(?=.{1,253}$)[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,62})(?:\.[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,62}))*\.?$"
)
GROUP_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")
BCRYPT = re.compile(r"^\$2[aby]\$[0-9]{2}\$[./A-Za-z0-9]{53}$")
CHECKSUM = re.compile(r"^(md5|sha1|sha224|sha256|sha384|sha512):(?:[0-9a-fA-F]+|https?://\S+)$")
PG_ROLE = re.compile(r"^[A-Za-z_][A-Za-z0-9_$-]*$")
PG_DATABASE = re.compile(r"^[^\s/?#\"'\\%]+$")
PEM_CERTIFICATE = re.compile(r"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----", re.DOTALL)
PEM_KEY = re.compile(r"-----BEGIN ((?:RSA |EC |ENCRYPTED )?PRIVATE KEY)-----.+?-----END \1-----", re.DOTALL)
# Constructs Go's regular expressions (RE2) do not have: look-around, back references, atomic groups and
# possessive quantifiers.
NOT_RE2 = re.compile(r"\(\?<?[=!]|\\[1-9]|\(\?P=|\(\?>|[*+?}]\+")
# What a scrape job of prometheus_scrape_jobs may set.
JOB_KEYS = (
    "basic_auth_user",
    "basic_auth_password",
    "tls_ca",
    "tls_server_name",
    "insecure_skip_verify",
    "scrape_interval",
    "scrape_timeout",
    "metrics_path",
    "scheme",
    "honor_labels",
)
BCRYPT_MAX_BYTES = 72


class Problems:
    """The settings of one role (problems[name] is a variable's value) and the lines on what is wrong."""

    def __init__(self, settings):
        if not isinstance(settings, Mapping):
            raise AnsibleFilterError("monitoring_problems expects a mapping of variable names to values")
        self.settings = settings
        self.lines = []

    def __getitem__(self, name):
        return self.settings.get(name)

    def add(self, name, reason):
        self.lines.append(f"{name} {reason}")


def is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def as_int(value):
    """An integer from an int or a string of digits; None for anything else."""
    if is_int(value):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def duration_seconds(value):
    """Seconds of a Prometheus duration (15d, 1h30m, 500ms), or None when it is not one."""
    match = DURATION.match(value) if isinstance(value, str) and value else None
    if not match:
        return None
    amounts = zip(match.groups(), DURATION_SECONDS, strict=True)
    return sum(int(amount) * unit for amount, unit in amounts if amount)


def is_address(value):
    """An IPv4 or IPv6 address, or a host name."""
    if not isinstance(value, str) or not value:
        return False
    try:
        ipaddress.ip_address(value.strip("[]"))
        return True
    except ValueError:
        return bool(HOSTNAME.match(value))


def is_path(value):
    return isinstance(value, str) and value.startswith("/") and not re.search(r"\s", value)


def is_url(value):
    if not isinstance(value, str) or re.search(r"\s", value):
        return False
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def check_port(problems, name):
    port = as_int(problems[name])
    if port is None or not 1 <= port <= 65535:
        problems.add(name, f"must be a port number from 1 to 65535 (got {problems[name]!r})")
    return port


def check_listen_address(problems, name):
    value = problems[name]
    if value not in ("", None) and not is_address(value):
        problems.add(name, f"must be an IP address or a host name (got {value!r})")


def check_duration(problems, name, value=None, positive=True):
    value = problems[name] if value is None else value
    seconds = duration_seconds(value)
    if seconds is None:
        problems.add(name, f"must be a duration like 30s, 5m or 1h30m (got {value!r})")
    elif positive and seconds <= 0:
        problems.add(name, f"must be longer than 0 (got {value!r})")
    return seconds


def check_range(problems, name, low, high=None):
    value = problems[name]
    number = as_int(value)
    if number is None or number < low or (high is not None and number > high):
        upper = f" to {high}" if high is not None else " or more"
        problems.add(name, f"must be a whole number from {low}{upper} (got {value!r})")


def check_labels(problems, name, value=None, reserved=True):
    labels = problems[name] if value is None else value
    if not isinstance(labels, Mapping):
        problems.add(name, f"must map label names to values (got {labels!r})")
        return
    for label, text in labels.items():
        if not isinstance(label, str) or not LABEL_NAME.match(label):
            problems.add(
                name, f"label {label!r} is not a label name (letters, digits and _, not first a digit)"
            )
        elif reserved and label.startswith("__"):
            problems.add(name, f"label {label} starts with __, which Prometheus keeps for itself")
        if isinstance(text, (Mapping, list)) or text is None:
            problems.add(name, f"label {label}: the value must be a string (got {text!r})")


def check_strings(problems, name, pattern=None, what="names"):
    value = problems[name]
    if isinstance(value, str) or not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        problems.add(name, f"must be a list of strings (got {value!r})")
        return []
    if pattern is not None:
        bad = [v for v in value if not pattern.match(v)]
        if bad:
            problems.add(name, f"has {', '.join(map(repr, bad))}, which are not {what}")
    return value


def check_pem(problems, name, key=False):
    value = problems[name]
    if not value:
        return
    if not isinstance(value, str):
        problems.add(name, "must be PEM text")
    elif key:
        match = PEM_KEY.search(value)
        if not match:
            problems.add(name, "is not a PEM private key (-----BEGIN PRIVATE KEY----- ...)")
        elif match.group(1).startswith("ENCRYPTED"):
            problems.add(
                name, "is an encrypted private key, which the exporter cannot read (give it decrypted)"
            )
    elif not PEM_CERTIFICATE.search(value):
        problems.add(name, "is not a PEM certificate (-----BEGIN CERTIFICATE----- ...)")


# node_exporter


def node_exporter(problems, timers=()):
    if problems["node_exporter_source"] == "binary" and not problems["node_exporter_binary_url"]:
        problems.add("node_exporter_binary_url", "is empty, and node_exporter_source is binary")
    if problems["node_exporter_binary_url"] and not is_url(problems["node_exporter_binary_url"]):
        problems.add("node_exporter_binary_url", "must be an http or https URL")
    checksum = problems["node_exporter_binary_checksum"]
    if checksum and not (isinstance(checksum, str) and CHECKSUM.match(checksum)):
        problems.add("node_exporter_binary_checksum", "must be <algorithm>:<hex digest>, like sha256:5f1b...")
    check_listen_address(problems, "node_exporter_listen_address")
    check_port(problems, "node_exporter_port")
    enabled = check_strings(problems, "node_exporter_collectors_enabled")
    disabled = check_strings(problems, "node_exporter_collectors_disabled")
    both = sorted(set(enabled) & set(disabled))
    if both:
        problems.add(
            "node_exporter_collectors_enabled",
            f"and node_exporter_collectors_disabled both name {', '.join(both)}",
        )
    include = problems["node_exporter_systemd_unit_include"]
    if not isinstance(include, str) or not include or re.search(r"[\s\"']", include):
        problems.add(
            "node_exporter_systemd_unit_include", "must be a regular expression without spaces or quotes"
        )
    else:
        try:
            re.compile(include)
            if NOT_RE2.search(include):
                raise re.error("look-around and back references are not in Go's regular expressions")
        except re.error as exc:
            problems.add(
                "node_exporter_systemd_unit_include",
                f"is not a regular expression node_exporter takes: {exc}",
            )
    check_strings(problems, "node_exporter_extra_args")
    if not is_path(problems["node_exporter_textfile_dir"]):
        problems.add("node_exporter_textfile_dir", "must be an absolute path without spaces")
    textfile = check_strings(problems, "node_exporter_textfile_collectors")
    unknown = [name for name in textfile if name not in timers]
    if unknown and timers:
        problems.add(
            "node_exporter_textfile_collectors",
            f"has {', '.join(unknown)}, which prometheus-node-exporter-collectors does not ship "
            f"(known: {', '.join(timers)})",
        )
    paths = check_strings(problems, "node_exporter_certificate_paths")
    if any(not is_path(path) for path in paths):
        problems.add("node_exporter_certificate_paths", "must be absolute paths without spaces")
    cert, key = problems["node_exporter_tls_cert"], problems["node_exporter_tls_key"]
    if bool(cert) != bool(key):
        problems.add("node_exporter_tls_cert", "and node_exporter_tls_key must be given together")
    check_pem(problems, "node_exporter_tls_cert")
    check_pem(problems, "node_exporter_tls_key", key=True)
    password = problems["node_exporter_basic_auth_password"] or ""
    password_hash = problems["node_exporter_basic_auth_password_hash"] or ""
    if password or password_hash:
        user = problems["node_exporter_basic_auth_user"]
        if not isinstance(user, str) or not user or ":" in user or re.search(r"\s", user):
            problems.add("node_exporter_basic_auth_user", "must be a user name without ':' or spaces")
    if password_hash and not (isinstance(password_hash, str) and BCRYPT.match(password_hash)):
        problems.add(
            "node_exporter_basic_auth_password_hash",
            "is not a bcrypt hash ($2b$<cost>$ and 53 characters); make one with "
            '`htpasswd -nbBC 10 "" PASSWORD | cut -d: -f2`',
        )
    if isinstance(password, str) and len(password.encode("utf-8")) > BCRYPT_MAX_BYTES:
        problems.add(
            "node_exporter_basic_auth_password",
            f"is longer than {BCRYPT_MAX_BYTES} bytes, which bcrypt cannot hash",
        )
    elif password and not password_hash and not bcrypt_backend():
        problems.add(
            "node_exporter_basic_auth_password",
            "is set without node_exporter_basic_auth_password_hash, and the Python that runs Ansible "
            f"({sys.executable}) cannot make a bcrypt hash of it: pip install bcrypt, or give "
            "node_exporter_basic_auth_password_hash",
        )
    if not is_address(problems["node_exporter_target_address"]):
        problems.add(
            "node_exporter_target_address",
            f"must be an IP address or a host name (got {problems['node_exporter_target_address']!r})",
        )
    check_labels(problems, "node_exporter_target_labels")
    check_strings(problems, "node_exporter_firewall_from_groups", GROUP_NAME, "inventory group names")


# prometheus


def prometheus(problems):
    check_listen_address(problems, "prometheus_listen_address")
    port = check_port(problems, "prometheus_port")
    alertmanager_port = check_port(problems, "prometheus_alertmanager_port")
    if port is not None and port == alertmanager_port:
        problems.add(
            "prometheus_alertmanager_port", f"is prometheus_port ({port}) too: give them different ports"
        )
    check_duration(problems, "prometheus_retention_time")
    size = problems["prometheus_retention_size"]
    if size and not (isinstance(size, str) and SIZE.match(size)):
        problems.add(
            "prometheus_retention_size", f"must be a size like 10GB (B, KB, MB, GB, TB, PB, EB; got {size!r})"
        )
    interval = check_duration(problems, "prometheus_scrape_interval")
    timeout = check_duration(problems, "prometheus_scrape_timeout")
    if interval and timeout and timeout > interval:
        problems.add(
            "prometheus_scrape_timeout",
            f"({problems['prometheus_scrape_timeout']}) is longer than prometheus_scrape_interval "
            f"({problems['prometheus_scrape_interval']}), which Prometheus refuses",
        )
    check_duration(problems, "prometheus_evaluation_interval")
    check_labels(problems, "prometheus_external_labels")
    jobs = problems["prometheus_scrape_jobs"]
    extra = problems["prometheus_scrape_jobs_extra"]
    for name in ("prometheus_scrape_jobs", "prometheus_scrape_jobs_extra"):
        if not isinstance(problems[name], Mapping):
            problems.add(name, "must map job names to their settings")
    if isinstance(jobs, Mapping) and isinstance(extra, Mapping):
        merged = dict(jobs)
        merged.update(extra)
        for job, settings in merged.items():
            where = "prometheus_scrape_jobs_extra" if job in extra else "prometheus_scrape_jobs"
            check_job(problems, where, job, settings, interval, timeout)
    check_pem(problems, "prometheus_scrape_ca")
    for name in (
        "prometheus_alert_instance_down_for",
        "prometheus_alert_unit_failed_for",
        "prometheus_alert_postgresql_down_for",
        "prometheus_alert_haproxy_backend_down_for",
    ):
        check_duration(problems, name, positive=False)
    check_range(problems, "prometheus_alert_disk_free_percent", 1, 99)
    check_range(problems, "prometheus_alert_memory_available_percent", 1, 99)
    check_range(problems, "prometheus_alert_disk_fill_hours", 1)
    check_range(problems, "prometheus_alert_postgresql_replication_lag_seconds", 1)
    check_range(problems, "prometheus_alert_certificate_expiry_days", 1)
    check_rule_groups(problems, "prometheus_alert_rules")
    config = problems["prometheus_alertmanager_config"]
    if not isinstance(config, Mapping) or not isinstance(config.get("route"), Mapping):
        problems.add(
            "prometheus_alertmanager_config", "must be Alertmanager's configuration with a route (a mapping)"
        )
    elif not isinstance(config.get("receivers"), list):
        problems.add("prometheus_alertmanager_config", "must list its receivers")
    targets = check_strings(problems, "prometheus_alertmanager_targets")
    for target in targets:
        host, sep, port = target.rpartition(":")
        if not sep or not is_address(host) or as_int(port) is None or not 1 <= int(port) <= 65535:
            problems.add("prometheus_alertmanager_targets", f"has {target!r}, which is not host:port")
    check_strings(problems, "prometheus_servers")


def check_job(problems, where, job, settings, interval, timeout):
    label = f"{where}: job {job}"
    if not isinstance(job, str) or not JOB_NAME.match(job):
        problems.add(where, f"has {job!r}, which is not a job name (letters, digits and _)")
        return
    if job == "prometheus":
        problems.add(where, "has the job prometheus, which is the server's own")
    if not isinstance(settings, Mapping):
        problems.add(label, "must be a mapping of settings (or {})")
        return
    unknown = sorted(set(settings) - set(JOB_KEYS))
    if unknown:
        problems.add(
            label, f"has unknown settings {', '.join(map(str, unknown))} (known: {', '.join(JOB_KEYS)})"
        )
    for key in ("insecure_skip_verify", "honor_labels"):
        if key in settings and not isinstance(settings[key], bool):
            problems.add(label, f"{key} must be true or false (got {settings[key]!r})")
    if settings.get("scheme", "http") not in ("http", "https"):
        problems.add(label, f"scheme must be http or https (got {settings['scheme']!r})")
    path = settings.get("metrics_path", "/metrics")
    if not isinstance(path, str) or not path.startswith("/") or re.search(r"\s", path):
        problems.add(label, f"metrics_path must be a path starting with / (got {path!r})")
    for key in ("basic_auth_user", "tls_server_name"):
        if key in settings and (not isinstance(settings[key], str) or not settings[key]):
            problems.add(label, f"{key} must be a non-empty string")
    if "basic_auth_password" in settings and not isinstance(settings["basic_auth_password"], str):
        problems.add(label, "basic_auth_password must be a string")
    ca = settings.get("tls_ca")
    if ca and not (isinstance(ca, str) and PEM_CERTIFICATE.search(ca)):
        problems.add(label, "tls_ca is not a PEM certificate")
    job_interval, job_timeout = interval, timeout
    if "scrape_interval" in settings:
        job_interval = check_duration(problems, f"{label} scrape_interval", settings["scrape_interval"])
    if "scrape_timeout" in settings:
        job_timeout = check_duration(problems, f"{label} scrape_timeout", settings["scrape_timeout"])
    if (
        job_interval
        and job_timeout
        and job_timeout > job_interval
        and ("scrape_interval" in settings or "scrape_timeout" in settings)
    ):
        problems.add(label, "scrape_timeout is longer than its scrape_interval, which Prometheus refuses")


def check_rule_groups(problems, name):
    groups = problems[name]
    if isinstance(groups, str) or not isinstance(groups, list):
        problems.add(name, "must be a list of rule groups, each with a name and rules")
        return
    seen = set()
    for index, group in enumerate(groups):
        if not isinstance(group, Mapping) or not isinstance(group.get("name"), str) or not group.get("name"):
            problems.add(f"{name}[{index}]", "must be a rule group with a name and rules")
            continue
        if not isinstance(group.get("rules"), list):
            problems.add(f"{name}[{index}] ({group['name']})", "must have a list of rules")
        if group["name"] in seen:
            problems.add(
                f"{name}[{index}] ({group['name']})", "has the name of an earlier group; names must be unique"
            )
        seen.add(group["name"])


# postgres_exporter


def postgres_exporter(problems):
    user = problems["postgres_exporter_user"]
    if not isinstance(user, str) or not PG_ROLE.match(user):
        problems.add("postgres_exporter_user", f"is not a PostgreSQL role name (got {user!r})")
    password = problems["postgres_exporter_password"]
    if not isinstance(password, str) or "\n" in password or "\r" in password:
        problems.add("postgres_exporter_password", "must be a string on one line")
    if not is_address(problems["postgres_exporter_database_host"]):
        problems.add(
            "postgres_exporter_database_host",
            f"must be an IP address or a host name (got {problems['postgres_exporter_database_host']!r})",
        )
    check_port(problems, "postgres_exporter_database_port")
    database = problems["postgres_exporter_database"]
    if not isinstance(database, str) or not PG_DATABASE.match(database):
        problems.add(
            "postgres_exporter_database",
            f"must be a database name without spaces, quotes, /, ?, # or % (got {database!r})",
        )
    check_listen_address(problems, "postgres_exporter_listen_address")
    check_port(problems, "postgres_exporter_port")
    check_strings(problems, "postgres_exporter_extra_args")
    if not is_address(problems["postgres_exporter_target_address"]):
        problems.add(
            "postgres_exporter_target_address",
            f"must be an IP address or a host name (got {problems['postgres_exporter_target_address']!r})",
        )
    check_labels(problems, "postgres_exporter_target_labels")
    check_strings(problems, "postgres_exporter_firewall_from_groups", GROUP_NAME, "inventory group names")


# register_target


def prometheus_target(problems, hosts=()):
    job = problems["prometheus_target_job"]
    if not isinstance(job, str) or not JOB_NAME.match(job):
        problems.add("prometheus_target_job", f"is not a job name (letters, digits and _; got {job!r})")
    check_port(problems, "prometheus_target_port")
    address = problems["prometheus_target_address"]
    if address is not None and not is_address(address):
        problems.add("prometheus_target_address", f"must be an IP address or a host name (got {address!r})")
    path = problems["prometheus_target_metrics_path"]
    if path is not None and (not isinstance(path, str) or not path.startswith("/") or re.search(r"\s", path)):
        problems.add("prometheus_target_metrics_path", f"must be a path starting with / (got {path!r})")
    if problems["prometheus_target_labels"] is not None:
        check_labels(problems, "prometheus_target_labels")
    servers = check_strings(problems, "prometheus_servers")
    unknown = [server for server in servers if hosts and server not in hosts]
    if unknown:
        problems.add("prometheus_servers", f"has {', '.join(unknown)}, which the inventory does not have")


ROLES = {
    "node_exporter": node_exporter,
    "prometheus": prometheus,
    "prometheus_target": prometheus_target,
    "postgres_exporter": postgres_exporter,
}


def monitoring_problems(settings, role, **context):
    """The problems of a monitoring role's settings (variable name -> value), one line each."""
    if role not in ROLES:
        raise AnsibleFilterError(
            f"monitoring_problems: role must be one of {', '.join(ROLES)} (got {role!r})"
        )
    problems = Problems(settings)
    ROLES[role](problems, **context)
    return problems.lines


class FilterModule:
    def filters(self):
        return {"monitoring_problems": monitoring_problems}
