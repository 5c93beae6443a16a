# Copyright: eightfold.devops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The prometheus_job_files filter: the files of Prometheus' scrape jobs as config_files entries - each job's
file_sd directory, its password file and its CA file, or their removal (docs in prometheus_job_files.yml)."""

from __future__ import annotations

from collections.abc import Mapping

from ansible.errors import AnsibleFilterError


def prometheus_job_files(jobs, scrape_ca="", secrets_dir="/etc/prometheus/secrets", file_sd_dir=None):
    """Per job, in name order: <file_sd_dir>/<job> (a directory, when file_sd_dir is given), the password
    file <secrets_dir>/<job>.password (secret, 0640 root:prometheus) and the CA <secrets_dir>/<job>-ca.pem
    (tls_ca, else scrape_ca), each removed when the job has none."""
    if not isinstance(jobs, Mapping):
        raise AnsibleFilterError("prometheus_job_files expects the scrape jobs as a mapping of job names")
    entries = []
    for name in sorted(jobs):
        job = jobs[name] if isinstance(jobs[name], Mapping) else {}
        if file_sd_dir:
            entries.append({"dest": f"{file_sd_dir}/{name}", "state": "directory"})
        password = job.get("basic_auth_password") or ""
        password_file = f"{secrets_dir}/{name}.password"
        if password:
            entries.append(
                {
                    "dest": password_file,
                    "content": str(password),
                    "group": "prometheus",
                    "mode": "0640",
                    "secret": True,
                }
            )
        else:
            entries.append({"dest": password_file, "state": "absent"})
        ca = job.get("tls_ca", scrape_ca) or ""
        ca_file = f"{secrets_dir}/{name}-ca.pem"
        if ca:
            entries.append({"dest": ca_file, "content": str(ca).strip() + "\n"})
        else:
            entries.append({"dest": ca_file, "state": "absent"})
    return entries


class FilterModule:
    def filters(self):
        return {"prometheus_job_files": prometheus_job_files}
