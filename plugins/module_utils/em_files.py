# -*- coding: utf-8 -*-
# Copyright: (c) 2026, backupops engineering
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# FOR INTERNAL COLLECTION USE ONLY
# The interfaces in this file are meant for use within the backupops.veeam_em collection
# and may not remain stable to outside uses. Changes may be made in ANY release, even a bugfix release.
# (the same convention as community.hashi_vault's module_utils; see docs/CONTRACTS.md)
"""Files written whole or not at all: the reports (_report/files.py) and the history cache
(_compliance/history_cache.py) share this one writer.

Through a temporary file in the same directory, then ``os.replace``: a reader (a person opening the
latest report, the next night's run reading the cache) never sees half a file, and a run that stops
half way leaves the previous file in place. The temporary file starts with a dot so that listings of
the report directory skip it; it is removed on every failure, KeyboardInterrupt included.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import contextlib
import os
import tempfile
import threading

# The errors a file write is expected to raise (the disk, the path, a value the encoder refuses): said by their
# message alone; any other is said with its type name too (_child_run). HistoryCache.save catches these.
WRITE_ERRORS = (IOError, OSError, TypeError, ValueError)


@contextlib.contextmanager
def atomic_open(path, mode, binary=False):
    """``with atomic_open(path, 0o644) as stream:`` - a text (UTF-8) or binary stream whose content
    replaces ``path`` (with file mode ``mode``) only when the block ends without an exception."""
    directory = os.path.dirname(path) or "."
    handle, temporary = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", dir=directory)
    try:
        with (os.fdopen(handle, "wb") if binary else os.fdopen(handle, "w", encoding="utf-8")) as stream:
            yield stream
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise


class Beside(object):
    """Work done by a child process (``os.fork``) while this process goes on, its answer (bytes) sent back through
    a pipe (issue 18: the history cache written, ~1 s of CPU at 5,000 VMs, while the module evaluates; its lines
    folded while EM is read; half of the VMs walked by the evaluation). Why a process, not a thread: the work is
    Python, which a thread would do under the GIL in turn with this process's; and the child sees the data as it
    was when it was forked, so the parent may consume it. Why hand-written: multiprocessing pickles what it hands
    a child, which is the cost this avoids, and its start methods other than fork re-import the module.

    ``start(work)`` runs ``work()`` in the child: what it returns (bytes or None) is the answer; the text of what
    it raised is said instead. ``wait()`` joins the child: (answer, None), or (None, why) - its error, or how it
    ended when it ended without a whole answer (killed, out of memory: its exit code or signal). The child's
    standard streams are /dev/null and it leaves by ``os._exit`` (no exit handler of the parent runs twice).

    ``start`` returns None where forking is not safe or not possible (no os.fork, another thread running: a
    fork copies a lock another thread holds as held; the fork or its pipe refused): the caller does the work
    in-process."""

    def __init__(self, pid, answer, what):
        self.pid, self._answer, self._what, self._said = pid, answer, what, (None, None)

    @classmethod
    def start(cls, work, what="working"):
        """The child started on ``work``, or None (see the class); ``what`` names it in an answer lost."""
        if not hasattr(os, "fork") or threading.active_count() != 1:
            return None
        try:
            answer, told = os.pipe()
        except OSError:  # no file descriptor left: done in-process, where the error (if any) is said
            return None
        try:
            pid = os.fork()
        except OSError:  # no process left (EAGAIN) or no memory for one: done in-process
            os.close(answer)
            os.close(told)
            return None
        if pid == 0:  # the child: work, answer, leave without running the parent's exit handlers
            code = 1
            try:
                os.close(answer)
                _quiet_stdio()
                code = _child_run(work, told)
            finally:
                os._exit(code)  # pylint: disable=protected-access
        os.close(told)
        return cls(pid, answer, what)

    def wait(self):
        """(answer, None) or (None, why); see the class. Once; later calls return the same."""
        if self.pid is None:
            return self._said
        chunks = []
        with os.fdopen(self._answer, "rb") as answer:
            for chunk in iter(lambda: answer.read(1 << 20), b""):
                chunks.append(chunk)
        status = os.waitpid(self.pid, 0)[1]
        self.pid = None
        said = b"".join(chunks)
        ended = os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0
        if said[:1] == _FAILED:
            self._said = (None, said[1:].decode("utf-8", "replace") or "error")
        elif said[:1] == _ANSWERED and ended:
            self._said = (said[1:], None)
        else:  # nothing, or an answer cut short: never taken for a whole one
            self._said = (None, "the %s process ended without a word (%s)" % (self._what, (
                "signal %d" % os.WTERMSIG(status) if os.WIFSIGNALED(status) else "exit code %d" % os.WEXITSTATUS(status))))
        return self._said


class WrittenBeside(Beside):
    """A file written by a child process (Beside): ``start(write)``; ``wait()`` returns None when it was written,
    else why not (the child's error, or how it ended)."""

    @classmethod
    def start(cls, work, what="writing"):
        def written():  # no answer but the file
            work()
        return super(WrittenBeside, cls).start(written, what)

    def wait(self):
        return Beside.wait(self)[1]


_ANSWERED, _FAILED = b"A", b"E"   # the first byte of a child's answer: what follows is its answer, or its error


def _quiet_stdio():
    """The child's standard streams on /dev/null: the module's answer is its parent's JSON on stdout, which nothing
    the child might print (a warning) may mix into, and Ansible reads that pipe until every holder has closed it."""
    quiet = os.open(os.devnull, os.O_RDWR)
    for stream in (0, 1, 2):
        os.dup2(quiet, stream)
    os.close(quiet)


def _child_run(work, told):
    """In the child of Beside.start: run ``work``; its answer, or its error's text (the type named unless it is one
    of WRITE_ERRORS), to ``told``. The exit code: 0 answered, 3 failed."""
    try:
        said, code = _ANSWERED + (work() or b""), 0
    except Exception as error:  # pylint: disable=broad-except  # said to the parent, which reports it
        said, code = _FAILED + ("%s" % error if isinstance(error, WRITE_ERRORS)
                                else "%s: %s" % (type(error).__name__, error)).encode("utf-8", "replace"), 3
    view = memoryview(said)
    while view:
        view = view[os.write(told, view):]
    os.close(told)
    return code
