"""The first hour: the README's own commands work from a checkout, as written.

Every ``ansible-doc ...`` and ``ansible-playbook backupops.veeam_em....`` command the README shows
is run from the repository root with no ``ANSIBLE_*`` variable in the environment (only the
repository's ansible.cfg and the ``.build/collections`` link of ``make link`` may make them work),
and must exit 0 with the documented thing in its output: ansible-doc prints nothing with rc 0 for a
role it cannot find, so rc alone proves nothing. And what a checkout writes next to the playbooks
(reports) or keeps for itself (ansible.cfg) must not end up in ``ansible-galaxy collection build``.
"""
import os
import re
import shlex
import shutil
import subprocess
import sys
import tarfile

import pytest

from collection_layout import REPO_ROOT, link_collection

VENV_BIN = os.path.dirname(sys.executable)
README = os.path.join(REPO_ROOT, "README.md")
FQCN = re.compile(r"backupops\.veeam_em\.\w+")


def clean_env():
    """The environment a newcomer has: no ANSIBLE_* (the test runner sets ANSIBLE_COLLECTIONS_PATH)."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("ANSIBLE_")}
    env["PATH"] = VENV_BIN + os.pathsep + env.get("PATH", "")
    env["ANSIBLE_NOCOLOR"] = "1"  # output only; does not help finding anything
    return env


def readme_commands():
    """The ansible-doc / FQCN ansible-playbook commands of the README: inline code and console lines."""
    with open(README, encoding="utf-8") as handle:
        text = handle.read().replace("\\\n", " ")  # shell line continuations
    found = re.findall(r"`(ansible-doc [^`\n]+)`", text)
    found += re.findall(r"^(ansible-(?:doc|playbook) backupops\.veeam_em\.[^\n#]*)", text, re.MULTILINE)
    commands = []
    for line in found:
        argv = shlex.split(line)
        if argv[0] == "ansible-playbook" and "--syntax-check" not in argv:
            argv.append("--syntax-check")  # the command as shown, without reaching an EM
        if argv not in commands:
            commands.append(argv)
    return commands


def kind(argv):
    if argv[0] == "ansible-playbook":
        return "playbook"
    return argv[argv.index("-t") + 1] if "-t" in argv else "module"


COMMANDS = readme_commands()


def test_the_readme_shows_a_command_of_every_kind():
    # a README edit must not quietly drop what the newcomer needs (module, role, inventory, playbook)
    assert {kind(argv) for argv in COMMANDS} >= {"module", "role", "inventory", "playbook"}, COMMANDS


@pytest.mark.parametrize("argv", COMMANDS, ids=[" ".join(argv) for argv in COMMANDS])
def test_readme_command_works_from_the_checkout(argv):
    link_collection()  # what `make link` / `make demo` do
    proc = subprocess.run(argv, cwd=REPO_ROOT, env=clean_env(), capture_output=True, text=True,
                          timeout=300, check=False)
    output = "%s\n%s" % (proc.stdout[-3000:], proc.stderr[-3000:])
    assert proc.returncode == 0, output
    assert proc.stdout.strip(), output
    assert "could not be found" not in proc.stderr and "not found" not in proc.stderr, output
    name = FQCN.search(" ".join(argv)).group(0)
    if argv[0] == "ansible-doc":
        assert name in proc.stdout, output
    else:
        playbook = name.rsplit(".", 1)[1] + ".yml"
        assert re.search(r"^playbook: .*/playbooks/%s$" % re.escape(playbook), proc.stdout, re.MULTILINE), output


def test_without_the_checkout_config_the_role_is_not_found(tmp_path):
    # the control: from a directory without ansible.cfg the same command does not find the role,
    # so the test above passes because of ansible.cfg, not because of something in the environment
    link_collection()
    env = clean_env()
    env["HOME"] = str(tmp_path)  # no ~/.ansible.cfg or ~/.ansible/collections of the machine
    proc = subprocess.run(["ansible-doc", "-t", "role", "backupops.veeam_em.veeam_em_compliance"],
                          cwd=str(tmp_path), env=env, capture_output=True, text=True, timeout=300, check=False)
    assert "Nightly backup and replication compliance" not in proc.stdout


def test_galaxy_build_leaves_out_reports_and_the_checkout_config(tmp_path):
    tree = tmp_path / "src"
    files = subprocess.run(["git", "ls-files", "-z", "-co", "--exclude-standard"], cwd=REPO_ROOT,
                           capture_output=True, check=True).stdout.decode().split("\0")
    for name in filter(None, files):
        source = os.path.join(REPO_ROOT, name)
        if os.path.isfile(source):
            os.makedirs(str(tree / os.path.dirname(name)), exist_ok=True)
            shutil.copy2(source, str(tree / name))
    # what a run from a checkout leaves behind: the role's old default, make demo's directory
    for leftover in ("playbooks/reports/compliance.json", "reports/compliance.html",
                     "playbooks/examples/reports/compliance.xml"):
        (tree / leftover).parent.mkdir(parents=True, exist_ok=True)
        (tree / leftover).write_text("{}", encoding="utf-8")
    assert (tree / "ansible.cfg").is_file()
    proc = subprocess.run([os.path.join(VENV_BIN, "ansible-galaxy"), "collection", "build", "--output-path",
                           str(tmp_path / "out"), str(tree)], env=clean_env(), capture_output=True, text=True,
                          timeout=300, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (tarball,) = list((tmp_path / "out").iterdir())
    with tarfile.open(str(tarball)) as archive:
        names = archive.getnames()
    assert "playbooks/nightly_compliance.yml" in names  # the build did take the tree
    shipped = [name for name in names if name == "ansible.cfg" or re.search(r"(^|/)reports(/|$)", name)]
    assert shipped == []
