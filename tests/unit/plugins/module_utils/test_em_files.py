"""em_files.atomic_open: the one writer of the reports and the history cache - whole or not at all."""
import os
import stat

import pytest

from ansible_collections.backupops.veeam_em.plugins.module_utils import em_files


def test_the_file_is_replaced_when_the_block_ends(tmp_path):
    path = tmp_path / "report.json"
    path.write_text("old")
    with em_files.atomic_open(str(path), 0o640) as stream:
        stream.write(u"new \u00fc")
        assert path.read_text() == "old"  # nobody sees the new text before the block ends
    assert path.read_text(encoding="utf-8") == u"new \u00fc"
    assert stat.S_IMODE(os.stat(str(path)).st_mode) == 0o640
    assert os.listdir(str(tmp_path)) == ["report.json"]


def test_binary_streams_write_bytes(tmp_path):
    path = tmp_path / "cache.gz"
    with em_files.atomic_open(str(path), 0o600, binary=True) as stream:
        stream.write(b"\x1f\x8b")
    assert path.read_bytes() == b"\x1f\x8b"
    assert stat.S_IMODE(os.stat(str(path)).st_mode) == 0o600


@pytest.mark.parametrize("failure", [ValueError("broken"), KeyboardInterrupt()])
def test_a_failure_leaves_the_previous_file_and_no_temporary_file(tmp_path, failure):
    path = tmp_path / "report.json"
    path.write_text("old")
    with pytest.raises(type(failure)):
        with em_files.atomic_open(str(path), 0o644) as stream:
            stream.write(u"half")
            raise failure
    assert path.read_text() == "old"
    assert os.listdir(str(tmp_path)) == ["report.json"]


def test_the_temporary_file_is_hidden_beside_the_target(tmp_path):
    path = tmp_path / "report.json"
    with em_files.atomic_open(str(path), 0o644) as stream:
        names = os.listdir(str(tmp_path))
        stream.write(u"x")
    assert len(names) == 1 and names[0].startswith(".report.json.")
