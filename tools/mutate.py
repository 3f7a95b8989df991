"""A small, explicit mutation check: does each test fail on the fault it is named after?

Every mutant is one deliberate fault: a file, a source snippet that must occur in it exactly once,
its replacement, and the (fast) tests that must catch it. The tool copies the checkout to a
temporary directory (the working tree is never modified), applies one mutant at a time, runs its
tests, restores the file, and prints killed/survived and a score.

A snippet that is missing or not unique is an error of the mutant's *definition* (the code moved
on): it is reported as "BROKEN" and makes the run fail, never silently skipped. Mutants whose
survival is understood and accepted carry an ``explained`` text and do not lower the score's
verdict (they are still counted and printed).

Usage: python tools/mutate.py [--slow] [--only ID[,ID...]] [--list] [--keep]
  --slow  also run the mutants whose tests are integration tests (ansible-playbook against the
          emulator; minutes each). ``make mutate`` runs the fast set only.
Exit status: 0 when every mutant is killed or explained, 1 when one survived, 2 on a broken
definition or when a test set fails without any mutant (the baseline must be green).
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PYTHON = os.path.join(ROOT, ".venv", "bin", "python")
COPY_IGNORE = shutil.ignore_patterns(".git", ".venv", ".venv-demo", ".build", "reports", ".pytest_cache", "__pycache__",
                                     "output", "results", "*.pyc")

MU = "plugins/module_utils/"
FILTER_TESTS = ["tests/unit/plugins/filter"]
COMPLIANCE_TESTS = ["tests/unit/plugins/module_utils/compliance"]
RULE_TESTS = COMPLIANCE_TESTS + FILTER_TESTS + ["tests/unit/plugins/modules/test_compliance_info.py"]
BUILDER_TESTS = ["tests/unit/plugins/module_utils/test_em_filter_expr.py", "tests/unit/plugins/modules"]
SCRUB_TESTS = ["tests/unit/plugins/module_utils/test_em_scrub.py", "tests/unit/plugins/modules"]
SECRETS_TESTS = ["tests/unit/plugins/module_utils/test_em_secrets.py"]
CLIENT_TESTS = ["tests/unit/plugins/module_utils/test_em_client.py"]
PARSE_TESTS = ["tests/unit/plugins/module_utils/test_em_parse.py", "tests/unit/plugins/module_utils/test_em_decode.py",
               "tests/unit/plugins/module_utils/test_em_values.py"] + CLIENT_TESTS
TIME_TESTS = ["tests/unit/plugins/module_utils/test_em_time.py"]
PAGER_TESTS = ["tests/unit/plugins/module_utils/test_em_pager.py"] + CLIENT_TESTS
WIRE_TESTS = ["tests/unit/plugins/modules/test_compliance_info_wire_attacks.py"]
ROLE_CAP_TEST = ["tests/integration/test_resources_compliance.py::test_retry_remediation_respects_the_cap"]


class Mutant:
    def __init__(self, ident, path, snippet, replacement, tests, what, slow=False, explained=None):
        self.ident = ident
        self.path = path
        self.snippet = snippet
        self.replacement = replacement
        self.tests = tests
        self.what = what
        self.slow = slow
        self.explained = explained


MUTANTS = [
    # ---- the rules (em_compliance.py over _compliance/: rules.py, sessions.py) ----------------
    Mutant("rpo-ge", MU + "_compliance/rules.py", "    if age > rpo_hours:", "    if age >= rpo_hours:",
           RULE_TESTS, "RPO: an age exactly at rpo_hours violates"),
    Mutant("stuck-ge", MU + "_compliance/rules.py", "        if age > stuck_hours:", "        if age >= stuck_hours:",
           RULE_TESTS, "stuck: exactly stuck_hours is already stuck"),
    Mutant("long-lt", MU + "_compliance/rules.py", "duration * 60.0 <= max_duration_minutes",
           "duration * 60.0 < max_duration_minutes", RULE_TESTS, "long_running: exactly the maximum is long"),
    Mutant("recovered-horizon", MU + "_compliance/rules.py", "if point_time(session) < horizon or not is_unsuccessful",
           "if point_time(session) <= horizon or not is_unsuccessful", RULE_TESTS,
           "recovered_failure: a failure exactly at now - recent_hours is dropped"),
    Mutant("long-horizon", MU + "_compliance/rules.py", 'session["_end"] is not None and session["_end"] >= horizon',
           'session["_end"] is not None and session["_end"] > horizon', RULE_TESTS,
           "long_running: a session that ended exactly at now - recent_hours is not recent"),
    Mutant("window-start", MU + "_compliance/rows.py", 'in_window = [s for s in group if s["_created"] >= start]',
           'in_window = [s for s in group if s["_created"] > start]', RULE_TESTS,
           "lookback: a session exactly at the window start is outside"),
    Mutant("oldest-success", MU + "_compliance/rules.py",
           "return max(successes, key=lambda s: (data_time(s), point_time(s))) if successes",
           "return min(successes, key=lambda s: (data_time(s), point_time(s))) if successes", RULE_TESTS,
           "RPO measured from the oldest success, not the newest"),
    Mutant("warnings-always-accepted", MU + "_compliance/sessions.py",
           "return result == RESULT_SUCCESS or (accept_warnings and result == RESULT_WARNING)",
           "return result == RESULT_SUCCESS or result == RESULT_WARNING", RULE_TESTS,
           "accept_warnings=false ignored"),
    Mutant("failure-not-open", MU + "_compliance/rules.py", "    if result != RESULT_SUCCESS:\n        return [finding(failed_code",
           "    if False:\n        return [finding(failed_code", RULE_TESTS,
           "the newest session failing is not reported"),
    Mutant("no-dedupe-rules", MU + "_compliance/fold.py", "        key = (record[_KIND], record[_UID])\n        index",
           "        key = (record[_KIND], record[_UID], len(kept))\n        index", RULE_TESTS,
           "a session read twice counts twice"),
    # ---- the session fold (issue 18: _compliance/fold.py) -------------------------------------
    Mutant("history-oldest-kept", MU + "_compliance/fold.py", "if kept is None or created > kept[0] or",
           "if kept is None or created < kept[0] or", RULE_TESTS,
           "the history keeps the oldest session per VM, job and result, not the newest"),
    Mutant("history-over-window", MU + "_compliance/fold.py",
           "        return not record[_HISTORY]\n    return None",
           "        return record[_HISTORY]\n    return None", RULE_TESTS,
           "a session read in the window and the history keeps the history's identity-only read"),
    Mutant("running-over-finished", MU + "_compliance/fold.py",
           "    return kept[_STATE] in RUNNING_STATES or record[_STATE] not in RUNNING_STATES",
           "    return kept[_STATE] not in RUNNING_STATES and record[_STATE] not in RUNNING_STATES",
           RULE_TESTS, "a session read running then finished (EM finished it during the walk) stays running"),
    Mutant("name-only-vm-split", MU + "_compliance/fold.py", "                if uids and len(uids) == 1:",
           "                if False:", RULE_TESTS, "a VM seen without its UID is a row of its own"),
    Mutant("packed-time-lossy", MU + "_compliance/packing.py",
           "(since or _EPOCH) + timedelta(0, 0, int(field, 16))",
           "(since or _EPOCH) + timedelta(0, int(field, 16) // 1000000)", RULE_TESTS,
           "packed times lose their fraction of a second"),
    Mutant("packed-guid-any-case", MU + "_compliance/packing.py", "    if not _CANONICAL_GUID.match(text):",
           "    if not _CANONICAL_GUID.match(text.lower()):",
           COMPLIANCE_TESTS, "a GUID in another form than canonical lower case is packed as its canonical form"),
    Mutant("groups-out-of-order", MU + "_compliance/fold.py",
           "                self.groups[(server, vm)] = (min(group[0], order), _join(packed, group[1]))",
           "                self.groups[(server, vm)] = (max(group[0], order), _join(packed, group[1]))",
           RULE_TESTS, "VMs walked in another order than their oldest session (rows of equal sort key swap)"),
    Mutant("stuck-also-long", MU + "_compliance/rules.py",
           "stuck = is_running(session) and duration is not None and duration > stuck_hours",
           "stuck = False", RULE_TESTS, "a stuck session is reported as long_running too"),
    Mutant("best-severity", MU + "_compliance/rules.py",
           'if SEVERITY_RANK[item["severity"]] > SEVERITY_RANK[worst]:',
           'if SEVERITY_RANK[item["severity"]] < SEVERITY_RANK[worst]:', RULE_TESTS,
           "a row's status is not its worst finding"),
    # ---- the history cache's window part (issue 18: _compliance/history_cache.py, fold.py) ----------
    Mutant("window-running-unwatched", MU + "_compliance/fold.py",
           "if self.on_running is not None and unsettled(record[_STATE], record[_END]):", "if False:", COMPLIANCE_TESTS,
           "a window session still running does not bound what the cache covers (its end is never read again)"),
    Mutant("history-unsettled-unwatched", MU + "_compliance/fold.py",
           "watched = running or _unsettled_item(item, created)", "watched = running", COMPLIANCE_TESTS,
           "a history session in a state EM does not document, without an end, does not bound the cache"),
    Mutant("server-ahead-is-life", MU + "_compliance/fold.py",
           "if limit is not None and moment > limit:", "if False:", COMPLIANCE_TESTS,
           "a session dated ahead of now counts as a backup server's sign of life (hides server_silent)"),
    Mutant("unseen-job-is-backup", MU + "_compliance/fold.py",
           "and not job_seen(record, index):\n        return KIND_COPY", "and False:\n        return KIND_COPY",
           COMPLIANCE_TESTS, "a backup task session whose job was not read at all counts as a backup (a copy)"),
    Mutant("history-unreadable-dropped", MU + "_compliance/fold.py",
           "                    self.history_set_aside += 1\n                    self._set_aside(item, kind)\n",
           "                    self.history_set_aside += 1\n", COMPLIANCE_TESTS,
           "a history session without a readable creation time is dropped without a trace"),
    Mutant("window-excluded-not-cached", MU + "_compliance/fold.py",
           "        for packed in self.excluded:\n            line", "        for packed in []:\n            line",
           COMPLIANCE_TESTS, "the sessions outside tonight's patterns are not cached (another policy misses them)"),
    Mutant("window-set-aside-cached", MU + "_compliance/history_cache.py",
           "cached_window = self.window and fold.window_set_aside == 0", "cached_window = self.window",
           COMPLIANCE_TESTS, "a window item that cannot be placed in time does not stop the window being cached"),
    Mutant("window-lookback-grew", MU + "_compliance/history_cache.py", "if cached_start > self.window_start:",
           "if False:", COMPLIANCE_TESTS, "a cached window starting after this run's window start is used"),
    Mutant("history-always-skipped", MU + "em_compliance_read.py",
           "if history and cache and not cache.reads_history:", "if history and cache:", COMPLIANCE_TESTS,
           "the history queries are skipped on a warm night although the cache does not hold it all"),
    # ---- the history cache's record lines (format 4: the fold's records, checked as EM's answer is) -----------
    Mutant("cache-record-any-value", MU + "_compliance/history_cache.py",
           "    if not _STRINGS.issuperset(map(type, values)):", "    if False:", COMPLIANCE_TESTS,
           "a cached record's value that is no string (a hand-edited number or list) is folded"),
    Mutant("cache-record-end-before-start", MU + "_compliance/history_cache.py",
           "        if ended is None or ended < created:", "        if ended is None:", COMPLIANCE_TESTS,
           "a cached record ending before its creation is folded (a cold read would take it as not ended)"),
    Mutant("cache-window-only-kept", MU + "_compliance/history_cache.py",
           "                    values[position] = None", "                    pass", COMPLIANCE_TESTS,
           "last night's window session becomes tonight's history with its window-only fields (a cold history "
           "read has none)"),
    Mutant("cache-replica-job-session", MU + "_compliance/history_cache.py",
           "    for position in _NONE_AT[entry[0]]:", "    for position in ():", COMPLIANCE_TESTS,
           "a cached record with a value neither of its queries reads (a replica's restore point UID) is folded"),
    # ---- the history cache attacked (session 8, h-attack4) ----------------------------------------------------
    Mutant("fold-first-read-wins", MU + "_compliance/fold.py",
           "    return kept[_STATE] in RUNNING_STATES or record[_STATE] not in RUNNING_STATES",
           "    return kept[_STATE] in RUNNING_STATES and record[_STATE] not in RUNNING_STATES", COMPLIANCE_TESTS,
           "a session read twice keeps the first finished read: an edited cache line hides EM's Failed"),
    Mutant("cache-point-time-taken", MU + "_compliance/history_cache.py",
           "    if created is None or point is not None:", "    if created is None:", COMPLIANCE_TESTS,
           "a cached restore point time (the module reads none) is taken: edited, it makes a stale VM fresh"),
    Mutant("cache-unsettled-running-only", MU + "_compliance/history_cache.py",
           "            if unsettled(values[_STATE], times[1]):", "            if values[_STATE] in ('InProgress', 'Pending'):",
           COMPLIANCE_TESTS, "a cached session neither Completed nor ended (Stopped, no end) is folded as settled"),
    Mutant("cache-full-read-at-future", MU + "_compliance/history_cache.py",
           "        if full_read_at > written_now:", "        if False:", COMPLIANCE_TESTS,
           "a full read time after the file's own run is taken: the periodic full read never comes again"),
    Mutant("cache-window-after-covered-end", MU + "_compliance/history_cache.py",
           "        return not window or created < self.cached_through", "        return True", COMPLIANCE_TESTS,
           "a window line after the cache's covered end is taken (a Success moved into the last hours drops the VM)"),
    # ---- late collection (session 9: the as-of emulator's outages) ---------------------------------------------
    Mutant("cache-quiet-server-ignored", MU + "_compliance/history_cache.py",
           "        if quiet is None or quiet[0] + self.overlap >= self.now:", "        if True:",
           COMPLIANCE_TESTS + ["tests/unit/plugins/modules/test_compliance_info_history_cache.py"],
           "a backup server quiet for longer than the overlap does not hold the cache back: its late sessions are "
           "not read again (a warm night reads better than a cold one)"),
    Mutant("cache-new-server-ignored", MU + "_compliance/history_cache.py",
           "        new = sorted(self.listed - set(cached))", "        new = []", COMPLIANCE_TESTS,
           "a backup server new to EM (its past sessions collected now) is not a full read"),
    Mutant("cache-new-server-uid-ignored", MU + "_compliance/history_cache.py",
           "for uid in set(self.listed_uids) - set(cached_uids))", "for uid in ())", COMPLIANCE_TESTS,
           "a backup server added to EM again under its name (a new UID) is not a full read"),
    Mutant("across-parts-later-wins", MU + "_compliance/fold.py",
           "            elif _worse(record, kept[index]):", "            elif True:", COMPLIANCE_TESTS,
           "a session in two groups of one VM keeps the later group's read (an edited cache line without its VM UID "
           "hides EM's Failed)"),
    Mutant("history-replaced-in-place", MU + "_compliance/fold.py",
           "                if kept is not None and not records:\n                    del self.history[key]\n",
           "                if False:\n                    del self.history[key]\n",
           COMPLIANCE_TESTS, "a replaced history entry keeps its place: the cache's line of a session is placed after "
           "EM's read of it and wins"),
    Mutant("history-merged-in-place", MU + "_compliance/fold.py",
           "        if move and value is not kept:", "        if False:", COMPLIANCE_TESTS,
           "the lines folded beside EM's reads: a replaced history entry keeps the cache's place"),
    Mutant("server-sign-last-name", MU + "_compliance/fold.py",
           "        if server_name and (sign[2] is None or moment > sign[2]):", "        if server_name:",
           COMPLIANCE_TESTS, "a server's sign of life named by the last session read: the quiet bound of the history "
           "cache depends on the order of the reads (lines beside EM's or before them)"),
    Mutant("job-cache-line-wins", MU + "em_compliance_read.py",
           "                if seeded or key not in self._seeded:", "                if True:", COMPLIANCE_TESTS,
           "a window job session's cache line is kept over EM's read of it (an edited Success hides EM's Failed)"),
    Mutant("job-line-twice-folded", MU + "_compliance/history_cache.py",
           "                if uid in seen:", "                if False:",
           COMPLIANCE_TESTS, "a job session twice in the cache is folded (the first line, a forged twin, wins)"),
    Mutant("job-note-reread-taken", MU + "_compliance/history_cache.py",
           "                if usable and self.history_start <= newest < self.job_read_from:",
           "                if usable and newest >= self.history_start:", COMPLIANCE_TESTS,
           "a job type note of a session EM is asked for again is taken (an edited newer note types the job)"),
    Mutant("finished-line-over-em", MU + "_compliance/fold.py",
           "    if record[_CREATED] != kept[_CREATED]:\n        return True\n", "", COMPLIANCE_TESTS,
           "a finished cache line of another creation time wins over EM's running read (a stuck session hidden)"),
    Mutant("finished-line-over-em-across", MU + "_compliance/fold.py",
           "        return running if record[_CREATED] != kept[_CREATED] else not running", "        return not running",
           COMPLIANCE_TESTS, "across a VM's groups, a finished cache line of another creation time wins over EM's "
           "running read"),
    Mutant("read-failure-known-silent", MU + "em_compliance_read.py",
           "    answered = not read_errors or (queries is not None and task_sessions_answered(params, queries))",
           "    answered = True", ["tests/unit/plugins/modules/test_compliance_info.py"],
           "with the task sessions unread, known servers are server_silent violations (a read failure as a breach)"),
    # ---- the cache's lines folded in a thread while EM is read (session 10) ----------------------------------
    Mutant("cache-lines-after-em", MU + "_compliance/fold.py",
           "            min(kept[0], new[0]), _concat(kept[1], new[1])))", "            min(kept[0], new[0]), _concat(new[1], kept[1])))",
           COMPLIANCE_TESTS,
           "the cache's lines joined after EM's pages: an edited cached line wins over what EM says of the session"),
    Mutant("cache-lines-not-joined-on-failure", MU + "em_compliance_read.py",
           "            if lines is not None:  # joined before the fold is emptied: the lines' folder feeds it no more\n"
           "                lines.finish()\n", "", COMPLIANCE_TESTS,
           "a failed window read empties the fold while the cache thread still feeds it: a verdict on half a read"),
    # ---- the cache's lines folded by a child process (session 12) --------------------------------------------
    Mutant("cache-lines-child-death-unsaid", MU + "em_compliance_read.py",
           "        if why is not None:\n", "        if why is not None and answer is not None:\n",
           COMPLIANCE_TESTS, "a lines' child that raised or died is taken for folded lines (a crash, or half a cache)"),
    Mutant("cache-lines-child-keys-not-renumbered", MU + "_compliance/fold.py",
           "        if numbers:\n            self.history = dict((renumbered_key", "        if False:\n            "
           "self.history = dict((renumbered_key", COMPLIANCE_TESTS,
           "the child's history keys keep its numbers: one (server, VM, job, result) kept twice"),
    Mutant("cache-lines-child-numbers-collide", MU + "_compliance/packing.py",
           "                self.table.append(None)   # the other process's position (split_numbers)\n",
           "                pass\n", COMPLIANCE_TESTS,
           "the child and the parent give one number to two values: a session unpacked with another's VM or job"),
    # ---- the VM walk split with a child process (session 12) -------------------------------------------------
    Mutant("walk-beside-half-unjoined", MU + "em_compliance.py",
           "            _join_walk(walk, rows, cells, pickle.loads(answer))\n", "            pass\n", COMPLIANCE_TESTS,
           "the child's half of the VMs is dropped: those VMs judged by nobody, the fleet counted short"),
    Mutant("settle-placing-job-dropped", MU + "_compliance/packing.py",
           "        values = [table[int(field)] if way is _AS_SHARED and field != _NONE else None\n",
           "        values = [table[int(field)] if way is _AS_SHARED and field not in (_NONE, fields[_JOB]) else None\n",
           COMPLIANCE_TESTS, "settle places the history without its job names: the job patterns judge it out of scope"),
    Mutant("walk-beside-lost-child-unwalked", MU + "em_compliance.py",
           "            _walk_part(fold, later, walk, rows, cells, times)\n",
           "            pass\n", COMPLIANCE_TESTS,
           "a child that died takes its half of the VMs with it: a verdict on half the fleet"),
    Mutant("walk-beside-lost-child-unsaid", MU + "em_compliance.py",
           "            if warn is not None:\n", "            if False:\n",
           COMPLIANCE_TESTS + ["tests/unit/plugins/modules/test_compliance_info_history_cache.py"],
           "a child the system killed is walked again without a word: a fleet too big for its memory limit never said"),
    Mutant("walk-beside-server-name-kept", MU + "_compliance/servers.py",
           "            entry[\"_named\"], entry[\"backup_server_name\"] = other[\"_named\"], other[\"backup_server_name\"]\n",
           "            pass\n", COMPLIANCE_TESTS,
           "a server named by its oldest part of the walk, not by its newest session"),
    # ---- the history cache written by a child process (session 11) ------------------------------------------
    Mutant("cache-writer-not-joined-on-failure", MU + "em_compliance_module.py",
           "        cache.wait()  # never a writer left running: also when the evaluation or the reports raised\n",
           "        pass\n", ["tests/unit/plugins/modules/test_compliance_info_history_cache.py"],
           "an evaluation that raises leaves the cache's writing process unjoined (a zombie, a file said nowhere)"),
    Mutant("cache-writer-error-unsaid", MU + "em_files.py",
           "        if said[:1] == _FAILED:\n", "        if False:\n", ["tests/unit/plugins/module_utils/test_em_files.py"] +
           COMPLIANCE_TESTS, "the child's error is dropped: said as an exit code, its message lost"),
    Mutant("cache-writer-killed-unsaid", MU + "em_files.py",
           "        elif said[:1] == _ANSWERED and ended:\n", "        elif True:\n", ["tests/unit/plugins/module_utils/test_em_files.py"],
           "a writing process killed half way (out of memory, a signal) is taken for a written file"),
    # ---- the history cache's job part (session 7) ----------------------------------------------------------
    Mutant("job-type-past-history-kept", MU + "_compliance/history_cache.py",
           "if usable and self.history_start <= newest < self.job_read_from:", "if usable and newest < self.job_read_from:",
           COMPLIANCE_TESTS,
           "a cached job type whose newest session left the history still types its task sessions (not copies)"),
    Mutant("job-unsettled-unwatched", MU + "em_compliance_read.py",
           "elif self.on_unsettled is not None and job_unsettled(item, created):", "elif False:", COMPLIANCE_TESTS,
           "a window job session EM may still change does not bound the job part (its result is never read again)"),
    Mutant("job-part-no-overlap", MU + "_compliance/history_cache.py",
           "self.job_read_from = max(self.history_start, self.jobs_cached_through - self.overlap)",
           "self.job_read_from = max(self.history_start, self.jobs_cached_through)", COMPLIANCE_TESTS,
           "the job sessions are not read again over the overlap (a late job session is missed)"),
    Mutant("job-type-last-page-wins", MU + "_compliance/sessions.py",
           "elif key not in typed_at or type_wins(job_type, created, by_job[key], typed_at[key]):", "else:",
           COMPLIANCE_TESTS,
           "a job's type is that of whichever page came last, not of its newest session"),
    Mutant("named-job-sessions-unread", MU + "em_compliance_read.py",
           "wanted, asked, requests, read_before = jobs.unread_named(), 0, 0, jobs.read",
           "wanted, asked, requests, read_before = [], 0, 0, jobs.read", COMPLIANCE_TESTS,
           "the job sessions window task sessions name but no read returned are not read by UID (typed by name)"),
    # the rules that issue 16 moved out of the row builders into rules.py
    Mutant("server-silent-ge", MU + "_compliance/rules.py", "    if last < horizon:", "    if last <= horizon:",
           RULE_TESTS, "server_silent: a last sign of life exactly at the horizon is silent"),
    Mutant("replicated-only-owes-nothing", MU + "_compliance/expected.py", '    if row["backup"] is None:',
           "    if False:", RULE_TESTS, "never_backed_up: an expected VM that is only replicated passes"),
    Mutant("empty-is-data", MU + "_compliance/rules.py", "    if in_scope_count:\n        return []",
           "    if True:\n        return []", RULE_TESTS, "no_data: nothing to evaluate reads as compliant"),
    Mutant("job-failure-silent", MU + "_compliance/rules.py",
           "    if not job_succeeded(last, accept):", "    if False:", RULE_TESTS,
           "job_failed: a job whose newest run failed has no finding"),
    # ---- the filter builder (em_filter_expr.py) --------------------------------------------------
    Mutant("unquoted-values", MU + "em_filter_expr.py", """    return '"%s"' % text.replace('"', '""')""",
           "    return text", BUILDER_TESTS, "filter values not quoted"),
    Mutant("quotes-not-doubled", MU + "em_filter_expr.py", """    return '"%s"' % text.replace('"', '""')""",
           """    return '"%s"' % text""", BUILDER_TESTS, "inner double quotes not doubled"),
    Mutant("controls-accepted", MU + "em_filter_expr.py", "        if _is_control(char):\n            raise",
           "        if False:\n            raise", BUILDER_TESTS, "control characters pass into filters"),
    Mutant("unbalanced-close-accepted", MU + "em_filter_expr.py", "            if depth < 0:", "            if False:",
           BUILDER_TESTS, "a raw filter closing a parenthesis it never opened is accepted"),
    Mutant("open-quote-accepted", MU + "em_filter_expr.py", "    if in_quotes:\n        raise EMValidationError",
           "    if False:\n        raise EMValidationError", BUILDER_TESTS,
           "a raw filter with an unterminated quote is accepted"),
    Mutant("raw-not-grouped", MU + "em_filter_expr.py", 'parts.append("(%s)" % check_raw_filter(raw_filter))',
           "parts.append(check_raw_filter(raw_filter))", BUILDER_TESTS,
           "the raw filter is not put in its own parentheses"),
    Mutant("separators-not-encoded", MU + "em_filter_expr.py", 'quote(str(value), safe="")',
           'quote(str(value), safe=";,()=")', BUILDER_TESTS, "; , ( ) = left bare in the URL"),
    # ---- times (em_time.py: the one ISO 8601 parser and 'Z' formatter) ----------------------------
    Mutant("filter-time-not-utc", MU + "em_time.py",
           "    moment = moment.astimezone(UTC)\n", "\n",
           TIME_TESTS + BUILDER_TESTS, "filter date/times not converted to UTC"),
    Mutant("zone-sign-ignored", MU + "em_time.py", '    return -offset if zone[0] == "-" else offset',
           "    return offset", TIME_TESTS + PARSE_TESTS, "a -04:30 offset is read as +04:30"),
    # ---- the scrubber (em_secrets.py: the one scrubber; em_module.py: what the module passes it) ----
    Mutant("scrub-noop", MU + "em_secrets.py", "    if not found(text):\n        return text\n    strong, weak",
           "    if True:\n        return text\n    strong, weak", SECRETS_TESTS + SCRUB_TESTS,
           "the scrubber (em_secrets.scrub) does nothing"),
    Mutant("weak-secret-exact-case", MU + "em_secrets.py", "(?!\"\\s*:)' % _alternation(forms), re.IGNORECASE)",
           "(?!\"\\s*:)' % _alternation(forms), 0)", SECRETS_TESTS + ["tests/unit/plugins/module_utils/report/test_report_secrets.py"],
           "a weak password (an ordinary word) masked in its own case only: an upper-cased echo in clear"),
    Mutant("case-variants-none", MU + "em_module.py",
           "        self.no_log_values.update(em_secrets.case_variants(self.no_log_values, _strings(kwargs)))",
           "        pass", ["tests/unit/plugins/modules/test_secrets_in_any_case.py"],
           "ansible-core's exact-case no_log masking alone: a password echoed in another case in the result"),
    Mutant("fleet-stale-part-passes", MU + "em_fleet.py",
           "        elif reference - time > timedelta(hours=max_age_hours):",
           "        elif False:", ["tests/unit/plugins/module_utils/test_em_fleet.py"],
           "a part of an earlier night merged as tonight's"),
    Mutant("fleet-age-from-newest-part", MU + "em_fleet.py",
           "    reference = parse_iso(now) if now else clock()",
           "    reference = parse_iso(now) if now else max([_part_time(e) for e in entries if not isinstance(_part_time(e), str)] or [clock()])",
           ["tests/unit/plugins/module_utils/test_em_fleet.py"],
           "ages measured from the newest part: every part of a relaunched merge passes"),
    Mutant("unreadable-failure-warning", MU + "_compliance/rules.py",
           "    severity = STATUS_WARNING if read and not failed else STATUS_VIOLATION",
           "    severity = STATUS_WARNING if read else STATUS_VIOLATION", RULE_TESTS,
           "a Failed session with an unreadable time beside an older success is only a warning"),
    Mutant("token-not-scrubbed", MU + "em_module.py",
           '        em_secrets.register_token(getattr(client, "token", None))', "        pass", SCRUB_TESTS,
           "error messages keep the client's token (em_module.scrub does not register client.token)"),
    Mutant("warnings-not-scrubbed", MU + "em_module.py", "module.warn(scrub(warning, module, client))",
           "module.warn(warning)", SCRUB_TESTS, "client warnings passed on unscrubbed"),
    # ---- the client's retry paths (em_client.py: the transport) ------------------------------
    Mutant("no-503-retry", MU + "em_client.py", "RETRY_STATUSES = (502, 503, 504)", "RETRY_STATUSES = (502, 504)",
           CLIENT_TESTS, "503 is not retried"),
    Mutant("no-transport-retry", MU + "em_client.py", "                if last or not retry:\n                    raise",
           "                if True:\n                    raise", CLIENT_TESTS, "transport errors are not retried"),
    Mutant("linear-backoff", MU + "em_client.py", "float(self.options.retry_backoff) * (2 ** attempt)",
           "float(self.options.retry_backoff) * (attempt + 1)", CLIENT_TESTS, "backoff not exponential"),
    Mutant("retry-after-ignored", MU + "em_client.py", "        if wait is not None:\n            return min(wait",
           "        if False:\n            return min(wait", CLIENT_TESTS, "Retry-After ignored"),
    # ---- the logon session (em_logon.py: LogonSession) --------------------------------------
    Mutant("logon-retried", MU + "em_logon.py", "describe=LOGON_DESCRIBE, logon=True)",
           "describe=LOGON_DESCRIBE, logon=True, retry=True)", CLIENT_TESTS,
           "the logon POST is retried (could lock the account)"),
    Mutant("no-logoff", MU + "em_logon.py",
           "            self._logoff_through_stop()\n        except EMTerminated:  # the logoff was repeated",
           "            pass\n        except EMTerminated:  # the logoff was repeated", CLIENT_TESTS, "the session is never logged off"),
    Mutant("no-relogon", MU + "em_logon.py", "            self.relogon()\n            if info is not None:",
           "            raise\n            if info is not None:", CLIENT_TESTS, "no logon again after a 401"),
    Mutant("relogon-leaks-session", MU + "em_logon.py",
           "        try:\n            self._logoff_through_stop()\n        except EMTerminated:\n            raise  # the module "
           "was told to stop: no new session\n        except EMError:\n            pass\n        self.client.token = None",
           "        self.client.token = None", CLIENT_TESTS, "the old session is not logged off before a re-logon"),
    # ---- the pager (em_pager.py: Pager, _Collector) --------------------------------------------
    Mutant("full-page-without-count-ends", MU + "em_pager.py",
           "    return bool(count) and count in (asked, em_parse.page_size(document))", "    return False",
           PAGER_TESTS + ["tests/unit/plugins/module_utils/test_em_pager_attack.py"],
           "a full page without PagingInfo ends the query: the later pages lost without a word"),
    Mutant("repeated-page-accepted", MU + "em_pager.py", "    if last is not None and last == before[-1].get(key_field):",
           "    if False:", PAGER_TESTS + ["tests/unit/plugins/module_utils/test_em_pager_attack.py"],
           "pages that repeat page 1 (page not applied, no PageNum) are dropped as duplicates, the rest lost"),
    Mutant("pages-count-zero-trusted", MU + "em_pager.py",
           "    return None if count and pages_count is not None and pages_count < page else pages_count",
           "    return pages_count", PAGER_TESTS + ["tests/unit/plugins/module_utils/test_em_pager_attack.py"],
           "PagesCount 0 beside a full page 1 ends the query"),
    Mutant("stray-items-accepted", MU + "em_parse.py", "    if stray:\n        raise EMResponseError(",
           "    if False:\n        raise EMResponseError(", PARSE_TESTS + ["tests/unit/plugins/module_utils/test_em_parse_attack.py"],
           "items in Refs beside an empty requested collection read as no items"),
    Mutant("no-dedupe-pages", MU + "em_pager.py", "            if key is not None and key in self.seen:",
           "            if False:", CLIENT_TESTS, "items read twice across pages are kept twice"),
    Mutant("empty-page-accepted", MU + "em_pager.py", "    if items:\n        return\n    if has_next",
           "    return\n    if has_next", PAGER_TESTS, "an empty page that its PagingInfo says is not the last is read as []"),
    Mutant("empty-inner-page-accepted", MU + "em_pager.py", "    if not items and page < pages_count - MAX_EMPTY_TAIL + 1:",
           "    if not items and page < pages_count - MAX_EMPTY_TAIL:", PAGER_TESTS,
           "the page just before the empty tail may be empty too"),
    # ---- the decoder's media sniffing (em_decode.py) ------------------------------------------
    Mutant("bom-ignored", MU + "em_decode.py", "    text = body[len(BOM):] if body.startswith(BOM) else body",
           "    text = body", PARSE_TESTS, "XML/JSON type detection ignores the BOM"),
    Mutant("xml-bom-ignored", MU + "em_decode.py", '    if stripped.startswith(b"<"):\n        return "xml"',
           '    if body.lstrip().startswith(b"<"):\n        return "xml"', PARSE_TESTS,
           "XML type detection ignores the BOM (JSON detection still skips it)"),
    # ---- reports: what changed since the last report ---------------------------------------------
    Mutant("unread-night-resolves", MU + "_report/history.py",
           '    return not any(item.get("code") in UNREAD_CODES for item in result.get("errors", []))',
           "    return True", ["tests/unit/plugins/module_utils/report/test_report_history.py"],
           "a night EM could not be read calls every earlier finding resolved"),
    Mutant("junit-compact-rows-pass", MU + "_report/common.py",
           '    if not isinstance(row, dict) or "findings" not in row:', "    if not isinstance(row, dict):",
           ["tests/unit/plugins/module_utils/report/test_report_attack_writes.py"],
           "the JUnit reads a row without findings (a compact row) as a passing VM"),
    Mutant("lone-surrogate-kept", MU + "em_decode.py",
           "    return _without_lone_surrogates(data) if _SURROGATE_ESCAPE.search(body) else data",
           "    return data", ["tests/unit/plugins/module_utils/report/test_report_attack_writes.py"],
           "a lone surrogate from EM stops the report writer (no verdict)"),
    Mutant("reports-role-fallback-over-module", "roles/veeam_em_compliance/tasks/reports.yml",
           "    - __veeam_em_compliance_read.compliance_json is not defined\n", "",
           ["tests/integration/test_compliance_role.py::"
            "test_reports_the_module_could_not_write_fail_the_play_and_are_never_rendered_from_compact_rows"],
           "the role renders the reports again from the compact rows when the module could not write them",
           slow=True),
    # ---- the scope (policy.py, expected.py) ------------------------------------------------------
    Mutant("patterns-unstripped", MU + "_compliance/policy.py", "        text = str(value).strip()\n",
           "        text = str(value)\n", RULE_TESTS, "a pattern with a space before it (a survey's text) selects nothing"),
    Mutant("pattern-never-literal", MU + "_compliance/policy.py", "any(text == str(pattern).lower() or fnmatch",
           "any(fnmatch", RULE_TESTS, "a VM name with brackets named literally in include_vms is never judged"),
    Mutant("expected-scope-own-text", MU + "_compliance/expected.py",
           '    return any(may_match_a_name_starting(pattern, short + ".") for pattern in patterns)',
           "    return False", RULE_TESTS, "a short CMDB name under a domain glob is dropped in silence"),
    Mutant("expected-server-uid-dropped", MU + "_compliance/expected.py",
           "and _looks_like_uid(server)", "and False", RULE_TESTS,
           "a CMDB entry pinned to its backup server by UID is dropped under include_servers"),
    Mutant("scope-unmatched-silent", MU + "_compliance/expected.py",
           "            self.waiting = [entry for entry in self.waiting if not _row_selected(row, entry)]",
           "            self.waiting = []", RULE_TESTS, "an include pattern that selects nothing is not said"),
    Mutant("scope-unmatched-ignores-excluded", MU + "_compliance/expected.py",
           "        if self.waiting and excluded is not None:", "        if False:", RULE_TESTS,
           "a pattern that selects only excluded sessions is called empty"),
    Mutant("failed-unknown-state-hidden", MU + "_compliance/sessions.py",
           '    return session.get("result") not in _NOT_AN_OUTCOME', "    return False", RULE_TESTS + WIRE_TESTS,
           "a Failed task session in an undocumented state with a placeholder end is no failure"),
    Mutant("empty-job-index-backups", MU + "_compliance/fold.py",
           "    if index is not None and not job_seen(record, index):",
           "    if index is not None and (index[0] or index[1]) and not job_seen(record, index):",
           RULE_TESTS + WIRE_TESTS, "job sessions EM did not return make every backup task session a backup"),
    Mutant("empty-job-list-administrator", MU + "em_compliance_read.py", '    if reach.get("items") != 0:',
           "    if True:", WIRE_TESTS, "an empty jobs answer is taken for a Portal Administrator"),
    Mutant("glob-prefix-star-literal", MU + "_compliance/policy.py",
           '        if token == "*":\n            return True', '        if token == "*":\n            return False',
           RULE_TESTS, "the glob prefix question reads a '*' as a character no name has"),
    Mutant("failed-read-folded", MU + "em_compliance_read.py", "                fold.discard()", "                pass",
           ["tests/integration/test_compliance_fold_equivalence.py"],
           "the pages folded before a failed query are judged (VMs on half of their sessions)", slow=True),
    # ---- the role's remediation (slow: ansible-playbook against the emulator) ------------------
    Mutant("role-ignores-cap", "roles/veeam_em_compliance/tasks/remediate.yml",
           "| list)[:veeam_em_compliance_retry_max_jobs | int] }}", "| list) }}", ROLE_CAP_TEST,
           "the role ignores retry_max_jobs", slow=True),
    Mutant("role-never-retries", "roles/veeam_em_compliance/tasks/main.yml",
           "    - veeam_em_compliance_retry_failed_jobs | bool\n", "    - false\n", ROLE_CAP_TEST,
           "the role never retries", slow=True),
]


def apply(tree, mutant):
    """Mutate the copy; return (original_text, error). error names a broken definition."""
    path = os.path.join(tree, mutant.path)
    if not os.path.isfile(path):
        return None, "file %s not found" % mutant.path
    with open(path, encoding="utf-8") as handle:
        original = handle.read()
    count = original.count(mutant.snippet)
    if count != 1:
        problem = "not found" if count == 0 else "found %d times" % count
        return None, "snippet %s in %s (%r)" % (problem, mutant.path, mutant.snippet[:60])
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(original.replace(mutant.snippet, mutant.replacement))
    return original, None


def restore(tree, mutant, original):
    with open(os.path.join(tree, mutant.path), "w", encoding="utf-8") as handle:
        handle.write(original)


def run_tests(tree, tests):
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    env.pop("ANSIBLE_COLLECTIONS_PATH", None)  # the copy links itself (tests/collection_layout.py)
    command = [PYTHON, "-m", "pytest", "-q", "-x", "-n", "0", "-p", "no:cacheprovider", "-p", "no:randomly"] + tests
    proc = subprocess.run(command, cwd=tree, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          universal_newlines=True, check=False)
    return proc.returncode, proc.stdout


def last_line(output):
    lines = [line for line in output.strip().splitlines() if line.strip()]
    return lines[-1] if lines else ""


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--slow", action="store_true", help="also run the integration-level mutants")
    parser.add_argument("--only", help="comma-separated mutant ids")
    parser.add_argument("--list", action="store_true", help="list the mutants and exit")
    parser.add_argument("--keep", action="store_true", help="keep the temporary copy")
    args = parser.parse_args(argv)

    mutants = [m for m in MUTANTS if args.slow or not m.slow]
    if args.only:
        wanted = set(args.only.split(","))
        unknown = wanted - {m.ident for m in MUTANTS}
        if unknown:
            parser.error("unknown mutant id(s): %s" % ", ".join(sorted(unknown)))
        mutants = [m for m in MUTANTS if m.ident in wanted]
    if args.list:
        for m in MUTANTS:
            print("%-26s %-40s %s%s" % (m.ident, m.path, m.what, " [slow]" if m.slow else ""))
        return 0

    base = tempfile.mkdtemp(prefix="veeam_em-mutate-")
    tree = os.path.join(base, "src")
    started = time.time()
    try:
        shutil.copytree(ROOT, tree, ignore=COPY_IGNORE, symlinks=True)
        return run_all(tree, mutants, started)
    finally:
        if args.keep:
            print("copy kept in %s" % tree)
        else:
            shutil.rmtree(base, ignore_errors=True)


def run_all(tree, mutants, started):
    # The baseline: every test set must pass on the unmutated copy, or a "kill" means nothing.
    for tests in sorted({tuple(m.tests) for m in mutants}):
        code, output = run_tests(tree, list(tests))
        if code != 0:
            print("BASELINE FAILS for %s:\n%s" % (" ".join(tests), output[-3000:]))
            return 2
    killed, survived, explained, broken = [], [], [], []
    for mutant in mutants:
        original, error = apply(tree, mutant)
        if error:
            broken.append(mutant)
            print("BROKEN    %-26s definition error: %s" % (mutant.ident, error))
            continue
        try:
            code, output = run_tests(tree, mutant.tests)
        finally:
            restore(tree, mutant, original)
        if code != 0:
            killed.append(mutant)
            print("killed    %-26s %s" % (mutant.ident, mutant.what))
        elif mutant.explained:
            explained.append(mutant)
            print("explained %-26s %s: %s" % (mutant.ident, mutant.what, mutant.explained))
        else:
            survived.append(mutant)
            print("SURVIVED  %-26s %s (%s; tests: %s)" % (mutant.ident, mutant.what, last_line(output),
                                                          " ".join(mutant.tests)))
    valid = len(mutants) - len(broken)
    score = 100.0 * len(killed) / valid if valid else 0.0
    print("\nmutation score: %d/%d killed (%.0f%%), %d explained, %d survived, %d broken definitions; %.0fs"
          % (len(killed), valid, score, len(explained), len(survived), len(broken), time.time() - started))
    if broken:
        return 2
    return 1 if survived else 0


if __name__ == "__main__":
    sys.exit(main())
