"""The one base class for domain errors. Services raise subclasses; views turn them into form
errors or messages, the API's exception handler into 4xx responses."""


class ApplicationError(Exception):
    """A rule of the domain refused the action. `message` is safe to show to the user."""

    status_code = 400

    def __init__(self, message: str, *, field: str | None = None, extra: dict | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
        self.extra = extra or {}


class PermissionDenied(ApplicationError):
    status_code = 403


class NotFound(ApplicationError):
    status_code = 404
