"""TLS: certificate validation is on by default, a wrong CA or host name fails clearly, ca_path works,
validate_certs: false warns. REQUESTS_CA_BUNDLE and CURL_CA_BUNDLE are set in the environment (to a
bundle that does not know the emulator's CA), as on our machines: they override requests'
``Session.verify``, so the client must pass ``verify=`` on every request.
"""
from reliability.support import assert_no_traceback, certifi_bundle, run_playbook


def cases(em):
    good = {"page_size": 50}
    return [
        # name, args, env for the module, expected ("ok" or message parts)
        ("default-validates", dict(good), {}, ["TLS/certificate error", "CERTIFICATE_VERIFY_FAILED", "ca_path"]),
        ("ca_path", dict(good, ca_path=em.ca_file), {}, "ok"),
        ("wrong-ca", dict(good, ca_path=certifi_bundle()), {}, ["TLS/certificate error", "certificate verify failed"]),
        ("wrong-hostname", dict(good, ca_path=em.ca_file, server="https://127.1:%d" % em.port), {},
         ["TLS/certificate error", "Hostname mismatch"]),
        ("validate_certs-false", dict(good, validate_certs=False), {}, "ok"),
        # the environment's bundles trust the emulator, the task's ca_path does not: ca_path wins
        ("env-bundle-does-not-override-ca_path", dict(good, ca_path=certifi_bundle()),
         {"REQUESTS_CA_BUNDLE": em.ca_file, "CURL_CA_BUNDLE": em.ca_file}, ["certificate verify failed"]),
        # validate_certs: false is not turned back on by the environment's bundles either
        ("env-bundle-does-not-re-enable-verification", dict(good, validate_certs=False),
         {"REQUESTS_CA_BUNDLE": certifi_bundle(), "CURL_CA_BUNDLE": certifi_bundle()}, "ok"),
        ("validate_certs-from-env-fallback", dict(good, ca_path=em.ca_file),
         {"VEEAM_EM_VALIDATE_CERTS": "true"}, "ok"),
    ]


def test_tls(em, tmp_path, ledger):
    """One test (not parametrized) so that pytest-xdist never runs the playbook twice."""
    all_cases = cases(em)
    em.reset_stats()
    run = run_playbook(em, tmp_path, "cases",
                       {"cases": [{"name": name, "args": args, "env": env} for name, args, env, _e in all_cases]},
                       env={"VEEAM_EM_CA_PATH": None})
    assert run.results is not None, run.proc.stdout[-5000:]
    stats = em.stats()
    problems = []
    for name, args, env, expected in all_cases:
        result = run.results[name]
        if expected == "ok":
            ledger("TLS: %s" % name, "works", "held")
            if result.get("failed") or not result.get("backup_task_sessions"):
                problems.append((name, result.get("msg")))
        else:
            ledger("TLS: %s" % name, "fails before any HTTP request, names TLS and the fix", "failed_cleanly")
            if not result.get("failed") or "backup_task_sessions" in result:
                problems.append((name, "did not fail"))
            for part in expected + ["POST /api/sessionMngr/ (logon) failed"]:
                if part not in result.get("msg", ""):
                    problems.append((name, "missing %r" % part, result.get("msg")))
    assert not problems, problems
    # Ansible shows a repeated warning once per run
    assert "[WARNING]: validate_certs is false: the EM server certificate is not verified" in run.output
    assert_no_traceback(run.output)
    # only the working cases logged on: the failing handshakes never sent credentials
    working = sum(1 for case in all_cases if case[3] == "ok")
    assert stats["requests"].get("POST /api/sessionMngr/", 0) == working
    assert stats["sessions_created"] == stats["sessions_deleted"] == working
