#!/usr/bin/env bash
# Run ansible-test (sanity or units) the way it insists on: from a copy of the collection laid
# out as .../ansible_collections/backupops/veeam_em (symlinks are resolved and refused), with
# the pip bootstrap script it would otherwise download placed in its cache.
# Usage: tools/ansible-test.sh sanity|units [extra ansible-test args]
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
venv_bin=${VENV_BIN:-$repo/.venv/bin}
dest=${ANSIBLE_TEST_TREE:-${TMPDIR:-/tmp}/backupops-veeam_em-ansible-test}/collections/ansible_collections/backupops/veeam_em

cache=$HOME/.ansible/test/cache
pip_version=$("$venv_bin/python" - <<'PY'
import re, ansible_test, os
src = open(os.path.join(os.path.dirname(ansible_test.__file__), "_internal", "python_requirements.py")).read()
print(re.search(r"pip='([0-9.]+)'", src).group(1))
PY
)
mkdir -p "$cache"
cp "$repo/tools/get_pip_standin.py" "$cache/get_pip_${pip_version//./_}.py"

rm -rf "$dest"
mkdir -p "$dest"
(cd "$repo" && git ls-files -z -co --exclude-standard | tar --null -T - -cf - | tar -xf - -C "$dest")
cd "$dest"
export PATH="$venv_bin:$PATH"
command=$1
shift
exec ansible-test "$command" --local --python 3.11 --color no "$@"
