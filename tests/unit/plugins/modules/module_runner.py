"""Run a collection module's ``main()`` in-process against the fake EM transport."""
import json

import pytest
import requests

try:
    from ansible.module_utils.testing import patch_module_args
except ImportError:  # ansible-core < 2.19 (tools/compat.sh): set the args where AnsibleModule reads them there
    import contextlib

    from ansible.module_utils import basic
    from ansible.module_utils.common.text.converters import to_bytes

    @contextlib.contextmanager
    def patch_module_args(args=None):
        args = dict(args or {}, _ansible_remote_tmp="/tmp", _ansible_keep_remote_files=False)
        # A module runs in a process of its own: the warnings and deprecations an earlier run in this process left
        # in ansible-core's global lists (2.16-2.18 keep every one, 2.19 dedupes) are not this run's
        from ansible.module_utils.common import warnings as module_warnings
        for name in ("_global_warnings", "_global_deprecations"):
            held = getattr(module_warnings, name, None)
            if held is not None:
                held.clear()
        saved = basic._ANSIBLE_ARGS
        basic._ANSIBLE_ARGS = to_bytes(json.dumps({"ANSIBLE_MODULE_ARGS": args}))
        try:
            yield
        finally:
            basic._ANSIBLE_ARGS = saved

from ansible_collections.backupops.veeam_em.plugins.module_utils import em_client, em_module

CONNECTION = {"server": "em.example.com", "username": "EM\\svc", "password": "Pa55-w0rd!", "retry_backoff": 0}


class CapturedSpec(Exception):
    def __init__(self, spec, kwargs):
        super(CapturedSpec, self).__init__("spec")
        self.spec = spec
        self.kwargs = kwargs


def argument_spec_of(module):
    """The full argument spec a module builds (AnsibleModule replaced by a capturing stub)."""
    original = em_module.EMModule

    def capture(argument_spec, **kwargs):
        raise CapturedSpec(argument_spec, kwargs)
    em_module.EMModule = capture
    try:
        with patch_module_args({}):
            module.main()
    except CapturedSpec as captured:
        return captured.spec, captured.kwargs
    finally:
        em_module.EMModule = original
    raise AssertionError("module did not create an AnsibleModule")


def install_fake(monkeypatch, fake):
    def new_session():
        session = requests.Session()
        session.mount("https://", fake)
        session.mount("http://", fake)
        return session
    monkeypatch.setattr(em_client.EMClient, "_new_session", staticmethod(new_session))
    monkeypatch.setattr(em_client.time, "sleep", lambda seconds: None)


def run_module(module, args, capsys, check_mode=False):
    """main() with ``args``; returns the parsed JSON result (``failed`` set on fail_json)."""
    if check_mode:
        args = dict(args, _ansible_check_mode=True)
    with patch_module_args(args):
        with pytest.raises(SystemExit):
            module.main()
    out = capsys.readouterr().out
    return json.loads(out)
