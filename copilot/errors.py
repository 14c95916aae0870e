"""One error hierarchy: every error the user can see carries a message, a hint and whether to retry."""

from __future__ import annotations


class CopilotError(Exception):
    """An error with a plain message for the user and a hint of what to do next."""

    retryable: bool = False
    is_bug: bool = False

    def __init__(self, message: str, hint: str = "", *, retryable: bool | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        if retryable is not None:
            self.retryable = retryable

    def user_text(self) -> str:
        return f"{self.message}\n{self.hint}" if self.hint else self.message


class DataDirError(CopilotError):
    """The data directory is missing, unreadable or not writable."""


class DatabaseError(CopilotError):
    """The database file is corrupt, locked, or from a newer version of the app."""


class ImportFileError(CopilotError):
    """A file handed to an import is malformed; nothing was imported."""


class NotFoundError(CopilotError):
    """A ticket, article or output that was asked for does not exist."""


class ValidationError(CopilotError):
    """Input from the user that cannot be accepted as it is."""


class HelpdeskError(CopilotError):
    """The help desk refused, failed or answered with something we cannot read."""

    retryable = True


class BugError(CopilotError):
    """Something that should not happen: our bug. The log has the traceback."""

    is_bug = True


def as_copilot_error(exc: BaseException) -> CopilotError:
    """Wrap any exception for presentation; unknown ones are our bugs."""
    if isinstance(exc, CopilotError):
        return exc
    return BugError(
        f"Something went wrong inside Support Copilot ({type(exc).__name__}).",
        "Your work is saved. Please report this with the log file from Help → About.",
    )
