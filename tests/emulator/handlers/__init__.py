"""Handlers of the emulated ``/api/`` endpoints, one file per area.

Each handler is a function ``(req, sess, ids)``: the request (state ``req.st``, ``req.params``,
``req.base``, ``req.want_json``), the caller's logon session (``None`` on the public routes) and
the ``{id}`` segments of the matched route, in order. Routing, method and role checks happen
before a handler runs (routes.py); handlers raise ``HttpError`` for everything else.
"""
