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


# ---- WrittenBeside: a file written by a child process while this one goes on (issue 18) ----------------------

def _write_text(path, data):
    def write():
        with em_files.atomic_open(str(path), 0o644) as stream:
            stream.write(u"".join(data))
    return write


def test_a_child_writes_the_data_as_it_was_when_it_started(tmp_path):
    path, data = tmp_path / "cache", [u"night ", u"one"]
    writer = em_files.WrittenBeside.start(_write_text(path, data))
    assert writer is not None and writer.pid not in (None, os.getpid())
    data[:] = [u"changed"]  # what the parent does with its data after the start: the child's copy is its own
    assert writer.wait() is None
    assert path.read_text() == u"night one"
    assert writer.wait() is None  # once: a second wait says the same, without a process to join
    assert os.listdir(str(tmp_path)) == ["cache"]


def test_the_childs_error_is_said_with_its_message(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    writer = em_files.WrittenBeside.start(_write_text(blocker / "cache", [u"x"]))
    said = writer.wait()
    assert "Not a directory" in said or "No such file" in said
    assert writer.wait() == said


def test_an_unexpected_error_is_said_with_its_type(tmp_path):
    def write():
        raise KeyError("lost")
    assert em_files.WrittenBeside.start(write).wait() == "KeyError: 'lost'"


@pytest.mark.parametrize("end, said", [(lambda: os.kill(os.getpid(), 9), "signal 9"),
                                       (lambda: os._exit(5), "exit code 5")])
def test_a_child_that_ends_without_a_word_is_said(end, said):
    assert em_files.WrittenBeside.start(end).wait() == "the writing process ended without a word (%s)" % said


def test_no_fork_while_another_thread_runs(tmp_path):
    import threading
    release = threading.Event()
    other = threading.Thread(target=release.wait)
    other.start()
    try:
        assert em_files.WrittenBeside.start(_write_text(tmp_path / "cache", [u"x"])) is None
    finally:
        release.set()
        other.join()
    assert not os.path.exists(str(tmp_path / "cache"))  # the caller writes it in-process then


def test_the_child_prints_nothing_to_the_modules_streams(tmp_path, capfd):
    def write():
        os.write(1, b"not JSON\n")
        os.write(2, b"a warning\n")
    assert em_files.WrittenBeside.start(write).wait() is None
    out, err = capfd.readouterr()
    assert (out, err) == ("", "")  # the module's stdout carries its JSON answer alone


def test_a_refused_fork_leaves_the_write_to_the_caller(tmp_path, monkeypatch):
    def refused():
        raise OSError(11, "Resource temporarily unavailable")
    before = len(os.listdir("/proc/self/fd"))
    monkeypatch.setattr(em_files.os, "fork", refused)
    assert em_files.WrittenBeside.start(_write_text(tmp_path / "cache", [u"x"])) is None
    assert len(os.listdir("/proc/self/fd")) == before  # the pipe closed again
