"""Where the collection lives for Python imports and for ansible-playbook.

Collection code imports itself as ``ansible_collections.backupops.veeam_em...``, which only
resolves when the checkout sits at ``<root>/ansible_collections/backupops/veeam_em``. Instead of
demanding a particular clone path we link the checkout into ``.build/collections``; pytest, the
demo and the benchmark all use this one function so they agree on the path.
"""
import os

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TESTS_DIR = os.path.join(REPO_ROOT, "tests")
COLLECTIONS_ROOT = os.path.join(REPO_ROOT, ".build", "collections")


def link_collection():
    """Create (idempotently) the symlink and return the collections root to put on paths."""
    namespace_dir = os.path.join(COLLECTIONS_ROOT, "ansible_collections", "backupops")
    link = os.path.join(namespace_dir, "veeam_em")
    os.makedirs(namespace_dir, exist_ok=True)
    if not os.path.islink(link):
        try:
            os.symlink(REPO_ROOT, link)
        except FileExistsError:  # another pytest-xdist worker won the race
            pass
    return COLLECTIONS_ROOT


def ansible_env(base=None):
    """Environment for running ansible-playbook against the checkout, quiet and deterministic."""
    env = dict(os.environ if base is None else base)
    env["ANSIBLE_COLLECTIONS_PATH"] = link_collection()
    env.setdefault("ANSIBLE_NOCOLOR", "1")
    env.setdefault("ANSIBLE_FORCE_COLOR", "0")
    env.setdefault("ANSIBLE_RETRY_FILES_ENABLED", "0")
    env.setdefault("ANSIBLE_LOCALHOST_WARNING", "0")
    env.setdefault("ANSIBLE_INVENTORY_UNPARSED_WARNING", "0")
    return env


if __name__ == "__main__":
    # `make link`: what ansible.cfg's collections_path expects (the README's commands from a checkout)
    print(os.path.join(link_collection(), "ansible_collections", "backupops", "veeam_em"))
