"""The API root, logon (``sessionMngr``), ``logonSessions`` and the query service document."""
from .. import reps
from ..auth import API_VERSIONS
from ..errors import HttpError
from ..writers import send_empty, send_list, send_obj


def root(req, _sess, _ids):
    send_obj(req, 200, reps.enterprise_manager(req.base))


def query_svc(req, _sess, _ids):
    send_obj(req, 200, reps.query_svc(req.base))


def logon(req, _sess, _ids):
    v = req.params.get("v")
    if v is None or v == "":
        v = "latest"
    version = API_VERSIONS.get(v.lower())
    if version is None:
        raise HttpError(400, "Unsupported API version '%s'. Supported versions: v1_5, v1_6, v1_7, latest." % v)
    acc = req.st.sessions.authenticate(req.headers.get("Authorization"))
    if acc is None:
        raise HttpError(401, "Authentication failed: invalid user name or password.",
                        {"WWW-Authenticate": "Basic Realm=RestSvc"})
    sess = req.st.sessions.create(acc, version)
    headers = {
        "X-RestSvcSessionId": sess.token,
        "Set-Cookie": "X-RestSvcSessionId=%s; Path=/api" % sess.token,
        "Location": "%s/logonSessions/%s" % (req.base, sess.session_id),
    }
    send_obj(req, 201, reps.logon_session(req.base, sess), headers)


def list_logon_sessions(req, sess, _ids):
    """Only the caller's own session (README: other sessions are not listed)."""
    send_list(req, [reps.logon_session(req.base, sess)], "LogonSessions")


def _own_session(sess, sid):
    if sid.lower() != sess.session_id:
        raise HttpError(404, "Logon session '%s' was not found." % sid)


def get_logon_session(req, sess, ids):
    _own_session(sess, ids[0])
    send_obj(req, 200, reps.logon_session(req.base, sess))


def delete_logon_session(req, sess, ids):
    _own_session(sess, ids[0])
    req.st.sessions.delete(sess)
    send_empty(req, 204)
