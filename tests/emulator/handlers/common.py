"""Helpers shared by the handlers: role visibility, the ``format=Entity`` switch, entities."""
from .. import reps
from ..auth import ROLE_USER
from ..errors import HttpError


def visible(sess):
    """A predicate hiding objects under restricted servers from Portal Users; ``None``: all visible."""
    if sess.role == ROLE_USER:
        return lambda x: not x.server.restricted
    return None


def deny(sess, roles):
    if sess.role in roles:
        raise HttpError(403, "Access denied.")


def format_entity(req):
    fmt = req.params.get("format")
    if fmt is None or fmt == "":
        return False
    if fmt.strip().lower() == "entity":
        return True
    raise HttpError(400, "Invalid format '%s': expected Entity." % fmt)


def entity(req, qt, item):
    """The entity representation, with the version's placeholder end time on running sessions."""
    return reps.with_end_placeholder(qt.entity(req.base, item), req.st.running_end_time)
