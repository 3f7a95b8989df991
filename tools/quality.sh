#!/usr/bin/env bash
# The community tools that judge a collection, each failing this script on any finding:
# ansible-lint (production profile), antsibull-docs, antsibull-changelog, galaxy-importer on the
# built tarball, and ansible-builder (introspect + create of the example EE).
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
bin=${VENV_BIN:-$repo/.venv/bin}
export PATH="$bin:$PATH"
work=$(mktemp -d "${TMPDIR:-/tmp}/veeam_em-quality.XXXXXX")
trap 'rm -rf "$work"' EXIT
cd "$repo"
export ANSIBLE_COLLECTIONS_PATH="$repo/.build/collections"
"$bin/python" -c "import sys; sys.path.insert(0, 'tests'); import collection_layout; collection_layout.link_collection()"

step() { printf '\n== %s\n' "$*"; }

step "ansible-lint --profile production (the whole tree, as galaxy-importer sees it)"
ansible-lint --offline --nocolor --profile production

step "antsibull-docs lint-collection-docs"
(cd "$ANSIBLE_COLLECTIONS_PATH/ansible_collections/backupops/veeam_em" && antsibull-docs lint-collection-docs --plugin-docs .)

step "antsibull-changelog lint"
antsibull-changelog lint

step "ansible-doc renders every plugin and role"
for module in plugins/modules/*.py; do
  name=$(basename "$module" .py)
  ansible-doc -t module "backupops.veeam_em.$name" > /dev/null
done
for filter in plugins/filter/*.yml; do
  ansible-doc -t filter "backupops.veeam_em.$(basename "$filter" .yml)" > /dev/null
done
ansible-doc -t inventory backupops.veeam_em.veeam_em > /dev/null
ansible-doc -t role backupops.veeam_em.veeam_em_compliance > /dev/null
ansible-doc -t role backupops.veeam_em.compliance > /dev/null

step "galaxy-importer on the built tarball"
ansible-galaxy collection build --force --output-path "$work" . > /dev/null
cat > "$work/galaxy-importer.cfg" <<'CFG'
[galaxy-importer]
LOG_LEVEL_MAIN = INFO
RUN_ANSIBLE_TEST = False
RUN_ANSIBLE_LINT = True
OFFLINE_ANSIBLE_LINT = True
CHECK_CHANGELOG = True
CHECK_REQUIRED_TAGS = True
RUN_FLAKE8 = False
CFG
(cd "$work" && GALAXY_IMPORTER_CONFIG="$work/galaxy-importer.cfg" python -m galaxy_importer.main "$work"/backupops-veeam_em-*.tar.gz > "$work/importer.log" 2>&1) || { cat "$work/importer.log"; exit 1; }
if grep -E '^(WARNING|ERROR)' "$work/importer.log"; then
  echo "galaxy-importer reported the findings above"; exit 1
fi
echo "galaxy-importer: accepted"

step "ansible-builder introspect and create"
ansible-builder introspect --sanitize "$ANSIBLE_COLLECTIONS_PATH" > "$work/introspect.txt"
grep -q requests "$work/introspect.txt" && grep -q xmltodict "$work/introspect.txt"
ansible-builder create -f extensions/ee/execution-environment.yml --context "$work/ee" --output-filename Containerfile > /dev/null
test -s "$work/ee/Containerfile"
echo "quality gates: all passed"
