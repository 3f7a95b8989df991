"""The route table (routes.py): matching, and the order of the 401/404/405/403 checks — real HTTP."""
import pytest

from emulator import routes
from emulator.handlers import sessions, tasks
from emulator.harness import Emulator

from .conftest import EM, NOW


@pytest.fixture(scope="module")
def em():
    with Emulator(vms=10, days=2, seed=21, now=NOW) as e:
        yield e


def test_resolve_is_case_insensitive_and_returns_the_ids_as_sent():
    route, ids = routes.resolve(["TASKS", "Task-7"])
    assert route.pattern == "tasks/{id}" and ids == ["Task-7"]
    assert route.methods == {"GET": tasks.get_task, "DELETE": tasks.delete_task}


def test_resolve_root_and_unknown():
    route, ids = routes.resolve([])
    assert route.public and route.methods == {"GET": sessions.root} and ids == []
    assert routes.resolve(["backupServers", "x", "y"]) == (None, None)
    assert routes.resolve(["jobs", "x", "other"]) == (None, None)


def test_every_pattern_is_listed_once():
    keys = [r.segments for r in routes.ROUTES]
    assert len(keys) == len(set(keys))


def test_unknown_path_without_a_session_is_401_not_404(em):
    anonymous = EM(em, user=False)
    assert anonymous.get("/nothingHere").status_code == 401
    assert anonymous.get("/").status_code == 200  # the root needs no logon session
    anonymous.close()


def test_unknown_deeper_path_is_404_whatever_the_method(em):
    c = EM(em)
    assert c.request("POST", "/backupServers/x/y").status_code == 404
    assert c.get("/backupSessions/x/y").status_code == 404
    c.close()


def test_wrong_method_is_405_before_the_role_check(em):
    u = EM(em, "emuser", "emuser-Pass1")
    r = u.request("PUT", "/jobs/x")
    assert r.status_code == 405 and r.headers["Allow"] == "GET, POST"
    assert u.get("/jobs/x").status_code == 403
    r = u.request("PUT", "/tasks/x")
    assert r.status_code == 405 and r.headers["Allow"] == "GET, DELETE"
    u.close()
