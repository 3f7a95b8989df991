"""Many Enterprise Managers in one run (issue 19): playbooks/fleet_compliance.yml over three emulators.

em-a and em-b serve the same generated fleet (same seed: the same VM names), em-b with a stricter
per-EM policy from its host variables; em-c refuses the password in the inventory. Checked: the
merged fact and the three fleet reports (fleet first, a section per EM), the per-EM reports in their
own folders, the same VM name on two EMs counted twice, em-c an error while the others' verdicts
still appear, the fleet never compliant, no password anywhere, every logon session closed.
"""
import gzip
import html
import json
import os
import re
import xml.etree.ElementTree as ET

import pytest
import yaml

from collection_layout import REPO_ROOT
from fleet_support import WRONG_PASSWORD, down_host_vars, em_host_vars, emulators, run_fleet, write_inventory

FLEET = {"em-a": dict(vms=24, days=8, seed=11), "em-b": dict(vms=24, days=8, seed=11),
         "em-c": dict(vms=12, days=8, seed=12)}
SUMMED = ("vms_total", "vms_violation", "vms_warning", "vms_compliant", "servers_total", "servers_silent",
          "jobs_total", "violations_total", "warnings_total", "errors_total")


@pytest.fixture(scope="module")
def fleet():
    with emulators(FLEET) as ems:
        yield ems


@pytest.fixture(scope="module")
def fleet_run(fleet, tmp_path_factory):
    base = tmp_path_factory.mktemp("fleet")
    for em in fleet.values():
        em.reset_stats()
    hosts = {"em-a": em_host_vars(fleet["em-a"]),
             "em-b": em_host_vars(fleet["em-b"], veeam_em_compliance_backup_rpo_hours=1),
             "em-c": em_host_vars(fleet["em-c"], password=WRONG_PASSWORD)}
    inventory = write_inventory(base / "inventory.json", hosts)
    report_dir = base / "reports"
    run = run_fleet(inventory, {"veeam_em_fleet_report_dir": str(report_dir)}, forks=3)
    return run, report_dir, fleet


def load(report_dir, *path):
    if path[-1].endswith(".gz"):  # the history cache (issue 18), uncompressed: scanned for secrets like the reports
        with gzip.open(os.path.join(str(report_dir), *path), "rt", encoding="utf-8") as handle:
            return handle.read()
    with open(os.path.join(str(report_dir), *path), encoding="utf-8") as handle:
        return handle.read()


def test_the_fleet_run_fails_on_the_unreadable_em_after_writing_every_report(fleet_run):
    run, report_dir, _ems = fleet_run
    output = run.stdout + run.stderr
    assert run.returncode == 2, output[-4000:]
    assert "Fleet status error: em-c could not be read in full" in output
    for name in ("fleet_compliance.json", "fleet_compliance.xml", "fleet_compliance.html"):
        assert os.path.isfile(os.path.join(str(report_dir), name)), name
    for em in ("em-a", "em-b", "em-c"):
        for name in ("compliance.json", "compliance.xml", "compliance.html"):
            assert os.path.isfile(os.path.join(str(report_dir), em, name)), (em, name)


def test_merged_result_keeps_every_em_and_is_error(fleet_run):
    _run, report_dir, _ems = fleet_run
    fleet = json.loads(load(report_dir, "fleet_compliance.json"))
    per_em = dict((em, json.loads(load(report_dir, em, "compliance.json"))) for em in ("em-a", "em-b", "em-c"))
    assert fleet["status"] == "error"
    assert fleet["compliant"] is False
    entries = dict((entry["em"], entry) for entry in fleet["ems"])
    assert sorted(entries) == ["em-a", "em-b", "em-c"]
    assert entries["em-c"]["status"] == "error"
    assert any("401" in line for line in entries["em-c"]["first_errors"])
    assert [(e["em"], e["code"]) for e in fleet["errors"]] == [("em-c", "em_error")]
    # the readable EMs keep their own verdicts, identical to their own reports
    for em in ("em-a", "em-b"):
        assert entries[em]["status"] == per_em[em]["status"] != "error"
        for key in SUMMED:
            assert entries[em]["summary"][key] == per_em[em]["summary"][key], (em, key)
        assert entries[em]["source"]["em_server"] == per_em[em]["source"]["em_server"]
    assert per_em["em-c"]["status"] == "error"
    for key in SUMMED:
        assert fleet["summary"][key] == sum(per_em[em]["summary"][key] for em in per_em), key
    assert (fleet["summary"]["ems_total"], fleet["summary"]["ems_error"]) == (3, 1)


def test_the_same_vm_name_on_two_ems_stays_two_vms(fleet_run):
    _run, report_dir, ems = fleet_run
    fleet = json.loads(load(report_dir, "fleet_compliance.json"))
    entries = dict((entry["em"], entry) for entry in fleet["ems"])
    names_a = sorted(row["vm_display_name"] for row in entries["em-a"]["vms"])
    names_b = sorted(row["vm_display_name"] for row in entries["em-b"]["vms"])
    assert names_a == names_b and len(names_a) == entries["em-a"]["summary"]["vms_total"] > 0
    assert fleet["summary"]["vms_total"] == 2 * len(names_a) + entries["em-c"]["summary"]["vms_total"]
    # what the emulator holds, per EM: every VM of its dataset judged once on that EM
    dataset_vms = sorted(set(vm["name"] for vm in ems["em-a"].dataset()["vms"]))
    assert sorted(set(names_a)) == dataset_vms


def test_per_em_policy_overrides_come_from_host_variables(fleet_run):
    _run, report_dir, _ems = fleet_run
    policy_a = json.loads(load(report_dir, "em-a", "compliance.json"))["policy"]
    policy_b = json.loads(load(report_dir, "em-b", "compliance.json"))["policy"]
    assert (policy_a["backup_rpo_hours"], policy_b["backup_rpo_hours"]) == (24, 1)
    fleet = json.loads(load(report_dir, "fleet_compliance.json"))
    entries = dict((entry["em"], entry) for entry in fleet["ems"])
    # same data, stricter RPO: more VMs out of policy on em-b
    assert entries["em-b"]["summary"]["vms_violation"] > entries["em-a"]["summary"]["vms_violation"]


def test_junit_and_html_put_the_fleet_first_with_a_section_per_em(fleet_run):
    _run, report_dir, _ems = fleet_run
    fleet = json.loads(load(report_dir, "fleet_compliance.json"))
    junit = ET.fromstring(load(report_dir, "fleet_compliance.xml"))
    suites = junit.findall("testsuite")
    assert suites[0].get("name") == "fleet"
    fleet_cases = suites[0].findall("testcase")
    assert len(fleet_cases) == 3
    errored = [case.get("name") for case in fleet_cases if case.find("error") is not None]
    assert len(errored) == 1 and errored[0].startswith("em-c")
    em_cases = [case for suite in suites[1:] for case in suite.findall("testcase")]
    read_errors = [case.get("name") for case in em_cases if case.get("name").endswith(": Enterprise Manager read")]
    assert read_errors == ["em-c: Enterprise Manager read"]  # the unreadable EM's own suite says so
    assert len(em_cases) - len(read_errors) == fleet["summary"]["vms_total"]
    assert int(junit.get("tests")) == 3 + 1 + fleet["summary"]["vms_total"]
    page = load(report_dir, "fleet_compliance.html")
    assert page.index('class="banner error"') < page.index('<a id="em-0">')
    for entry in fleet["ems"]:
        assert html.escape(entry["em"]) in page
    assert page.count('<a id="em-') == 3
    assert 'href="em-a/compliance.html"' in page


def test_no_password_in_reports_or_output_and_every_session_closed(fleet_run):
    run, report_dir, ems = fleet_run
    texts = [run.stdout, run.stderr]
    for root, _dirs, files in os.walk(str(report_dir)):
        texts += [load(root, name) for name in files]
    everything = "\n".join(texts)
    assert WRONG_PASSWORD not in everything
    assert ems["em-a"].password not in everything
    for em in ems.values():
        assert em.stats()["open_sessions"] == 0


def test_an_em_that_is_down_is_an_error_and_the_fleet_is_never_compliant(fleet, tmp_path):
    hosts = {"em-a": em_host_vars(fleet["em-a"], veeam_em_compliance_backup_rpo_hours=10000,
                                  veeam_em_compliance_max_duration_minutes=100000,
                                  veeam_em_compliance_stuck_hours=100000),
             "em-down": down_host_vars()}
    inventory = write_inventory(tmp_path / "inventory.json", hosts)
    run = run_fleet(inventory, {"veeam_em_fleet_report_dir": str(tmp_path / "r"), "veeam_em_compliance_timeout": 5,
                                "veeam_em_fleet_fail_on_violation": False})
    fleet_result = json.loads(load(tmp_path / "r", "fleet_compliance.json"))
    entries = dict((entry["em"], entry) for entry in fleet_result["ems"])
    assert run.returncode == 2, (run.stdout + run.stderr)[-3000:]
    assert entries["em-down"]["status"] == "error"
    assert entries["em-a"]["status"] != "error"
    assert fleet_result["status"] == "error"
    assert fleet_result["compliant"] is False


def test_one_shared_account_from_the_environment_but_never_the_environment_server(fleet, tmp_path):
    """Username and password from VEEAM_EM_* (one AWX credential for every EM); the server from the host."""
    em_a, em_b = fleet["em-a"], fleet["em-b"]
    host = {"veeam_em_server": em_b.host, "veeam_em_port": em_b.port, "veeam_em_ca_path": em_b.ca_file,
            "ansible_python_interpreter": em_host_vars(em_b)["ansible_python_interpreter"]}
    inventory = write_inventory(tmp_path / "inventory.json", {"em-b": host})
    env = {"VEEAM_EM_SERVER": em_a.base_url, "VEEAM_EM_PORT": str(em_a.port), "VEEAM_EM_CA_PATH": em_a.ca_file,
           "VEEAM_EM_USERNAME": em_b.username, "VEEAM_EM_PASSWORD": em_b.password}
    em_a.reset_stats()
    em_b.reset_stats()
    run = run_fleet(inventory, {"veeam_em_fleet_report_dir": str(tmp_path / "r"),
                                "veeam_em_fleet_fail_on_violation": False}, env=env)
    assert run.returncode == 0, (run.stdout + run.stderr)[-3000:]
    assert em_a.stats()["requests_total"] == 0
    assert em_b.stats()["requests_total"] > 0
    fleet_result = json.loads(load(tmp_path / "r", "fleet_compliance.json"))
    assert [entry["em"] for entry in fleet_result["ems"]] == ["em-b"]
    assert fleet_result["ems"][0]["source"]["em_server"] == em_b.base_url


def test_a_limit_without_the_merge_host_is_refused_before_any_read(fleet, tmp_path):
    """--limit em-a alone would skip the merge play (localhost): no fleet verdict, said by nobody."""
    inventory = write_inventory(tmp_path / "inventory.json", {"em-a": em_host_vars(fleet["em-a"])})
    fleet["em-a"].reset_stats()
    refused = run_fleet(inventory, {"veeam_em_fleet_report_dir": str(tmp_path / "r")}, limit="em-a")
    assert refused.returncode == 2
    assert "leaves out localhost, where the fleet verdict is merged" in refused.stdout + refused.stderr
    assert fleet["em-a"].stats()["requests_total"] == 0
    run = run_fleet(inventory, {"veeam_em_fleet_report_dir": str(tmp_path / "r"),
                                "veeam_em_fleet_fail_on_violation": False}, limit="em-a,localhost")
    assert run.returncode == 0, (run.stdout + run.stderr)[-3000:]
    assert [e["em"] for e in json.loads(load(tmp_path / "r", "fleet_compliance.json"))["ems"]] == ["em-a"]


def test_hostile_host_names_keep_their_reports_apart_and_inside_the_report_dir(fleet, tmp_path):
    """'..' must not write into the parent of the report dir, '.' not into the fleet's own folder;
    'em lon' and 'em_lon' (or two unicode names) must not share a folder (one would overwrite the
    other's reports and history); every fleet link to an EM's report must open that EM's report."""
    names = ["..", ".", "em lon", "em_lon", u"em-\u6771\u4eac", u"em-\u5927\u962a"]
    hosts = dict((name, em_host_vars(fleet["em-a"])) for name in names)
    inventory = write_inventory(tmp_path / "inventory.json", hosts)
    base = tmp_path / "out"
    report_dir = base / "reports"
    run = run_fleet(inventory, {"veeam_em_fleet_report_dir": str(report_dir),
                                "veeam_em_fleet_fail_on_violation": False}, forks=6)
    assert run.returncode == 0, (run.stdout + run.stderr)[-3000:]
    assert sorted(os.listdir(str(base))) == ["reports"]
    fleet_result = json.loads(load(report_dir, "fleet_compliance.json"))
    htmls = dict((entry["em"], entry["reports"]["html"]) for entry in fleet_result["ems"])
    assert sorted(htmls) == sorted(names)
    folders = [os.path.dirname(os.path.realpath(path)) for path in htmls.values()]
    assert len(set(folders)) == len(names), htmls
    for folder in folders:
        assert os.path.dirname(folder) == os.path.realpath(str(report_dir)), folders
    page = load(report_dir, "fleet_compliance.html")
    for name, path in htmls.items():
        href = os.path.relpath(path, str(report_dir))
        assert 'href="%s"' % html.escape(href) in page, (name, href)
        assert os.path.isfile(os.path.join(str(report_dir), href)), (name, href)


def readme_fleet_inventory():
    """The README's example inventory (the ``# fleet.yml`` block), its !vault value read as a plain string."""
    with open(os.path.join(REPO_ROOT, "README.md"), encoding="utf-8") as handle:
        block = re.search(r"```yaml\n# fleet.yml\n(.*?)```", handle.read(), re.S).group(1)
    loader = type("VaultLoader", (yaml.SafeLoader,), {})
    loader.add_constructor("!vault", lambda load, node: load.construct_scalar(node))
    return yaml.load(block, Loader=loader)  # nosec - SafeLoader plus one scalar tag


def test_the_readme_inventory_group_vars_run_the_modules_with_the_playbooks_python(fleet, tmp_path):
    """A newcomer copies the README's inventory: its EM hosts are inventory hosts, not the implicit
    localhost, so without ansible_python_interpreter Ansible discovers the system Python (no
    requests/xmltodict, or none at all) and every EM comes out as 'Module result deserialization
    failed'. Only the connection of each host is replaced here; the group vars are the README's."""
    group_vars = readme_fleet_inventory()["veeam_em"]["vars"]
    host = em_host_vars(fleet["em-a"], veeam_em_compliance_backup_rpo_hours=10000)
    del host["ansible_python_interpreter"]
    inventory = write_inventory(tmp_path / "inventory.json", {"em-a": host}, group_vars=group_vars)
    run = run_fleet(inventory, {"veeam_em_fleet_report_dir": str(tmp_path / "r"),
                                "veeam_em_fleet_fail_on_violation": False})
    fleet_result = json.loads(load(tmp_path / "r", "fleet_compliance.json"))
    assert fleet_result["ems"][0]["status"] != "error", fleet_result["ems"][0]["first_errors"]
    assert run.returncode == 0, (run.stdout + run.stderr)[-3000:]


def test_an_em_whose_role_fails_before_reading_is_an_error_and_the_fleet_report_still_comes(fleet, tmp_path):
    """A bad host variable (port 'not-a-port') fails the role's argument validation: that EM has no
    veeam_em_compliance_result at all. The merge must still run: that EM an error, the other EM's
    verdict in the fleet report (it crashed on the missing VM rows of the failed EM)."""
    bad = em_host_vars(fleet["em-c"], veeam_em_port="not-a-port")
    inventory = write_inventory(tmp_path / "inventory.json", {"em-a": em_host_vars(fleet["em-a"]), "em-bad": bad})
    run = run_fleet(inventory, {"veeam_em_fleet_report_dir": str(tmp_path / "r"),
                                "veeam_em_fleet_fail_on_violation": False})
    output = run.stdout + run.stderr
    assert run.returncode == 2, output[-3000:]
    assert "Fleet status error: em-bad could not be read in full" in output, output[-3000:]
    fleet_result = json.loads(load(tmp_path / "r", "fleet_compliance.json"))
    entries = dict((entry["em"], entry) for entry in fleet_result["ems"])
    assert entries["em-bad"]["status"] == "error"
    assert entries["em-a"]["status"] in ("compliant", "violation"), entries["em-a"]
    assert entries["em-a"]["summary"]["vms_total"] == FLEET["em-a"]["vms"]
    assert fleet_result["status"] == "error"


def test_a_limit_in_colon_syntax_with_the_merge_host_is_not_refused(fleet, tmp_path):
    """'em-a:localhost' is Ansible's other way to write 'em-a,localhost' (host patterns separated by ':'):
    it includes the merge host and must run, not be refused as leaving it out."""
    inventory = write_inventory(tmp_path / "inventory.json", {"em-a": em_host_vars(fleet["em-a"])})
    run = run_fleet(inventory, {"veeam_em_fleet_report_dir": str(tmp_path / "r"),
                                "veeam_em_fleet_fail_on_violation": False}, limit="em-a:localhost")
    assert run.returncode == 0, (run.stdout + run.stderr)[-3000:]
    assert [e["em"] for e in json.loads(load(tmp_path / "r", "fleet_compliance.json"))["ems"]] == ["em-a"]


def test_a_relative_fleet_report_dir_is_refused_before_any_read(fleet, tmp_path):
    """-e veeam_em_fleet_report_dir=reports would be resolved against the playbook's folder (the installed
    collection, AWX's job folder, the checkout's playbooks/), not where ansible-playbook was started."""
    inventory = write_inventory(tmp_path / "inventory.json", {"em-a": em_host_vars(fleet["em-a"])})
    fleet["em-a"].reset_stats()
    name = "g17-relative-fleet-reports"
    run = run_fleet(inventory, {"veeam_em_fleet_report_dir": name})
    output = run.stdout + run.stderr
    assert run.returncode == 2, output[-3000:]
    assert "veeam_em_fleet_report_dir=%s: must be an absolute path" % name in output, output[-3000:]
    assert fleet["em-a"].stats()["requests_total"] == 0
    for folder in (REPO_ROOT, os.path.join(REPO_ROOT, "playbooks"), os.path.join(REPO_ROOT, "playbooks", "tasks")):
        assert not os.path.exists(os.path.join(folder, name)), folder


# The artifact one slice published (set_stats), as the merge node gets it; the other slice died with its node.
ARTIFACT = {"veeam_em_fleet_em_em_a_0123abcd": {
    "em": "em-a", "status": "compliant", "source": {"em_server": "https://em-a:9398", "username": "svc"},
    "generated_at": "2026-11-29T02:00:00Z", "window": {"start": "2026-11-22T02:00:00Z", "end": "2026-11-29T02:00:00Z"},
    "summary": {"vms_total": 10, "vms_compliant": 10}, "first_violations": [], "violations_omitted": 0,
    "first_errors": [], "errors_omitted": 0, "reports": {}}}


@pytest.mark.parametrize("inventory, expected, rc, status", [
    ({"em-a": {}, "em-b": {}}, None, 2, "error"),         # the EM job's inventory: em-b's part is missing
    ({}, None, 2, None),                                  # no EM group (a localhost inventory): refused, no verdict
    ({}, ["em-a"], 0, "compliant"),                       # the EMs named outright
])
def test_the_merge_alone_knows_which_ems_must_report(tmp_path, inventory, expected, rc, status):
    """Found by attack (session 15): the AWX merge node run on a localhost-only inventory knew no EM that must
    report, so the EMs whose slice published nothing were left out and the fleet was compliant."""
    from fleet_support import MERGE_PLAYBOOK
    # the artifact's night replayed (the merge measures the parts' ages from this now, else from the clock)
    extra = dict(ARTIFACT, veeam_em_fleet_report_dir=str(tmp_path / "fleet"), veeam_em_compliance_now="2026-11-29T02:00:00Z")
    if expected is not None:
        extra["veeam_em_fleet_expected"] = expected
    run = run_fleet(write_inventory(tmp_path / "inventory.json", inventory), extra, playbook=MERGE_PLAYBOOK)
    assert run.returncode == rc, run.stdout[-3000:]
    if status is None:
        assert "knows no Enterprise Manager that must report" in run.stdout
        assert not (tmp_path / "fleet").exists()
    else:
        assert json.loads(load(tmp_path / "fleet", "fleet_compliance.json"))["status"] == status


def test_a_merge_relaunched_with_old_artifacts_is_an_error_not_their_verdict(tmp_path):
    """Found by review (session 16): an AWX merge node relaunched days later with its old artifacts merged them as
    tonight's (the parts' ages were measured from the newest part, as old as they). Measured from the clock, the
    part is an error of its EM, its age said, and the merge fails."""
    from fleet_support import MERGE_PLAYBOOK
    extra = dict(ARTIFACT, veeam_em_fleet_report_dir=str(tmp_path / "fleet"), veeam_em_fleet_expected=["em-a"])
    run = run_fleet(write_inventory(tmp_path / "inventory.json", {}), extra, playbook=MERGE_PLAYBOOK)
    assert run.returncode == 2, run.stdout[-3000:]
    fleet = json.loads(load(tmp_path / "fleet", "fleet_compliance.json"))
    assert fleet["status"] == "error" and [error["code"] for error in fleet["errors"]] == ["stale_part"]
    assert "(generated at 2026-11-29T02:00:00Z; max_part_age_hours=12.0)" in fleet["errors"][0]["message"]


@pytest.mark.parametrize("override", ["server", "report_dir"])
def test_extra_vars_that_would_set_every_ems_server_or_folder_are_refused(fleet, tmp_path, override):
    """Found by attack (session D): fleet_em.yml gives each EM its server and report folder as include_role vars, which
    extra vars outrank. A fleet job template carrying the nightly template's veeam_em_compliance_server (with its port
    and CA) read em-a once per host: em-b, down, was judged compliant from em-a's data and the play ended green; a
    veeam_em_compliance_report_dir made every EM write the same compliance.json."""
    em_a = fleet["em-a"]
    hosts = {"em-a": em_host_vars(em_a), "em-b": down_host_vars()}
    inventory = write_inventory(tmp_path / "inventory.json", hosts)
    extra = {"veeam_em_fleet_report_dir": str(tmp_path / "reports"), "veeam_em_fleet_fail_on_violation": False}
    if override == "server":
        extra.update(veeam_em_compliance_server="https://%s:%d" % (em_a.host, em_a.port),
                     veeam_em_compliance_ca_path=em_a.ca_file)
    else:
        extra.update(veeam_em_compliance_report_dir=str(tmp_path / "one"))
    result = run_fleet(inventory, extra)
    assert result.returncode != 0, result.stdout[-3000:]
    assert "veeam_em_compliance_%s is given as an extra var" % override in result.stdout, result.stdout[-3000:]
    # refused before any EM is read
    assert not (tmp_path / "one").exists() and not (tmp_path / "reports" / "em-a").exists()


@pytest.mark.parametrize("name, value", [("veeam_em_fleet_fail_on_violation", ""),
                                         ("veeam_em_fleet_fail_on_violation", "ture"),
                                         ("veeam_em_fleet_merge", ""),
                                         ("veeam_em_fleet_merge", "nope")])
def test_a_fleet_switch_that_is_no_boolean_is_refused_not_read_as_false(fleet, tmp_path, name, value):
    """Found by attack (session D): the fleet playbooks read their switches with `| bool`, which takes "" (an AWX survey
    answer left empty) and any misspelling for false: veeam_em_fleet_fail_on_violation="" ended a fleet with
    violations green, veeam_em_fleet_merge="" skipped the merge - no fleet verdict, and the per-EM runs never fail."""
    hosts = {"em-a": em_host_vars(fleet["em-a"], veeam_em_compliance_backup_rpo_hours=1)}
    inventory = write_inventory(tmp_path / "inventory.json", hosts)
    result = run_fleet(inventory, {"veeam_em_fleet_report_dir": str(tmp_path / "reports"), name: value})
    assert result.returncode != 0, result.stdout[-3000:]
    assert '%s=\\"%s\\" is not a boolean' % (name, value) in result.stdout, result.stdout[-3000:]
    assert "Fleet status" not in result.stdout  # refused before any EM is read


def test_tags_that_skip_the_fleet_merge_fail_instead_of_ending_green(fleet, tmp_path):
    """Found by attack (session D): --tags (AWX job tags) naming none of the fleet's tasks ended green, no verdict."""
    hosts = {"em-a": em_host_vars(fleet["em-a"], veeam_em_compliance_backup_rpo_hours=1)}
    inventory = write_inventory(tmp_path / "inventory.json", hosts)
    result = run_fleet(inventory, {"veeam_em_fleet_report_dir": str(tmp_path / "reports")}, options=["--tags", "deliver"])
    assert result.returncode != 0, result.stdout[-3000:]
    assert "skipped by the run's tags" in result.stdout
