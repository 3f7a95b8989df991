"""Shared pytest set-up: the collection importable by its full name, and ``import emulator``."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from collection_layout import COLLECTIONS_ROOT, TESTS_DIR, link_collection  # noqa: E402

link_collection()
for _path in (COLLECTIONS_ROOT, TESTS_DIR):
    if _path not in sys.path:
        sys.path.insert(0, _path)
os.environ.setdefault("ANSIBLE_COLLECTIONS_PATH", COLLECTIONS_ROOT)
