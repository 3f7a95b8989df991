#!/usr/bin/env bash
# Prove each ansible-core minor version that meta/runtime.yml claims: for every version given
# (default: the older lines we claim; 2.19 is what .venv and `make test` use), in its own venv
# .build/compat/<version> (ansible-core ~=<version>.0 from PyPI, cached by a stamp):
#   1. ansible-test sanity --local --python X.Y (the venv's: 3.11; tools/ansible-test.sh, own tree)
#   2. ansible-test units  --local --python X.Y
#   3. an end-to-end smoke: tests/integration run with that venv's python, so ansible-playbook
#      and ansible-runner come from that ansible-core (modules, module_defaults, the compliance
#      playbook and role, the AWX/ansible-runner run), against the bundled HTTPS emulator.
# Versions run one after another: ansible-test's own venvs under ~/.ansible/test are shared
# between ansible-test versions and must not be created concurrently.
# Every step runs even if an earlier one failed; the exit status is non-zero if any failed.
# Logs: .build/compat/logs/<version>-<step>.log (the tail is printed on failure).
# Usage: tools/compat.sh [2.16 2.17 2.18 ...]
# Env:   COMPAT_PYTHON (default python3.11; for 2.20+ the first python3.1[2-4] that runs, as
#        ansible-core 2.20 needs Python >= 3.12, e.g. COMPAT_PYTHON=~/.pyenv/versions/3.12.1/bin/python3),
#        COMPAT_STEPS (default "sanity units integration"),
#        COMPAT_PYTEST_ARGS (replaces the default integration selection).
set -uo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo" || exit 2

default_versions=(2.16 2.17 2.18)
if [ $# -gt 0 ]; then versions=("$@"); else versions=("${default_versions[@]}"); fi
read -r -a steps <<< "${COMPAT_STEPS:-sanity units integration}"

# What the tests need besides ansible-core (requirements-dev.txt minus the 2.19-only tooling):
# the collection's runtime requirements, pytest (+ xdist and mock, which ansible-test units
# expects to find with --local), trustme/cryptography for the emulator's TLS, ansible-runner.
extra_packages=("pytest>=8,<10" "pytest-xdist>=3.5" "pytest-mock" "mock"
                "trustme>=1.1" "cryptography>=42" "ansible-runner>=2.4,<2.5")
# The integration subset: everything that drives ansible-playbook/ansible-runner (the fleet playbooks
# and AWX slicing included), minus the
# fault-injection matrices (the same client code, already covered on 2.19) and the Chromium
# screenshots (they check the HTML, not Ansible).
integration_selection=(tests/integration/test_modules_integration.py
                       tests/integration/test_resources_modules.py
                       tests/integration/test_compliance_role.py
                       tests/integration/test_compliance_info.py
                       tests/integration/test_awx_runner.py
                       tests/integration/test_fleet_compliance.py
                       tests/integration/test_awx_fleet_slicing.py
                       -k "not test_faults_are_survived and not test_bad_responses_fail_cleanly and not chromium and not sideways_scroll and not new_recurring_and_resolved")

log_dir=$repo/.build/compat/logs
mkdir -p "$log_dir"
tree_root=${TMPDIR:-/tmp}  # ansible-test skips every file if its tree sits in a git-ignored dir

# The interpreter a version's venv is built from, and its X.Y (what ansible-test --python gets).
python_for() {
  local minor=${1#2.}
  if [ -n "${COMPAT_PYTHON:-}" ]; then
    echo "$COMPAT_PYTHON"
  elif [ "$minor" -ge 20 ]; then  # ansible-core 2.20+ needs Python 3.12+ on the controller
    for candidate in python3.14 python3.13 python3.12; do
      if "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2> /dev/null; then
        echo "$candidate"
        return
      fi
    done
    echo "compat: ansible-core $1 needs Python >= 3.12; set COMPAT_PYTHON" >&2
    echo python3.12
  else
    command -v python3.11 || echo python3
  fi
}

# Create or reuse .build/compat/<version>; the stamp changes with what would be installed.
ensure_venv() {
  local version=$1 venv=$repo/.build/compat/$1 python stamp
  python=$(python_for "$version")
  stamp=$venv/.installed-$( { echo "$version" "${extra_packages[*]}"; cat requirements.txt; } | cksum | cut -d' ' -f1)
  [ -e "$stamp" ] && return 0
  rm -rf "$venv"
  "$python" -m venv "$venv" &&
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip &&
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
      "ansible-core~=${version}.0" -r requirements.txt "${extra_packages[@]}" &&
    touch "$stamp"
}

run_step() {
  local version=$1 step=$2 venv=$repo/.build/compat/$1 pyver
  pyver=$("$venv/bin/python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
  case $step in
    sanity|units)
      VENV_BIN=$venv/bin ANSIBLE_TEST_TREE=$tree_root/backupops-veeam_em-compat-$version \
        tools/ansible-test.sh "$step" --python "$pyver" ;;
    integration)
      if [ -n "${COMPAT_PYTEST_ARGS:-}" ]; then
        read -r -a selection <<< "$COMPAT_PYTEST_ARGS"
      else
        selection=("${integration_selection[@]}")
      fi
      "$venv/bin/python" -m pytest -p no:cacheprovider -q -n 2 "${selection[@]}" ;;
    *) echo "unknown step $step" >&2; return 2 ;;
  esac
}

failed=0
summary=()
for version in "${versions[@]}"; do
  if ! [[ $version =~ ^2\.[0-9]+$ ]]; then
    echo "compat: '$version' is not an ansible-core minor version like 2.17" >&2
    exit 2
  fi
  result=PASS
  details=()
  start=$SECONDS
  echo "=== ansible-core $version: venv"
  if ! ensure_venv "$version" > "$log_dir/$version-venv.log" 2>&1; then
    tail -n 30 "$log_dir/$version-venv.log"
    result=FAIL
    details+=("venv FAIL $((SECONDS - start))s")
  else
    details+=("venv $((SECONDS - start))s")
    "$repo/.build/compat/$version/bin/python" -c \
      'import sys; from ansible.release import __version__ as v; print("ansible-core", v, "on Python", sys.version.split()[0])'
    for step in "${steps[@]}"; do
      echo "=== ansible-core $version: $step"
      step_start=$SECONDS
      if run_step "$version" "$step" > "$log_dir/$version-$step.log" 2>&1; then
        details+=("$step ok $((SECONDS - step_start))s")
      else
        tail -n 40 "$log_dir/$version-$step.log"
        echo "(full log: $log_dir/$version-$step.log)"
        details+=("$step FAIL $((SECONDS - step_start))s")
        result=FAIL
      fi
    done
  fi
  [ "$result" = PASS ] || failed=1
  summary+=("compat ansible-core $version: $result in $((SECONDS - start))s ($(IFS=,; echo "${details[*]}"))")
done

printf '%s\n' "${summary[@]}"
exit "$failed"
