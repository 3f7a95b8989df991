"""Attack (session 15): scope patterns and CMDB entries spelled otherwise than EM's names dropped VMs in silence.

* The list options' comma-separated form (an AWX survey, ``-e key=value``) is split by Ansible on the comma only:
  "sql*, web*" is ["sql*", " web*"], and " web*" matched no VM - a failed web VM was out of the scope, the run
  compliant. Patterns are stripped; an empty one (a trailing comma) is refused, naming the option.
* A VM name with brackets ("sql01 [DR]", allowed by vSphere) written literally in include_vms is a glob whose
  "[DR]" is a set of two characters: the VM was never judged, even when expected. A pattern equal to a name
  matches it.
* expected._expected_in_scope judged a CMDB entry's own text against include_vms / include_servers, while the
  sessions are scoped by EM's names: a short CMDB name under a domain glob, an FQDN under a short-name glob, a
  backup server given by UID, a name with a space before it - each entry dropped before matching, a VM with no
  backup at all compliant. An entry is in the scope now when a name it stands for (names_match) may be.
"""
import fnmatch
import itertools

import pytest

from ansible.module_utils.common.validation import check_type_list
from ansible_collections.backupops.veeam_em.plugins.module_utils.em_compliance import evaluate
from ansible_collections.backupops.veeam_em.plugins.module_utils.em_errors import ComplianceInputError
from ansible_collections.backupops.veeam_em.plugins.module_utils._compliance.policy import (
    may_match_a_name_starting)
from unit.plugins.module_utils.compliance.conftest import build_session as session

NOW = "2025-06-05T06:00:00Z"
SERVER_UID = "urn:veeam:BackupServer:11111111-2222-3333-4444-555555555555"


def rows(result):
    return dict((row["vm_display_name"], row) for row in result["vms"])


# ---- patterns as a person types them ---------------------------------------------------------------------------

def test_ansible_splits_a_comma_separated_text_on_the_comma_only():
    assert check_type_list("sql*, web*") == ["sql*", " web*"]   # what the module's list options make of a text


@pytest.mark.parametrize("option, text, failed", [
    ("include_vms", "sql*, web*", {"vm": "web01"}),
    ("include_servers", "vbr01.example.com, vbr02.example.com", {"vm": "web01", "server": "vbr02.example.com"}),
    ("include_jobs", "Backup Job 1, Web Job", {"vm": "web01", "job": "Web Job"}),
])
def test_a_pattern_with_a_space_before_it_still_selects(option, text, failed):
    sessions = [session(vm="sql01", server="vbr01.example.com"), session(result="Failed", **failed)]
    result = evaluate(sessions, now=NOW, **{option: check_type_list(text)})
    assert result["compliant"] is False and rows(result)["web01"]["status"] == "violation"
    assert result["policy"][option] == [part.strip() for part in text.split(",")]


@pytest.mark.parametrize("option", ["include_vms", "exclude_vms", "include_jobs", "exclude_jobs", "include_servers",
                                    "exclude_servers", "known_backup_servers"])
def test_an_empty_pattern_is_refused_naming_the_option(option):
    with pytest.raises(ComplianceInputError, match="%s holds an empty pattern" % option):
        evaluate([session()], now=NOW, **{option: check_type_list("sql*, ")})


def test_a_pattern_that_is_not_a_text_is_refused():
    with pytest.raises(ComplianceInputError, match="include_vms must be a list of names or glob patterns"):
        evaluate([session()], now=NOW, include_vms=[{"name": "sql01"}])


def test_a_vm_name_with_brackets_written_literally_is_judged():
    sessions = [session(vm="db01"), session(vm="sql01 [DR]", result="Failed")]
    result = evaluate(sessions, now=NOW, include_vms=["db01", "sql01 [DR]"], expected_vms=["sql01 [DR]"])
    assert result["compliant"] is False
    assert rows(result)["sql01 [DR]"]["status"] == "violation" and rows(result)["sql01 [DR]"]["expected"] is True
    # as a glob it still selects what it selected before
    assert set(rows(evaluate(sessions + [session(vm="sql01 D")], now=NOW, include_vms=["sql01 [DR]"]))) == \
        {"sql01 [DR]", "sql01 D"}


# ---- CMDB entries under the scope ------------------------------------------------------------------------------

def test_short_cmdb_names_under_a_domain_glob_are_judged():
    sessions = [session(vm="sql01.corp.example.com")]
    result = evaluate(sessions, now=NOW, expected_vms=["sql01", "sql02"], include_vms=["*.corp.example.com"])
    assert result["compliant"] is False
    assert rows(result)["sql02"]["reasons"] == ["never_backed_up"]
    assert rows(result)["sql01.corp.example.com"]["expected"] is True


def test_an_fqdn_cmdb_name_under_a_short_name_glob_is_judged():
    result = evaluate([session(vm="sql01")], now=NOW, expected_vms=["sql02.corp.example.com"], include_vms=["sql0?"])
    assert result["compliant"] is False and rows(result)["sql02.corp.example.com"]["reasons"] == ["never_backed_up"]


def test_a_cmdb_name_with_spaces_around_it_under_a_glob_is_judged():
    expected = check_type_list("sql01, sql02")
    result = evaluate([session(vm="sql01")], now=NOW, expected_vms=expected, include_vms=["sql*"])
    assert result["compliant"] is False and rows(result)["sql02"]["reasons"] == ["never_backed_up"]


def test_a_cmdb_entry_pinned_to_a_backup_server_by_uid_is_judged_under_server_names():
    sessions = [session(vm="sql01", server="vbr01.example.com", server_uid=SERVER_UID)]
    expected = [{"name": "sql02", "backup_server": SERVER_UID}, {"name": "sql01", "backup_server": SERVER_UID}]
    result = evaluate(sessions, now=NOW, expected_vms=expected, include_servers=["vbr01.example.com"])
    assert result["compliant"] is False
    assert rows(result)["sql02"]["reasons"] == ["never_backed_up"] and rows(result)["sql01"]["expected"] is True


@pytest.mark.parametrize("entry, options", [
    ("web01", {"include_vms": ["sql*"]}),                                 # another name
    ("sql02.other.example.com", {"include_vms": ["*.corp.example.com"]}),  # fqdn: two FQDNs must be equal
    ("sql02", {"include_vms": ["*.corp.example.com"], "expected_vm_match": "exact"}),
    ("sql02", {"exclude_vms": ["sql0*"]}),
    ({"name": "sql02", "backup_server": "vbr09.example.com"}, {"include_servers": ["vbr01*"]}),
    ({"name": "sql02", "backup_server": SERVER_UID}, {"exclude_servers": [SERVER_UID]}),
])
def test_a_cmdb_entry_out_of_the_scope_stays_out(entry, options):
    result = evaluate([session(vm="sql01", server="vbr01.example.com")], now=NOW, expected_vms=[entry], **options)
    name = entry["name"] if isinstance(entry, dict) else entry
    assert name not in rows(result)


def test_under_short_matching_a_cmdb_fqdn_stands_for_any_domain():
    result = evaluate([session(vm="sql01.corp.example.com")], now=NOW, expected_vms=["sql02.lab.example.net"],
                      include_vms=["*.corp.example.com"], expected_vm_match="short")
    assert rows(result)["sql02.lab.example.net"]["reasons"] == ["never_backed_up"]


# ---- the glob prefix question ----------------------------------------------------------------------------------

@pytest.mark.parametrize("pattern, prefix, may", [
    ("*.corp.example.com", "sql02.", True), ("sql0?", "sql02.", False), ("[st]ql*", "sql02.", True),
    ("web*", "sql02.", False), ("SQL*", "sql02.", True), ("sql02", "sql02.", False), ("[!s]*", "sql02.", False),
    ("sql02.[", "sql02.", True), ("*", "", True), ("", "", True), ("", "a", False),
])
def test_may_match_a_name_starting(pattern, prefix, may):
    assert may_match_a_name_starting(pattern, prefix) is may


def test_may_match_never_says_no_where_a_name_matches():
    """Over every pattern of up to four tokens over a small alphabet and every prefix of up to three characters:
    where fnmatch matches some name prefix + rest (rest up to three characters), the answer is yes."""
    rests = ["".join(chars) for size in range(4) for chars in itertools.product("ab.", repeat=size)]
    prefixes = ["".join(chars) for size in range(4) for chars in itertools.product("ab.", repeat=size)]
    for size in range(5):
        for tokens in itertools.product(["a", "b", ".", "*", "?", "[ab]", "[!a]"], repeat=size):
            pattern = "".join(tokens)
            for prefix in prefixes:
                if any(fnmatch.fnmatchcase(prefix + rest, pattern) for rest in rests):
                    assert may_match_a_name_starting(pattern, prefix), (pattern, prefix)


# ---- an include pattern that selects nothing is said (rules.scope_unmatched) ------------------------------------

def _scope_warnings(result):
    return [item["message"] for item in result["warnings"] if item["code"] == "scope_unmatched"]


@pytest.mark.parametrize("option, patterns, unmatched", [
    ("include_vms", ["web*", "db*"], 'include_vms pattern "db*" selects no VM'),
    ("include_servers", ["vbr01*", "vbr09*"], 'include_servers pattern "vbr09*" selects no backup server'),
    ("include_jobs", ["Backup*", "Nightly*"], 'include_jobs pattern "Nightly*" selects no job'),
])
def test_an_include_pattern_that_selects_nothing_is_a_warning(option, patterns, unmatched):
    """VMs that left EM (30 days without sessions, FACTS 6) or a typo: the run judged less than it was asked to."""
    result = evaluate([session(vm="web01", server="vbr01.example.com", job="Backup Job 1")], now=NOW,
                      **{option: patterns})
    assert [text.split(" of EM")[0] for text in _scope_warnings(result)] == [unmatched]
    assert result["status"] == "warning" and result["summary"]["reasons"]["scope_unmatched"] == 1


def test_a_pattern_that_selects_only_excluded_vms_is_no_warning():
    result = evaluate([session(vm="web01"), session(vm="tmp-01")], now=NOW, include_vms=["web*", "tmp-*"],
                      exclude_vms=["TMP-*"])
    assert _scope_warnings(result) == [] and result["status"] == "compliant"


def test_a_named_vm_is_a_row_of_its_own_not_a_pattern_warning():
    result = evaluate([session(vm="web01")], now=NOW, include_vms=["web*", "db02"])
    assert _scope_warnings(result) == [] and rows(result)["db02"]["reasons"] == ["never_backed_up"]


def test_no_pattern_warning_when_nothing_was_read():
    result = evaluate([], now=NOW, include_vms=["web*"])
    assert _scope_warnings(result) == [] and result["summary"]["no_data"] is True


def test_a_pattern_matched_by_an_expected_vms_row_is_no_warning():
    result = evaluate([session(vm="web01")], now=NOW, include_vms=["web*", "db*"], expected_vms=["db01"])
    assert _scope_warnings(result) == [] and rows(result)["db01"]["reasons"] == ["never_backed_up"]
