"""em_errors: the one file of exception classes, their one-line text and the status mapping."""
import importlib
import inspect
import pkgutil

import pytest

from ansible_collections.backupops.veeam_em.plugins import module_utils
from ansible_collections.backupops.veeam_em.plugins.module_utils import em_errors, em_inventory

# Exception classes still defined outside em_errors on this branch, in files other helpers were
# rewriting at the same time (issue 16): their one-line re-export is the lead's merge edit, which
# empties this list.
PENDING_MERGE = [
]


def _module_names(package):
    for info in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
        yield info.name


def test_every_exception_class_of_module_utils_is_defined_in_em_errors():
    defined_elsewhere = []
    seen = 0
    for name in _module_names(module_utils):
        module = importlib.import_module(name)
        for _attr, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, BaseException) and cls.__module__ == name:
                seen += 1
                if name != em_errors.__name__:
                    defined_elsewhere.append("%s.%s" % (name, cls.__name__))
    assert seen > 15  # the walk really imported the package (em_errors alone holds more)
    assert sorted(defined_elsewhere) == PENDING_MERGE


def test_old_homes_still_export_the_moved_classes():
    assert em_inventory.InventoryReadError is em_errors.InventoryReadError
    assert issubclass(em_errors.InventoryReadError, em_errors.EMError)


def test_the_pure_cores_errors_are_value_errors_not_em_errors():
    # nothing was asked of EM: a filter or module must not present them as EM failures
    for cls in (em_errors.ComplianceInputError, em_errors.ReportInputError):
        assert issubclass(cls, ValueError) and not issubclass(cls, em_errors.EMError)


def test_str_is_one_line_with_request_em_message_and_hint():
    error = em_errors.EMBadRequestError("HTTP 400.", request="GET /api/query (BackupTaskSession)", status=400,
                                        em_message="Invalid filter.", hint="check the filter.")
    assert str(error) == ("GET /api/query (BackupTaskSession) failed: HTTP 400. EM says: Invalid filter "
                          "(hint: check the filter.)")
    assert str(em_errors.EMError("plain")) == "plain"
    assert "session_id is still valid" in str(em_errors.EMAuthError("HTTP 401"))


@pytest.mark.parametrize("status, cls", [
    (400, em_errors.EMBadRequestError), (401, em_errors.EMAuthError), (403, em_errors.EMForbiddenError),
    (404, em_errors.EMNotFoundError), (500, em_errors.EMServerError), (599, em_errors.EMServerError),
    (405, em_errors.EMHTTPError), (600, em_errors.EMHTTPError),
])
def test_error_class_for_status(status, cls):
    assert em_errors.error_class_for_status(status) is cls


def test_result_errors_carry_a_copy_of_the_partial_result():
    partial = {"task": {"state": "Running"}}
    error = em_errors.EMTaskTimeout("not finished", result=partial)
    partial["changed"] = True
    assert error.result == {"task": {"state": "Running"}}
    assert isinstance(error, em_errors.EMResultError) and em_errors.EMTaskFailed("x").result == {}
