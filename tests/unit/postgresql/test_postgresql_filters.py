"""eightfold.devops.postgresql_problems, postgresql_tuning and postgresql_conf: the postgresql role's
preflight, the settings it computes from the host and the drop-in it writes."""

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.eightfold.devops.plugins.filter.postgresql import (
    FilterModule,
    conf_value,
    postgresql_conf,
    postgresql_pgpass,
    postgresql_problems,
    postgresql_tuning,
)

# The role's defaults (defaults/main.yml).
DEFAULTS = {
    "postgresql_version": "",
    "postgresql_port": 5432,
    "postgresql_listen_addresses": ["*"],
    "postgresql_max_connections": 0,
    "postgresql_shared_buffers_percent": 25,
    "postgresql_settings": {},
    "postgresql_tls": True,
    "postgresql_tls_cert_file": "",
    "postgresql_tls_key_file": "",
    "postgresql_tls_required": False,
    "postgresql_hba": [],
    "postgresql_address": "",
    "postgresql_users": [],
    "postgresql_databases": [],
    "postgresql_schemas": [],
    "postgresql_extensions": [],
    "postgresql_privileges": [],
    "postgresql_monitoring_user": "postgres_exporter",
    "postgresql_monitoring_password": "",
    "postgresql_replication_primary": "",
    "postgresql_replication_user": "replicator",
    "postgresql_replication_password": "",
    "postgresql_replication_reseed": False,
    "postgresql_backup": False,
    "postgresql_backup_stanza": "main",
    "postgresql_backup_repo_path": "/var/lib/pgbackrest",
    "postgresql_backup_retention_full": 2,
    "postgresql_backup_retention_diff": 6,
    "postgresql_backup_full_schedule": "Sun *-*-* 01:00:00",
    "postgresql_backup_diff_schedule": "Mon..Sat *-*-* 01:00:00",
}


def problems(hosts=("db1", "db2"), replicating=False, **changes):
    return postgresql_problems(dict(DEFAULTS, **changes), list(hosts), replicating)


def test_registered_under_their_names():
    filters = FilterModule().filters()
    assert filters["postgresql_problems"] is postgresql_problems
    assert filters["postgresql_tuning"] is postgresql_tuning
    assert filters["postgresql_conf"] is postgresql_conf
    assert filters["postgresql_pgpass"] is postgresql_pgpass


def test_the_defaults_and_a_full_setup_pass():
    assert problems() == []
    assert (
        problems(
            replicating=True,
            postgresql_replication_password="r:e\\p",
            postgresql_monitoring_password="m",
            postgresql_tls_required=True,
            postgresql_backup=True,
            postgresql_hba=[
                {
                    "databases": ["app", "replication"],
                    "users": ["app", "+readers"],
                    "networks": ["10.0.0.0/24"],
                },
                {"databases": ["all"], "users": ["all"], "networks": ["192.0.2.0/24"], "method": "reject"},
            ],
            postgresql_users=[
                {"name": "app", "password": "x", "member_of": ["pg_read_all_data"]},
                {"name": "readers", "login": False, "attributes": ["CREATEDB"]},
            ],
            postgresql_databases=[{"name": "app", "owner": "app"}, {"name": "my-db"}],
            postgresql_schemas=[{"name": "reporting", "database": "app", "owner": "app"}],
            postgresql_extensions=[{"name": "uuid-ossp", "database": "app"}],
            postgresql_privileges=[
                {"database": "app", "roles": ["app", "PUBLIC"], "type": "database", "privs": ["CONNECT"]},
                {"database": "app", "roles": ["app"], "objs": ["ALL_IN_SCHEMA"], "privs": ["SELECT"]},
            ],
            postgresql_settings={"work_mem": "8MB", "pg_stat_statements.max": 5000, "jit": False, "x.y": 0.5},
            postgresql_listen_addresses=["localhost", "10.0.0.5", "::1", "db1.example.org"],
            postgresql_address="10.0.0.5",
        )
        == []
    )


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"postgresql_max_connections": -5}, "postgresql_max_connections: -5 is out of range: 0 (computed"),
        ({"postgresql_max_connections": 300000}, "postgresql_max_connections: 300000 is out of range"),
        ({"postgresql_port": 70000}, "postgresql_port: 70000 is out of range: a port is 1 to 65535"),
        ({"postgresql_port": 0}, "postgresql_port: 0 is out of range"),
        ({"postgresql_shared_buffers_percent": 95}, "postgresql_shared_buffers_percent: 95 is out of range"),
        ({"postgresql_version": "15.2"}, "postgresql_version: '15.2' is not a major version"),
        ({"postgresql_listen_addresses": []}, "postgresql_listen_addresses: must be a non-empty list"),
        (
            {"postgresql_listen_addresses": ["10.0.0.300"]},
            "postgresql_listen_addresses[0]: '10.0.0.300' is not",
        ),
        ({"postgresql_listen_addresses": ["a b"]}, "postgresql_listen_addresses[0]: 'a b' is not"),
        ({"postgresql_address": "db1"}, "postgresql_address: 'db1' is not an IP address"),
        (
            {"postgresql_tls_cert_file": "c.pem"},
            "postgresql_tls_cert_file and postgresql_tls_key_file: give both",
        ),
        (
            {"postgresql_tls_required": True, "postgresql_tls": False},
            "postgresql_tls_required: needs postgresql_tls",
        ),
        (
            {"postgresql_replication_primary": "db9"},
            "postgresql_replication_primary: db9 is not in the inventory",
        ),
        (
            {"postgresql_backup": True, "postgresql_backup_stanza": "a b"},
            "postgresql_backup_stanza: 'a b' is not",
        ),
        (
            {"postgresql_backup": True, "postgresql_backup_retention_full": 0},
            "postgresql_backup_retention_full: 0",
        ),
        (
            {"postgresql_backup": True, "postgresql_backup_repo_path": "rel"},
            "postgresql_backup_repo_path: 'rel'",
        ),
    ],
)
def test_scalars_out_of_range_are_named(changes, message):
    found = problems(**changes)
    assert any(line.startswith(message) for line in found), found


def test_replication_needs_a_password_and_usable_role_names():
    assert problems(replicating=True) == [
        "postgresql_replication_password: required when the host has standbys or is one"
    ]
    found = problems(
        replicating=True, postgresql_replication_password="a\nb", postgresql_replication_user="r'x"
    )
    assert found[0].startswith('postgresql_replication_user: "r\'x" is not a role name the role can use')
    assert found[1] == "postgresql_replication_password: contains a line break or another control character"


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("o'brien", "is not a role name the role can use"),
        ('a"b', "is not a role name the role can use"),
        ("app user", "is not a role name the role can use"),
        ("a,b", "is not a role name the role can use"),
        ("1app", "is not a role name the role can use"),
        ("pg_app", "names starting with pg_ are reserved for PostgreSQL"),
        ("public", "is reserved in PostgreSQL or pg_hba.conf"),
        ("ALL", "is reserved in PostgreSQL or pg_hba.conf"),
        ("a" * 64, "is longer than 63 bytes"),
    ],
)
def test_user_names_that_would_break_sql_or_pg_hba_are_refused(name, reason):
    found = problems(postgresql_users=[{"name": name, "password": "x"}])
    assert len(found) == 1 and found[0].startswith("postgresql_users[0]") and reason in found[0], found


def test_users_need_a_password_to_log_in_and_are_listed_once():
    found = problems(
        postgresql_monitoring_password="m",
        postgresql_users=[
            {"name": "app"},
            {"name": "app", "password": "x"},
            {"name": "postgres_exporter", "password": "x"},
            {"name": "reader", "login": False, "member_of": ["bad name"]},
        ],
    )
    assert found == [
        "postgresql_users[0] (app): a login role needs a password (or login: false)",
        "postgresql_users[1] (app): app is listed twice",
        "postgresql_users[2] (postgres_exporter): postgres_exporter is the role's monitoring role "
        "(postgresql_monitoring_user); give it another name or change that variable",
        "postgresql_users[3] (reader).member_of[0]: 'bad name' is not a role name the role can use: letters, "
        "digits, _, $ and -, starting with a letter or _ (no quotes, spaces, commas or colons)",
    ]


def test_database_schema_and_extension_names():
    found = problems(
        postgresql_databases=[{"name": "replication"}, {"name": "app", "owner": "pg_x"}],
        postgresql_schemas=[{"name": "pg_temp2", "database": "app"}],
        postgresql_extensions=[{"name": "bad ext", "database": "app"}],
    )
    assert [line.split(":")[0] for line in found] == [
        "postgresql_databases[0] (replication).name",
        "postgresql_databases[1] (app).owner",
        "postgresql_schemas[0].name",
        "postgresql_extensions[0].name",
    ]


def test_privileges_must_suit_their_type():
    found = problems(
        postgresql_privileges=[
            {"database": "app", "roles": ["app"], "type": "database", "privs": ["SELECT", "CONNECT"]},
            {"database": "app", "roles": [], "type": "schema", "privs": ["USAGE"], "objs": ["ALL_IN_SCHEMA"]},
            {"database": "app", "roles": ["a;b"], "privs": ["SELECT"], "objs": ["t1", "x'y"]},
        ]
    )
    assert found == [
        "postgresql_privileges[0].privs: SELECT not valid for type database",
        "postgresql_privileges[1].roles: is empty",
        "postgresql_privileges[1].objs[0]: ALL_IN_SCHEMA is for tables and sequences, not schema",
        found[3],
        found[4],
    ]
    assert found[3].startswith("postgresql_privileges[2].roles[0]: 'a;b' is not a role name")
    assert found[4].startswith('postgresql_privileges[2].objs[1]: "x\'y" is not a table name')


def test_hba_entries_methods_names_and_networks():
    found = problems(
        postgresql_hba=[
            {"databases": ["app"], "users": ["app"], "networks": ["10.0.0.0/24", "10.0.0.300/24"]},
            {"databases": [], "users": ["app"], "method": "trust"},
            {"databases": ["a b"], "users": ["+x'y"], "networks": ["10.1.2.3/8"]},
        ]
    )
    assert found == [
        "postgresql_hba[0].networks[1]: '10.0.0.300/24' is not a valid IP network",
        "postgresql_hba[1].databases: is empty (all for every database)",
        "postgresql_hba[1].method: 'trust' is not allowed: scram-sha-256 or reject "
        "(not md5, password or trust)",
        found[3],
        found[4],
        "postgresql_hba[2].networks[0]: '10.1.2.3/8' has host bits set; did you mean 10.0.0.0/8?",
    ]
    assert found[3].startswith("postgresql_hba[2].databases[0]: 'a b' is not a database name")
    assert found[4].startswith('postgresql_hba[2].users[0]: "x\'y" is not a role name')


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"shared buffers": "1GB"}, "postgresql_settings.shared buffers: is not a setting name"),
        ({"Shared_Buffers": "1GB"}, "postgresql_settings.Shared_Buffers: is not a setting name"),
        ({"port": 5433}, "postgresql_settings.port: cannot be set here: set postgresql_port instead"),
        ({"data_directory": "/srv"}, "postgresql_settings.data_directory: cannot be set here"),
        ({"work_mem": None}, "postgresql_settings.work_mem: a null is not a setting value"),
        ({"search_path": ["a", "b"]}, "postgresql_settings.search_path: a list is not a setting value"),
        ({"application_name": "a\nb"}, "postgresql_settings.application_name: a setting value cannot hold"),
    ],
)
def test_settings_names_and_value_types(settings, message):
    found = problems(postgresql_settings=settings)
    assert len(found) == 1 and found[0].startswith(message), found


def test_problems_need_a_mapping():
    with pytest.raises(AnsibleFilterError, match="expects a mapping"):
        postgresql_problems(["postgresql_port"])


@pytest.mark.parametrize(
    ("memory", "cpus", "expected"),
    [
        (
            2048,
            2,
            {
                "max_connections": 100,
                "shared_buffers": "512MB",
                "effective_cache_size": "1536MB",
                "maintenance_work_mem": "128MB",
                "work_mem": "5MB",
            },
        ),
        (
            65536,
            32,
            {
                "max_connections": 400,
                "shared_buffers": "16384MB",
                "effective_cache_size": "49152MB",
                "maintenance_work_mem": "2048MB",
                "work_mem": "40MB",
            },
        ),
        # A tiny host: at least 128MB of shared buffers and of cache, work_mem at least 4MB.
        (
            256,
            1,
            {
                "max_connections": 100,
                "shared_buffers": "128MB",
                "effective_cache_size": "128MB",
                "maintenance_work_mem": "64MB",
                "work_mem": "4MB",
            },
        ),
    ],
)
def test_tuning_from_memory_and_cpus(memory, cpus, expected):
    assert postgresql_tuning({"memory_mb": memory, "cpus": cpus}) == expected


def test_tuning_takes_max_connections_and_share_as_given():
    tuned = postgresql_tuning({"memory_mb": 4096, "cpus": 2}, max_connections=50, shared_buffers_percent=50)
    assert tuned["max_connections"] == 50 and tuned["shared_buffers"] == "2048MB"
    assert tuned["work_mem"] == "13MB"


def test_tuning_needs_a_read():
    with pytest.raises(AnsibleFilterError, match="postgresql_state read"):
        postgresql_tuning({"memory_mb": "2048"})


def test_conf_values_are_written_as_postgresql_reads_them():
    assert conf_value(True) == "on" and conf_value(False) == "off"
    assert conf_value(100) == "100" and conf_value(0.5) == "0.5"
    assert conf_value("8MB") == "'8MB'"
    assert conf_value("it's") == "'it''s'"
    assert conf_value("C:\\path") == "'C:\\\\path'"
    assert conf_value("%m [%p] ") == "'%m [%p] '"


def test_conf_lines_are_sorted_and_refuse_what_cannot_be_written():
    assert postgresql_conf({"work_mem": "4MB", "max_connections": 100, "ssl": True}) == (
        "max_connections = 100\nssl = on\nwork_mem = '4MB'\n"
    )
    with pytest.raises(AnsibleFilterError, match="control character"):
        postgresql_conf({"a": "x\ny"})
    with pytest.raises(AnsibleFilterError, match="not a setting value"):
        postgresql_conf({"a": None})


def test_pgpass_lines_escape_colons_and_backslashes():
    assert postgresql_pgpass("s3cret", "replicator", "replication") == "*:*:replication:replicator:s3cret\n"
    assert postgresql_pgpass("a:b\\c", "rep", host="db1", port=5432) == "db1:5432:*:rep:a\\:b\\\\c\n"
    with pytest.raises(AnsibleFilterError, match="line break"):
        postgresql_pgpass("a\nb", "rep")
    with pytest.raises(AnsibleFilterError, match="must be strings"):
        postgresql_pgpass(None, "rep")
