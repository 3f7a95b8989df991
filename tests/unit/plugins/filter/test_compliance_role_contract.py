"""The compliance role and the evaluation filter must agree.

Every policy option of the filter is a role variable with the same default in
defaults/main.yml and meta/argument_specs.yml, and tasks/main.yml passes it on; every role
variable is documented. Drift here would make the role silently evaluate with other values
than the documentation says.
"""
import os
import re

import yaml

from ansible_collections.backupops.veeam_em.plugins.filter.veeam_em_compliance import DEFAULT_POLICY

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "..", ".."))
ROLE = os.path.join(ROOT, "roles", "compliance")
PREFIX = "veeam_em_compliance_"
CONNECTION = {"server", "port", "username", "password", "validate_certs", "ca_path", "timeout", "page_size"}
INTERNAL_OPTIONS = {"read_errors"}  # set by the role itself


def load(*parts):
    with open(os.path.join(ROLE, *parts)) as handle:
        return handle.read()


def role_defaults():
    return yaml.safe_load(load("defaults", "main.yml"))


def spec_options():
    return yaml.safe_load(load("meta", "argument_specs.yml"))["argument_specs"]["main"]["options"]


def test_every_variable_is_prefixed_and_documented():
    defaults, options = role_defaults(), spec_options()
    assert all(name.startswith(PREFIX) for name in list(defaults) + list(options))
    assert set(defaults) <= set(options)
    undocumented_defaults = set(options) - set(defaults)
    assert undocumented_defaults == {PREFIX + name for name in CONNECTION}


def test_defaults_agree_between_defaults_file_and_argument_specs():
    defaults, options = role_defaults(), spec_options()
    for name, value in defaults.items():
        assert options[name].get("default") == value, name


def test_filter_policy_options_are_role_variables_with_the_same_default():
    defaults = role_defaults()
    for option, value in DEFAULT_POLICY.items():
        if option in INTERNAL_OPTIONS:
            continue
        assert defaults[PREFIX + option] == value, option


def test_the_role_passes_every_policy_option_to_the_filter():
    tasks = load("tasks", "main.yml")
    call = tasks[tasks.index("backupops.veeam_em.veeam_em_compliance("):]
    passed = set(re.findall(r"(\w+)=", call[:call.index(") }}")]))
    assert passed == set(DEFAULT_POLICY) | {"replica_sessions", "now", "job_sessions"}


def test_connection_variables_are_omitted_when_undefined():
    read = load("tasks", "read.yml")
    for name in CONNECTION - {"validate_certs"}:
        assert "%s%s | default(omit, true)" % (PREFIX, name) in read, name
    assert "%svalidate_certs | default(omit)" % PREFIX in read
