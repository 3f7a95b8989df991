#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, backupops engineering
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: veeam_em_compliance_info
short_description: Read the lookback window from Veeam Backup Enterprise Manager and return compliance verdicts
version_added: 1.0.0
description:
  - Logs on to Veeam Backup Enterprise Manager (EM) once (or uses O(session_id)), reads the backup and
    replica task sessions, the backup and replica job sessions created in the lookback window and the
    backup servers EM knows, logs off, and evaluates them with the rules of the
    P(backupops.veeam_em.veeam_em_compliance#filter) filter, whose documentation describes every rule and
    reason code.
  - Only the verdicts are returned, never the sessions; the sessions are read with only the keys the rules
    use. This is what makes the nightly run fast at thousands of VMs - the info modules plus the filter
    give the same verdicts, with every session passing through Ansible's result and templating layers.
  - Each resource is one EM query (C(GET /api/query), creation time at or after O(now) minus
    O(lookback_days), and before O(now) when O(now) is given), walked page by page with the pages fetched
    in parallel once their count is known. Requests per run - one logon, one GET per page of each resource,
    one logoff.
  - Before the reads, one request probes the account's reach - C(GET /api/query?type=Job&pageSize=1), which EM
    refuses with 403 to every role but Portal Administrator (EM has no "who am I" for roles). A refused account
    sees only the part of EM in its scope, without any error; the result then carries a C(partial_view) finding
    naming the account and the backup servers it sees, with severity C(error) (not compliant) unless
    O(allow_partial_view=true). How much a real Portal User misses is not documented (the emulator hides one
    whole backup server). An answer with no job at all, while sessions of jobs are read, proves no reach either
    (a narrower role gets fewer objects, not an error) and is a C(partial_view) too.
  - With O(read_history) the task sessions EM keeps from before the window (EM keeps 30 days) are read too, with
    the identity keys only, and reduced at once to the newest session per VM, job and result. Every VM of that
    history is judged - a VM whose backups stopped (removed from its job, job deleted) is C(rpo_exceeded) with
    the real age of its last success instead of vanishing from the report after O(lookback_days).
  - A read that fails stops the reading; the module then fails, and its result still carries RV(compliance),
    evaluated on what was read with a C(read_error) finding (status C(error), not C(violation)) naming the error,
    so that reports can be written.
  - The C(backupops.veeam_em.veeam_em_compliance) role is built on this module.
author:
  - backupops engineering (@backupops)
extends_documentation_fragment:
  - backupops.veeam_em.connection
  - backupops.veeam_em.compliance_policy
  - backupops.veeam_em.attributes.info_module
options:
  now:
    description:
      - The evaluation time, an ISO 8601 string (C(Z) or an offset; no zone means UTC).
      - Omitted, the current UTC time is used and the window has no upper bound (a backup server whose clock
        runs ahead must not lose its newest sessions). Given, it replays an evaluation - sessions created
        after it are not read.
      - Given more than 24 hours before the controller's clock, the module warns and marks the result
        (RV(compliance.window) C(replayed)) - never a failure, the verdicts unchanged.
    type: str
  check_replicas:
    description: Read replica task sessions (and replica job sessions) too.
    type: bool
    default: true
  check_jobs:
    description:
      - Read backup (and replica) job sessions for the per-job rows of RV(compliance.jobs) (last run, result,
        retries, C(job_failed) findings, which are part of the verdict) and for the job type of every backup
        task session (O(copy_rpo_hours)). Job sessions are read from the history start (30 days), as far back as
        the task sessions; a backup task session whose job is not among them at all (a copy job whose session
        has run for longer) is judged as a copy, never as a backup, and named by a C(job_type_unknown) warning.
        A window task session whose job session no read returned (a copy job's session open for longer than
        the 30 days, one EM collected late) has it read by its UID (C(named_job_sessions) in RV(queries)).
        One whose job sessions carry no JobType is counted as a backup, and a C(job_type_unknown) warning names
        their count and first job (a backup copy job among them would count as a backup).
        With V(false) failed jobs are not seen and every task session counts as a backup
        (C(summary.backup_sessions_job_type_unknown)).
    type: bool
    default: true
  known_servers_from_em:
    description:
      - Read the backup servers EM knows and add them to O(known_backup_servers), so that a server with no
        session in the window is a C(server_silent) violation.
      - With the history cache (O(history_cache)) the list is read before the cache is used and kept in it - a
        server new to EM is a full read of the history (see there).
    type: bool
    default: true
  read_history:
    description:
      - Read the backup (and replica) task sessions from 30 days before O(now) up to the window start, with
        identity keys only, so that every VM EM keeps sessions of is judged (see the description).
      - Job sessions are read for the window only; a history session takes the job type of its job by job
        name and server from them (a copy stays a copy), and counts as a backup when its job has no job
        session in the window.
      - Cost measured against the emulator at 5,000 VMs and 30 days (7-day window) - 140 more requests of 1,000
        sessions (51 to 191 for the whole run), about 3.5 times the read time, and about 35 MB more peak memory
        (155 to 190 MB) - the pages are folded as they arrive, only the newest session per VM, job and result is kept.
        Not read when O(lookback_days) is 30 or more (the window is the history).
      - With O(report_dir) and O(history_cache) the history is read in full only on the first night and every
        O(history_full_read_days); the other nights read only its newest part (see O(history_cache)).
    type: bool
    default: true
  history_cache:
    description:
      - Keep the history (what O(read_history) reduces it to - the newest session per VM, job and result) in
        O(report_dir) as C(<report_basename>.history-cache.json.gz) (gzip'd JSON lines, mode O(report_mode), replaced
        atomically), and on the next run read from EM only the history after the cached part - from
        O(history_cache_overlap_hours) before the point the cache covers up to the window start. At 5,000 VMs and
        30 days of history this skips most of the run's requests (the history was 140 of 192).
      - The cache covers the history up to the window start of the run that wrote it, but never past the creation
        time of the oldest history session that was still running (its result changes when it ends; it is read
        again). Cached sessions older than the 30 days before O(now) are dropped, as EM forgets them.
      - A cache is used only when it fits - the same EM (server URL), the same O(username), the same kinds read
        (O(check_replicas)), the same format and history fields, written by a run whose O(now) is not after this
        run's, covering up to a point not inside this run's window and not before this run's history start, and
        the last full read less than O(history_full_read_days) ago. With O(known_servers_from_em) EM's backup
        servers are read before the cache, and a server EM lists that the cache's run did not list, by name or by
        UID (added to EM, added again under its old name with a new UID, or reached again after EM forgot it - its
        past sessions may have just been collected) is a full read too.
        Otherwise (or when the file is unreadable) the whole history is read; RV(history_cache) says which and
        why. A cache is never a failure.
      - Written only when every read succeeded, and never in check mode (a cache is read there, not written).
      - The file is believed for what the run does not ask EM again. Where EM is asked again, EM's answer for a
        session, task or job session, wins over the file's; a line its writer cannot have written (a job session
        twice, a time outside its part's range, a running session before the covered end) is a full read, said. A
        line edited within its range cannot be told from a true one, so keep O(report_dir) writable only by the
        account that runs the job, or set O(history_cache=false).
      - Without O(report_dir), with O(read_history=false) or V(false) here, the whole history is read every run.
      - The warm verdicts equal those of a full read of the same night, except for sessions EM collects later than
        O(history_cache_overlap_hours) after their creation while their backup server shows sessions (see there),
        which the next full read finds.
      - A backup server with no session for longer than O(history_cache_overlap_hours) (EM may not reach it; when
        it does, its sessions come with their past creation times) holds the cache back - it covers only up to that
        server's last sign of life (the newest end, else start, of its window sessions, the creation of its history
        sessions; whatever the VM, job and server patterns, as another night's may take it in) plus the overlap,
        so the next run reads again from that sign of life, and C(quiet_server) in RV(history_cache) says so. A server
        EM lists (O(known_servers_from_em)) in the server scope with no session at all in the 30 days holds it
        back to the history start. While a server is that quiet, each run reads back to its newest session (at
        most a full read); exclude a retired server EM still lists (O(exclude_servers)) or remove it from EM.
      - With O(history_cache_window) (the default) the cache also keeps the window's task sessions (see there).
      - A cache file under 20 MB (about 20,000 VMs) is read by a child process of the module (C(os.fork); a second
        thread where the module cannot fork) while EM's window is read (the ranges asked of EM come from its first
        line), which hides most of its read-back time; a bigger one is read before EM is asked, which keeps the
        module's memory lower. The verdicts are the same either way. A child that fails or is killed makes the run
        a full read, and C(reason) in RV(history_cache) says why.
      - Below 20,000 VMs the cache file is written by a child process of the module (C(os.fork)) while the module
        evaluates the sessions and writes the reports; the module waits for it before it answers, and
        RV(history_cache) says what it wrote, or C(write_error). Bigger fleets write it before the evaluation
        (a child would keep a second copy of the sessions in memory).
    type: bool
    default: true
  history_cache_window:
    description:
      - Also keep the window's task sessions (every one, with all the window's fields - the rules need each, not
        only the newest) created before the point the cache covers, that is before the run's O(now) and before the
        oldest session still running (window or history). The next night then reads from EM only the sessions
        created from O(history_cache_overlap_hours) before that point on - the window from there, and the history
        only when that point is before its window start (otherwise the history queries are not sent; their
        RV(queries) entries say C(skipped)). Last night's window becomes tonight's history.
      - What you trade - a window session created more than O(history_cache_overlap_hours) before the previous run
        is not read again from EM until the next full read (O(history_full_read_days)); a session EM collects later
        than the overlap, or a past session EM changes, is found then, not the next night. Its verdicts otherwise
        equal a full read's (sessions that end later are read again, as their start bounds the cache).
      - The window part is not written when the run set aside a window item it cannot place in time (no readable
        creation time, or no VM); the next run then reads the whole window, and RV(history_cache) says why.
      - A cache whose window starts after this run's window start (O(lookback_days) grew) is not used - the whole
        history and window are read.
      - Only with O(history_cache). V(false) reads the whole window every night (the history cache works as without
        this option).
      - The job sessions (O(check_jobs)) are kept too, whatever this option says - every job session of the window
        created before the oldest window job session EM may still change (not C(Stopped) with an end), and, of each
        job seen before the window, the type of its newest typed session with that session's creation time, and
        the creation time of its newest session when that one carries no type. The next night reads the job
        sessions from EM only from O(history_cache_overlap_hours) before that point on, not the 30 days (at 50,000
        VMs about 146 of a warm night's 326 requests). A job whose newest session is older than the 30 days is
        dropped, as a full read would not see it - its task sessions then count as a copy, never as a backup.
        A job session without a readable creation time leaves the job part unwritten (the next run reads them all).
        A cache whose job part holds a line its writer cannot have written (a job session outside its window or
        not settled, a type dated at or after its window start, a type that is not a word) is not used.
    type: bool
    default: true
  history_cache_overlap_hours:
    description:
      - Hours before the end of the cached history that are read again from EM on a run that uses the cache.
      - Why - EM collects the sessions of each backup server; a backup server EM could not reach sends its
        sessions when it is back, with their past creation times (inferred, not observed - docs/em-api-facts.md).
        Sessions collected up to this many hours late are found the next night; so are those of a backup server
        that had no session for longer than this (the cache then ends at its last sign of life plus this many
        hours, C(quiet_server) in RV(history_cache)); other later ones by the full read every O(history_full_read_days).
      - A number from 0 to 8760 (a year - a longer overlap than the 30-day history reads it all anyway); a value
        outside fails the module before any request.
    type: float
    default: 48
  history_full_read_days:
    description:
      - Read the whole history again (and rewrite the cache) when the last full read is this many days old or more;
        this bounds for how long a session EM collected later than O(history_cache_overlap_hours) can be missed.
      - A number from 0 to 3650 (ten years; a value outside fails the module before any request); V(0) reads the
        whole history every run (the cache is written but never used).
    type: float
    default: 7
  page_size:
    description:
      - Entities per page (EM C(pageSize)). 1000 was measured to be where larger pages stop paying off.
    type: int
    default: 1000
  concurrency:
    description:
      - Pages fetched at the same time once the page count is known (1 to 32).
    type: int
    default: 4
  media_type:
    description:
      - Response format asked from EM. JSON was measured 4.5 to 5 times cheaper to parse than XML.
    type: str
    choices: [json, xml]
    default: json
  detail:
    description:
      - V(full) returns RV(compliance) exactly as the filter does.
      - V(compact) keeps one small row per VM in RV(compliance.vms) (C(vm_display_name), C(vm_uid),
        C(backup_server_name), C(backup_server_uid), C(status), C(reasons)); the findings, the per-kind
        detail and the day grid are then only in the reports. At 5,000 VMs the full rows are about 7 MB,
        and ansible-core spends about a second per megabyte of result in its result and templating layers.
      - V(summary) returns no VM rows at all (RV(compliance.vms) is absent, never an empty list); the counts
        (RV(compliance.summary)), the findings, servers and jobs stay. For fleets of tens of thousands of VMs
        whose rows are read in the reports (O(report_dir)); at 50,000 VMs the compact rows are 24 MB of JSON.
    type: str
    choices: [full, compact, summary]
    default: full
  result_format:
    description:
      - V(dict) returns the evaluation as the dict RV(compliance).
      - V(json) returns the same document as one JSON text in RV(compliance_json) instead (no RV(compliance) key);
        C(from_json) of it is RV(compliance) key for key. ansible-core walks every value of a task's result for
        its callbacks and again in each C(set_fact) that copies it (about 0.8 s in all at 5,000 VMs with
        O(detail=compact), ansible-core 2.19), where a text is one value. The role
        C(backupops.veeam_em.veeam_em_compliance) uses it.
      - Read it with C(from_json), as in C({{ nightly.compliance_json | from_json }}). Its strings stay unsafe as the
        registered result's - ansible-core marks what a template makes of an unsafe value unsafe, and 2.19 renders
        only trusted strings - so a VM, job or backup server whose name in EM holds C({{ }}) is printed, never
        rendered.
    type: str
    choices: [dict, json]
    default: dict
  report_formats:
    description:
      - Reports to make from the full evaluation - V(json) (the whole evaluation), V(junit) (one test case per
        VM, backup server and job) and V(html) (a self-contained page, what is wrong first); the same documents
        as the C(to_nice_json), P(backupops.veeam_em.veeam_em_compliance_junit#filter) and
        P(backupops.veeam_em.veeam_em_compliance_html#filter) filters make.
      - With O(report_dir) the module writes them as files (see there) and returns their paths in
        RV(report_files); the JSON is streamed to its file, never built as one text.
      - Without O(report_dir) they are returned as text in RV(reports) (the behaviour before O(report_dir)
        existed, kept for compatibility). Writing that text with M(ansible.builtin.copy) passes every document
        through Ansible's result and templating layers - in the 300-VM demo that took 3.7 of 5.9 s of the
        playbook - so prefer O(report_dir).
    type: list
    elements: str
    choices: [html, json, junit]
    default: []
  report_dir:
    description:
      - Directory the module writes the O(report_formats) to, created (mode C(0755)) when missing.
      - An absolute path (C(~) is expanded); a relative one is refused before any request, because the module's
        working directory is the playbook's folder (an installed collection, AWX's job folder), not the
        directory C(ansible-playbook) was started from.
      - The files are written B(on the host the module runs on) - the Ansible controller when the play runs with
        C(connection=local) (as the C(backupops.veeam_em.veeam_em_compliance) role's playbooks do); on any
        other host they land there, not on the controller.
      - Written per run - C(<basename>.json), C(.xml) (JUnit), C(.html) (the stable "latest", each replaced
        atomically - written to a temporary file in the same directory, then renamed - so a reader never sees
        half a report), C(<basename>.state.json) (the findings the next run compares with), C(<basename>.trend.json)
        (VMs and jobs OK or not, what the trend counts nights from) and, with O(report_history) above 0, dated copies C(<basename>-YYYYmmddTHHMMSSZ.<ext>)
        named after RV(compliance.generated_at) (UTC), as hard links where the file system allows.
      - The reports compare with the previous run in the same directory - its state, else its JSON report
        - and mark findings V(new), V(since <date>) (recurring) or resolved; the first run says "first report".
      - A file that cannot be written fails the module, naming O(report_dir) and the reason; RV(compliance) is
        still returned.
      - In check mode nothing is written (RV(report_files) is empty). The module reports C(changed=false) either way
        (an info module; the files are its output, not managed state).
    type: path
  report_basename:
    description: File name stem of the reports in O(report_dir) (no C(/), not starting with C(.)).
    type: str
    default: compliance
  report_history:
    description:
      - Dated copies of the newest this many runs are kept in O(report_dir); the dated files of older runs with
        the same O(report_basename) are deleted (all formats of a run share its time stamp). V(0) writes no
        dated copies and deletes none.
    type: int
    default: 30
  report_trend_days:
    description:
      - Nights of the success-rate trend per job and per VM (RV(report_files) and the reports' C(trend)), counted
        from the dated states kept by O(report_history) plus this run; the newest run of each UTC night counts.
        V(0) turns it off.
    type: int
    default: 30
  report_html_max_rows:
    description:
      - Above this many VM rows the HTML report lists only the VMs that are not compliant, at most this many rows
        per table, and says how many rows are in the JSON report only, with a link to it. A browser needs seconds
        and hundreds of megabytes for a 50,000-row page; the JSON report always has every row.
    type: int
    default: 2000
  report_mode:
    description: File mode of the written reports, an octal string.
    type: str
    default: "0644"
  report_title:
    description: Title of the HTML report.
    type: str
    default: Veeam backup compliance
notes:
  - The EM account needs a role that sees sessions. Portal Administrator sees all; a Portal User sees its own
    scope, which EM does not mark - the probe of the account's reach makes it a C(partial_view) finding; a
    Restore Operator cannot read task sessions (a C(read_error)).
  - From 1,000 to 20,000 VMs a child process of the module (C(os.fork)) evaluates half of the VMs while the module
    evaluates the other half (the same verdicts as one process). A child that fails or is killed (for example by
    the out-of-memory killer of a container with a memory limit) leaves its half to the module - the same verdicts,
    later - and a warning of the module says why.
seealso:
  - plugin: backupops.veeam_em.veeam_em_compliance
    plugin_type: filter
  - module: backupops.veeam_em.veeam_em_backup_task_session_info
"""

EXAMPLES = r"""
- name: Nightly verdicts for the last 7 days
  backupops.veeam_em.veeam_em_compliance_info:
    server: em01.example.com
    username: CORP\svc-veeam-report
    password: "{{ vault_em_password }}"
    ca_path: /etc/pki/em-ca.pem
    backup_rpo_hours: 24
    exclude_vms: ["tmp-*", "template*"]
    expected_vms: "{{ lookup('ansible.builtin.file', 'cmdb_vms.json') | from_json }}"
  register: nightly

- name: List the VMs in violation
  ansible.builtin.debug:
    msg: "{{ nightly.compliance.vms | selectattr('status', 'equalto', 'violation') | map(attribute='vm_display_name') }}"

- name: Compact verdicts; the module writes the three reports on the controller (latest, 30 dated copies)
  backupops.veeam_em.veeam_em_compliance_info:
    detail: compact
    report_formats: [json, junit, html]
    report_dir: /var/reports/veeam
  register: nightly
  delegate_to: localhost

- name: Name the HTML report
  ansible.builtin.debug:
    msg: "Open {{ nightly.report_files.files.html }} ({{ nightly.report_files.changes.new }} new findings)"

- name: Replay last night's evaluation, backups only
  backupops.veeam_em.veeam_em_compliance_info:
    now: "2026-11-23T06:00:00Z"
    check_replicas: false
    check_jobs: false
  register: replay
"""

RETURN = r"""
compliance:
  description:
    - The evaluation, exactly as the P(backupops.veeam_em.veeam_em_compliance#filter) filter returns it; its
      documentation describes every key. With O(detail=compact) the rows of RV(compliance.vms) are reduced,
      with O(detail=summary) absent.
  returned: always, also when a read failed
  type: dict
  contains:
    status:
      description:
        - Worst status overall, C(compliant), C(warning), C(violation) or C(error).
        - C(error) - EM could not be read, or only in part (a failed read, an account that is not a Portal
          Administrator); the verdicts cover only what was read. An outage is not a breach.
      type: str
      sample: violation
    compliant:
      description: True only for C(compliant) and C(warning) - false when any violation or error exists.
      type: bool
      sample: false
    generated_at:
      description: O(now) as a UTC C(Z) string.
      type: str
      sample: "2026-11-23T06:00:00Z"
    window:
      description:
        - C(start), C(end), C(lookback_days) and C(days) (the UTC dates of the day grid).
        - C(replayed) - true when O(now) is more than 24 hours before the controller's clock (UTC), a past night
          replayed (a O(now) left in group_vars replays the same night every night); the module then warns, naming
          O(now), its value and the hours. C(replay_hours) - how many hours before the clock (null when not a
          replay). The verdicts are those of the night replayed either way; the JSON and HTML reports carry it.
          Only in the module's result (the filter has no clock).
      type: dict
      sample: {"start": "2026-11-16T06:00:00Z", "end": "2026-11-23T06:00:00Z", "lookback_days": 7.0,
               "days": ["2026-11-16", "2026-11-17"], "replayed": false, "replay_hours": null}
    source:
      description:
        - Which Enterprise Manager was read and as whom, for the report header. Only in the module's result (the
          filter has no connection); never carries a password or token.
        - C(em_server) - the EM base URL; C(username) - the account that logged on (none with a session token).
      type: dict
      sample: {"em_server": "https://em01.example.com:9398", "username": "CORP\\svc-veeam-report"}
    policy:
      description: The policy in effect, including the backup servers read from EM.
      type: dict
      sample: {"backup_rpo_hours": 24.0, "known_backup_servers": ["vbr01.example.com"]}
    summary:
      description: Counts of VMs, servers, jobs, findings and sessions (see the filter).
      type: dict
      sample: {"vms_total": 300, "vms_violation": 4, "violations_total": 5, "no_data": false}
    vms:
      description:
        - One row per backup server and VM, violations first, with findings and the daily cells.
        - With O(detail=compact) only C(vm_display_name), C(vm_uid), C(backup_server_name), C(backup_server_uid),
          C(status) and C(reasons).
        - Absent with O(detail=summary) (the rows are then only in the reports).
      returned: unless O(detail=summary)
      type: list
      elements: dict
      sample: [{"vm_display_name": "sql01", "backup_server_name": "vbr01.example.com", "status": "violation",
                "reasons": ["rpo_exceeded"]}]
    servers:
      description: One row per backup server.
      type: list
      elements: dict
      sample: [{"backup_server_name": "vbr01.example.com", "status": "compliant", "vms": 150}]
    jobs:
      description:
        - One row per job with job sessions in the window, failed first (empty when O(check_jobs=false)).
        - C(status) is the worst severity of its C(findings) (C(job_failed) with O(failed_job_severity),
          C(recovered_failure)); C(failed) is true when the newest finished run failed and was not made good.
      type: list
      elements: dict
      sample: [{"job_name": "Backup SQL", "status": "warning", "reasons": ["job_failed"], "failed": true,
                "last_result": "Failed", "retries": 1}]
    violations:
      description: Every violation, flattened, each with a readable C(text).
      type: list
      elements: dict
      sample: [{"code": "rpo_exceeded", "text": "vbr01.example.com / sql01: rpo_exceeded - ..."}]
    warnings:
      description: Every warning finding, same shape as RV(compliance.violations).
      type: list
      elements: dict
      sample: []
    errors:
      description:
        - Every finding of severity C(error) - C(read_error) (EM could not be read) and C(partial_view) (the
          account sees only part of EM) - same shape as RV(compliance.violations).
      type: list
      elements: dict
      sample: [{"code": "read_error", "scope": "global", "text": "(all): read_error - Enterprise Manager could not be read: HTTP 401"}]
compliance_json:
  description:
    - RV(compliance) as one JSON text, with O(result_format=json) (then RV(compliance) is not returned); C(from_json)
      of it is RV(compliance).
  returned: with O(result_format=json), also when a read failed
  type: str
  sample: '{"status": "violation", "compliant": false, "summary": {"vms_total": 300}}'
reports:
  description:
    - The documents asked with O(report_formats), keyed by format, as text - only without O(report_dir)
      (empty with it, and without O(report_formats)).
  returned: always
  type: dict
  sample:
    junit: "<?xml version='1.0' encoding='utf-8'?>\n<testsuites name=\"veeam_em_compliance\" tests=\"300\" ..."
report_files:
  description:
    - What the module wrote to O(report_dir) (empty without O(report_dir) or O(report_formats)).
  returned: always
  type: dict
  contains:
    dir:
      description: O(report_dir).
      type: str
    files:
      description: The latest file of each format (C(json), C(junit), C(html)), C(state) and C(trend), absolute paths.
      type: dict
      sample: {"html": "/var/reports/veeam/compliance.html", "state": "/var/reports/veeam/compliance.state.json"}
    dated:
      description: The dated copies of this run, same keys (empty with O(report_history=0)).
      type: dict
    removed:
      description: Dated files of older runs deleted by O(report_history).
      type: list
      elements: str
    changes:
      description:
        - Compared with the previous report in O(report_dir) - C(first_report) (true when there was none; nothing
          is then called new), C(previous_generated_at), and the counts of C(new), C(recurring) and C(resolved)
          findings (errors and violations). The lists are in the reports' C(changes).
      type: dict
      sample: {"first_report": false, "previous_generated_at": "2026-11-28T06:00:00Z", "new": 2, "recurring": 5,
               "resolved": 1}
    trend_nights:
      description: Nights the trend of the reports (C(trend)) counts.
      type: int
      sample: 30
  sample:
    dir: /var/reports/veeam
    files: {"json": "/var/reports/veeam/compliance.json"}
queries:
  description:
    - One entry per resource read (C(account_reach), C(backup_task_sessions), C(replica_task_sessions),
      C(backup_task_history), C(replica_task_history), C(backup_servers), C(backup_job_sessions),
      C(replica_job_sessions)) - the EM query type, filter, sort, page size, pages, requests and items read;
      C(failed) instead for the read that failed. C(account_reach) has C(administrator) (false when EM refused
      the probe); the history entries have C(kept), the sessions kept after the reduction, and C(created_after) and
      C(created_before), the range of creation times read (shorter than 30 days when the history cache gave the
      rest, see RV(history_cache)). A history query the cache made needless is not sent - its entry is
      C(skipped) (C(the history cache holds it)), C(requests) 0, C(cache_read_from) and C(window_start), and no
      C(items). With the history cache in use, the window's task-session entries have C(created_after) and
      C(created_before) too (O(history_cache_window) - later than the window start when the cache gave its start).
      The job-session entries have C(created_after) and C(created_before), the range read (from the history start,
      or later when the history cache's job part gave the rest), and with the history cache in use C(cached), the
      window job sessions it gave.
      C(named_job_sessions) (with O(check_jobs)) - the backup job sessions that window backup task sessions name
      but no job-session read returned (a copy job's session open for longer than the history, one EM collected
      late), read by UID so that their task sessions are typed by their own job session - C(asked), C(not_asked)
      (values that are not a backup job session UID, never put into a filter; their task sessions count as copies
      and C(job_type_unknown) names them), C(requests) (usually 0) and C(items).
  returned: always
  type: dict
  sample:
    backup_task_sessions:
      type: BackupTaskSession
      filter: CreationTime>="2026-11-16T06:00:00Z"
      sort: sortAsc=CreationTime
      page_size: 1000
      pages: 32
      requests: 32
      items: 31044
history_cache:
  description:
    - What the history cache (O(history_cache)) did in this run.
    - C(used) - true when cached history stood in for part of the history read; C(reason) - why it was or was not
      used (no cache yet, another EM or account, a gap, a full read due, ...); C(read_from), C(read_to) - the range
      of creation times of the history read from EM (UTC C(Z) strings; null when the history is not read);
      C(history_read) - false when the cache held the whole history before the window (no history query sent);
      C(window_read_from) - where the window's task sessions were read from (the window start, or later when the
      cache held the window's start, O(history_cache_window));
      C(items_loaded) - history items in the cache file; C(items_kept) - cached items folded in as history (also
      last night's window sessions now before the window; the others were older than the history start or inside
      the range read again); C(window_items_loaded), C(window_items_kept) - the cached window sessions, and those
      folded in as this run's window; C(window_cached) - whether the cache written holds the window (null when
      none was written); C(window_reason) - why the window is not cached (O(history_cache_window) false, or
      window items set aside), only then; C(written) - the path of the cache written, null when none
      was written (check mode, no O(report_dir), a failed read); C(write_error) - only when writing failed (the
      run's verdicts are complete; the next run reads the whole history); C(not_written) - only when the cache was
      left unwritten on purpose (history sessions without a readable creation time, which no cache can keep and
      whose finding must come back every night). C(job_read_from) - where the job sessions were read from (null
      without O(check_jobs)); C(job_items_loaded), C(job_items_kept) - the job part's lines in the file, and those
      it gave this run (window job sessions and job types); C(jobs_cached) - whether the cache written holds the
      job part; C(jobs_reason) - why the job part was not used or not written, only then. C(quiet_server) - only
      when a backup server in scope had no session for longer than O(history_cache_overlap_hours) - which one, since
      when, and where the cache written ends because of it (O(history_cache)).
  returned: always
  type: dict
  sample: {"used": true, "reason": "the history cache of the run at 2026-11-22T06:00:00Z covers up to 2026-11-22T06:00:00Z;
           read from EM from 2026-11-20T06:00:00Z (48 h overlap): the history before the window is all in the cache,
           not read", "read_from": null, "read_to": null, "history_read": false,
           "window_read_from": "2026-11-20T06:00:00Z", "items_loaded": 11020, "items_kept": 15970,
           "window_items_loaded": 43010, "window_items_kept": 30700, "window_cached": true,
           "written": "/var/reports/veeam/compliance.history-cache.json.gz"}
requests:
  description: HTTP requests sent to EM, logon and logoff included.
  returned: always
  type: int
  sample: 47
"""

from ansible_collections.backupops.veeam_em.plugins.module_utils.em_compliance_module import run_compliance_info_module


def main():
    run_compliance_info_module()


if __name__ == "__main__":
    main()
