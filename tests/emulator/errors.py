"""Exceptions that end the handling of one emulated request."""


class HttpError(Exception):
    """An EM error response: status, message and extra headers (Allow, Retry-After, ...)."""

    def __init__(self, status, message, headers=None):
        Exception.__init__(self, message)
        self.status = status
        self.message = message
        self.headers = headers or {}


class Abort(Exception):
    """Raised after a reset/truncate fault: the connection is gone, stop handling."""


class Done(Abort):
    """Response fully written by a fault path; nothing more to send."""
