"""Deterministic fleet generator: realistic EM data for a given (vms, days, seed, now).

What it makes and why (each feature is something a compliance report must cope with):
* several backup servers with FQDN names, one of them ``restricted`` (hidden from Portal Users);
* VMs whose names contain spaces, dots, quotes, commas, semicolons, parentheses and non-ASCII
  (filter-quoting tests), and the same VM name (``dc01``) on two backup servers;
* backup jobs (every VM) and replica jobs (a subset of VMs), one session per job per day at a
  per-job scheduled time, task sessions per VM with size-dependent durations;
* failures with real-looking ``Reason`` texts, warnings, a few chronically failing VMs,
  ``IsRetry`` job sessions re-running failed VMs later the same day;
* sessions still running at ``now`` (Working / InProgress / Pending) including one stuck for
  more than 12 h, and VMs that stopped being backed up a few days ago.

Same arguments → byte-identical dataset (``random.Random(seed)``, no wall clock except the
``now`` passed in). 5,000 VMs × 30 days takes a few seconds.
"""
import random
import uuid

from .model import BackupServer, Dataset, Job, JobSession, TaskSession, Vm
from .timeutil import DAY_US, US, fmt_name_ts

SERVER_NAMES = [
    "vbr01.corp.example.com",
    "vbr02.corp.example.com",
    "vbr-restricted01.secure.example.com",
    "vbr-emea01.emea.example.net",
    "vbr-amer01.amer.example.net",
    "vbr-dr01.dr.example.org",
    "vbr03.corp.example.com",
    "vbr-apac01.apac.example.net",
    "vbr04.corp.example.com",
    "vbr-lab01.lab.example.com",
    "vbr05.corp.example.com",
    "vbr-emea02.emea.example.net",
]
RESTRICTED_INDEX = 2
VERSIONS = ["12.3.1.1139", "12.2.0.334", "13.0.0.4967", "12.1.2.172", "12.3.0.310"]

SPECIAL_VM_NAMES = [
    "dc01",                     # also on the second server (same name on two backup servers)
    "db server 01",
    "web01.prod.example.com",
    'fs "legacy" 01',
    "app,frontend",
    "cache;02",
    "erp (old)",
    "Müller-Fileserver",
    "日本語-vm01",
    "naïve café",
    "mixed; (a,b) \"q\" ü",
]
ROLES = ["web", "app", "sql", "fs", "dc", "exch", "k8s-node", "jump", "mon", "erp", "crm", "ci"]
TIERS = ["Tier1", "Tier2", "Prod", "Dev", "Test", "Finance", "HR"]

FAIL_REASONS = [
    "Error: There is not enough space on the disk. Failed to write data to the file "
    "[E:\\Backups\\@JOB@\\@JOB@D@STAMP@_@HEX@.vib]. Failed to backup text locally. Backup: "
    "[VBK: 'veeamfs:0:@VCG@ (@MOREF@)\\summary.xml@E:\\Backups\\@JOB@\\@JOB@D@STAMP@_@HEX@.vib']. "
    "Agent failed to process method {DataTransfer.BackupText}. ",
    "Error: Failed to create snapshot: Timed out waiting for snapshot to complete (the operation "
    "has timed out) ",
    "Error: VSSControl: Failed to prepare guest for hot backup. Error: VSS asynchronous operation "
    "is not completed. Operation: [Shadow copying freeze]. Code: [0x80042314]. ",
    "Error: Failed to connect to the host's IP address \"10.20.@N@.17\" port 902. Connection refused ",
    "Error: Cannot get service content. Soap fault. Cannot complete login due to an incorrect user "
    "name or password.. Detail: '', endpoint: 'https://vcsa01.corp.example.com:443/sdk' ",
    "Error: Task failed. Failed to open VDDK disk [[datastore-@N@] @VM@/@VM@.vmdk] ( is read-only "
    "mode - [true] ) Failed to download disk. Reconnectable protocol device was closed. ",
    "Error: Object \"@VM@\" not found. ",
    "Error: All repository agents are unavailable. Unable to allocate processing resources. ",
    "Hard disk 1 (0 B)",
]
WARN_REASONS = [
    "Changed block tracking cannot be enabled: one or more snapshots present. ",
    "Failed to truncate transaction logs for SQL instances: MSSQLSERVER. Possible reasons: lack "
    "of permissions, or transaction log corruption. ",
    "Unable to truncate Microsoft SQL Server transaction logs. Details: Failed to call RPC "
    "function 'Vss.TruncateSqlLogs'. ",
    "Guest processing skipped (credentials were not specified) ",
    "VM has an independent disk 'Hard disk 2' that will be skipped ",
    "Snapshot consolidation is required for \"@VM@\". The VM has @N@ snapshots. ",
]
ALNUM = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
_RANK = {"Success": 0, "Warning": 1, "Failed": 2}


class _Gen:
    def __init__(self, n_vms, days, seed, now):
        self.rng = random.Random(seed)
        self.n_vms = max(1, int(n_vms))
        self.days = max(1, int(days))
        self.now = int(now)
        self.ds = Dataset(now_us=self.now)

    def guid(self):
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def reason(self, pool, vm, job_name, t):
        r = self.rng
        text = r.choice(pool)
        return (text.replace("@VM@", vm.name).replace("@JOB@", job_name)
                .replace("@STAMP@", fmt_name_ts(t).replace(" ", "T").replace(":", "").replace("-", ""))
                .replace("@HEX@", "%04X" % r.getrandbits(16)).replace("@N@", str(r.randint(2, 250)))
                .replace("@VCG@", vm.uid.split(":")[-1].split(".")[0])
                .replace("@MOREF@", vm.uid.rsplit(".", 1)[-1]))

    # ------------------------------------------------------------------ inventory
    def inventory(self):
        r = self.rng
        n_srv = max(3, min(len(SERVER_NAMES), self.n_vms // 600 + 3))
        servers = []
        for i in range(n_srv):
            s = BackupServer(self.guid(), SERVER_NAMES[i],
                             "Backup server %s" % SERVER_NAMES[i].split(".")[0] if i % 2 == 0 else "",
                             9392, VERSIONS[i % len(VERSIONS)], 9405, restricted=(i == RESTRICTED_INDEX))
            servers.append(s)
            self.ds.add_server(s)
        vcenters = {s.guid: self.guid() for s in servers}
        morefs = {s.guid: r.randint(1000, 90000) for s in servers}

        names = list(SPECIAL_VM_NAMES)
        placement = {0: 0, 1: 1}  # first dc01 on server 0; an extra dc01 goes on server 1
        vms = []

        def make_vm(name, server):
            morefs[server.guid] += r.randint(1, 40)
            uid = "urn:VMware:Vm:%s.vm-%d" % (vcenters[server.guid], morefs[server.guid])
            size = r.choice([20, 40, 60, 80, 100, 120, 200, 250, 500, 750, 1024, 2048]) * 1073741824
            vm = Vm(uid, name, server, size)
            vms.append(vm)
            self.ds.add_vm(vm)
            return vm

        idx = 0
        while len(vms) < self.n_vms:
            if idx < len(names):
                name = names[idx]
            else:
                role = ROLES[idx % len(ROLES)]
                style = idx % 5
                if style == 0:
                    name = "%s%03d" % (role, idx)
                elif style == 1:
                    name = "%s-%s-%03d" % (role, r.choice(["prod", "dev", "test"]), idx)
                elif style == 2:
                    name = "%s%03d.corp.example.com" % (role, idx)
                elif style == 3:
                    name = "SRV-%s-%04d" % (role.upper(), idx)
                else:
                    name = "%s_%03d" % (role, idx)
            server = servers[placement.get(idx, r.randrange(n_srv))] if idx not in (1,) else servers[0]
            make_vm(name, server)
            if idx == 0 and len(vms) < self.n_vms:
                make_vm("dc01", servers[1])  # same VM name on a second backup server
            idx += 1
        return servers, vms

    # ------------------------------------------------------------------ jobs
    def jobs(self, servers, vms):
        r = self.rng
        per_server = {s.guid: [] for s in servers}
        for vm in vms:
            per_server[vm.server.guid].append(vm)
        backup_jobs, replica_jobs = [], []
        n_job = 0
        # 8-40 VMs per backup job on real fleets; small fleets get smaller jobs so there are several
        lo = max(3, min(8, self.n_vms // 10))
        hi = max(lo + 1, min(40, self.n_vms // 4))
        for si, s in enumerate(servers):
            svms = per_server[s.guid]
            k = 0
            i = 0
            while i < len(svms):
                size = r.randint(lo, hi)
                chunk = svms[i:i + size]
                i += size
                k += 1
                n_job += 1
                if k == 1:
                    name = "Backup Job 1"
                elif k == 2:
                    name = "SQL Servers (nightly)"
                elif k == 3 and si == 0:
                    name = 'Fileserver "Archive" Backup'
                elif k == 4 and si == 0:
                    name = "Tier1\\Nightly; Backup, Main"
                else:
                    name = "Daily Backup - %s %d" % (TIERS[k % len(TIERS)], k)
                j = Job(self.guid(), name, "Backup", s, list(chunk),
                        description="Created by CORP\\veeamadmin at 3/14/2024 10:12 AM.")
                j.next_run = None
                # schedule: evening 18:00-23:59 or early morning 00:00-04:59, fixed minute
                hour = r.choice([18, 19, 20, 21, 22, 23, 0, 1, 2, 3, 4])
                self._schedule[j.guid] = hour * 3600 + r.randrange(0, 60) * 60
                backup_jobs.append(j)
                self.ds.add_job(j)
            # replica jobs on ~20% of the server's VMs
            rep = [v for v in svms if r.random() < 0.2]
            i = 0
            k = 0
            while i < len(rep):
                size = r.randint(4, 15)
                chunk = rep[i:i + size]
                i += size
                k += 1
                name = "Replication Job %d" % k if k % 2 else "DR Replica - %s" % TIERS[k % len(TIERS)]
                j = Job(self.guid(), name, "Replica", s, list(chunk),
                        description="Replicates to DR site (created by CORP\\veeamadmin)")
                self._schedule[j.guid] = r.choice([10, 12, 13, 14, 15, 16]) * 3600 + r.randrange(0, 60) * 60
                replica_jobs.append(j)
                self.ds.add_job(j)
        return backup_jobs, replica_jobs

    # ------------------------------------------------------------------ sessions
    def run_session(self, job, start, vm_list, is_retry, outcome, stuck=False):
        """Create one job session processing ``vm_list`` from ``start``; returns it (or None)."""
        r = self.rng
        now = self.now
        js = JobSession(self.guid(), job, start, None, "Stopped", None, 100, is_retry)
        conc = 4 if job.job_type == "Backup" else 2
        slots = [start + r.randint(5, 50) * US] * conc
        tasks = []
        stuck_vm = vm_list[len(vm_list) // 2] if stuck and vm_list else None
        for vm in vm_list:
            si = min(range(conc), key=slots.__getitem__)
            ct = slots[si] + r.randint(1, 9) * US + r.randrange(1000) * 1000
            res, reason = outcome(vm, job, ct)
            gb = vm.size_bytes / 1073741824.0
            if res == "Failed":
                dur = r.uniform(5, 120)
            elif job.job_type == "Replica":
                dur = 40 + gb * r.uniform(0.05, 0.4)
            else:
                dur = 25 + gb * r.uniform(0.03, 0.5)
            et = ct + int(dur * US)
            slots[si] = et
            tasks.append([vm, ct, et, res, reason])
        ends = [t[2] for t in tasks]
        js_end = (max(ends) if ends else start) + r.randint(3, 40) * US + r.randrange(1000) * 1000
        if stuck:
            js.state, js.result, js.progress = "Working", None, 87
        elif js_end > now:
            done = sum(1 for e in ends if e <= now)
            js.state, js.result = "Working", None
            js.progress = int(100 * done / max(1, len(tasks)))
        else:
            js.set_end(js_end)
            worst = max((_RANK[t[3]] for t in tasks), default=0)
            js.result = ["Success", "Warning", "Failed"][worst]
        self.ds.add_job_session(js, sorted_insert=False)
        failed = []
        for vm, ct, et, res, reason in tasks:
            if vm is stuck_vm or (js.state == "Working" and ct <= now < et):
                state, end, result, reason, size = "InProgress", None, None, "", 0
            elif js.state == "Working" and ct > now:
                state, end, result, reason, size = "Pending", None, None, "", 0
                ct = start + r.randint(1, 5) * US
            else:
                state, end, result = "Completed", et, res
                size = 0 if res == "Failed" else vm.size_bytes
            pg = pn = None
            if result in ("Success", "Warning"):
                pg = self.guid()
                if job.job_type == "Backup":
                    pn = "%s-%s@%s" % (vm.name, "".join(r.choice(ALNUM) for dummy in range(4)), fmt_name_ts(et))
                else:
                    pn = "%s@%s" % (vm.name, fmt_name_ts(et))
            ts = TaskSession(self.guid(), js, vm, ct, end, state, result, reason, size, pg, pn)
            self.ds.add_task_session(ts, sorted_insert=False)
            if result == "Failed":
                failed.append(vm)
        return js, failed

    def sessions(self, backup_jobs, replica_jobs, vms):
        r = self.rng
        now = self.now
        today = now - now % DAY_US
        # VMs that stopped being backed up 3-7 days ago (removed from their jobs)
        stopped = {}
        n_stop = max(1, self.n_vms // 100) if self.n_vms >= 10 else 0
        candidates = [v for v in vms if v.name not in SPECIAL_VM_NAMES]
        for vm in r.sample(candidates, min(n_stop, len(candidates))):
            stopped[vm.uid] = today - r.randint(3, 7) * DAY_US
        # chronically failing VMs: fail every run with the same reason
        chronic = {}
        n_chronic = max(1, self.n_vms // 200) if self.n_vms >= 5 else 0
        for vm in r.sample(candidates, min(n_chronic, len(candidates))):
            chronic[vm.uid] = self.reason(FAIL_REASONS, vm, "", now)

        def outcome_normal(vm, job, t):
            if vm.uid in chronic and job.job_type == "Backup":
                return "Failed", chronic[vm.uid]
            x = r.random()
            if x < 0.03:
                return "Failed", self.reason(FAIL_REASONS, vm, job.name, t)
            if x < 0.08:
                return "Warning", self.reason(WARN_REASONS, vm, job.name, t)
            return "Success", ""

        def outcome_retry(vm, job, t):
            if vm.uid in chronic and job.job_type == "Backup":
                return "Failed", chronic[vm.uid]
            if r.random() < 0.2:
                return "Failed", self.reason(FAIL_REASONS, vm, job.name, t)
            return "Success", ""

        # the stuck job: a backup job on a visible server whose latest session started >12 h ago
        stuck_job = next((j for j in backup_jobs if not j.server.restricted), None)
        stuck_start = now - 14 * 3600 * US - r.randint(0, 1800) * US

        for job in backup_jobs + replica_jobs:
            offset = self._schedule[job.guid] * US
            for d in range(self.days - 1, -1, -1):
                day = today - d * DAY_US
                start = day + offset + r.randint(0, 90) * US + r.randrange(1000) * 1000
                is_stuck = False
                if job is stuck_job:
                    if start >= stuck_start - 3600 * US:
                        if d != 0 and not (stuck_start >= day and stuck_start < day + DAY_US):
                            continue
                        if getattr(self, "_stuck_done", False):
                            continue
                        start, is_stuck = stuck_start, True
                        self._stuck_done = True
                if start > now:
                    continue
                vm_list = [v for v in job.vms if stopped.get(v.uid, now + 1) > start]
                if not vm_list:
                    continue
                js, failed = self.run_session(job, start, vm_list, False, outcome_normal, stuck=is_stuck)
                # automatic retries (EM shows them as IsRetry job sessions), same day
                tries = 0
                while failed and js.et is not None and tries < job.retry_times - 1 and r.random() < 0.8:
                    tries += 1
                    rstart = js.et + r.randint(10, 30) * 60 * US
                    if rstart > now or rstart >= day + DAY_US + offset:
                        break
                    js, failed = self.run_session(job, rstart, failed, True, outcome_retry)
        # a manual run in progress right now: Working job session, InProgress + Pending tasks
        running_job = next((j for j in backup_jobs if not j.server.restricted and j is not stuck_job
                            and len(j.vms) >= 3), None)
        if running_job is not None:
            vm_list = [v for v in running_job.vms if v.uid not in stopped]
            if vm_list:
                self.run_session(running_job, now - 150 * US - r.randint(0, 60) * US, vm_list, False, outcome_normal)
        # jobs no longer contain the VMs that stopped being backed up
        for job in backup_jobs + replica_jobs:
            job.vms = [v for v in job.vms if v.uid not in stopped]
            job.next_run = today + self._schedule[job.guid] * US
            if job.next_run <= now:
                job.next_run += DAY_US

    def build(self):
        self._schedule = {}
        servers, vms = self.inventory()
        bjobs, rjobs = self.jobs(servers, vms)
        self.sessions(bjobs, rjobs, vms)
        self.ds.finish_bulk()
        return self.ds


def generate(vms=50, days=7, seed=1, now=None):
    """Build a Dataset; ``now`` is epoch µs (the caller decides real vs fixed clock)."""
    if now is None:
        from .timeutil import now_us
        now = now_us()
    return _Gen(vms, days, seed, now).build()
