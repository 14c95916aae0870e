"""One error hierarchy: every error the user can see carries a message, a hint and whether to retry."""

from __future__ import annotations

import errno
import logging
import sqlite3

from copilot.scrub import scrub


class CopilotError(Exception):
    """An error with a plain message for the user and a hint of what to do next."""

    retryable: bool = False
    is_bug: bool = False

    def __init__(self, message: str, hint: str = "", *, retryable: bool | None = None) -> None:
        # Error texts often quote what a server said back; a server may echo our credentials.
        message, hint = scrub(message), scrub(hint)
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


class UnsentWorkError(ValidationError):
    """Removing something would delete work that was never delivered (replies in the outbox, drafts)."""

    def __init__(self, message: str, hint: str, items: list[str]) -> None:
        super().__init__(message, hint)
        self.items = items


class HelpdeskError(CopilotError):
    """The help desk refused, failed or answered with something we cannot read."""

    retryable = True


class HelpdeskUnreachable(HelpdeskError):
    """The help desk did not answer (down, network, timeout). The app keeps working from its cache."""

    def __init__(self, message: str, hint: str = "", *, outcome_unknown: bool = False) -> None:
        super().__init__(message, hint)
        # True when a write may have reached the help desk before the connection failed.
        self.outcome_unknown = outcome_unknown


class HelpdeskRateLimited(HelpdeskError):
    """The help desk asked us to slow down (HTTP 429)."""

    def __init__(self, message: str, hint: str = "", *, retry_after: float | None = None) -> None:
        super().__init__(message, hint)
        self.retry_after = retry_after


class HelpdeskAuthError(HelpdeskError):
    """The help desk refused our credentials (HTTP 401/403): ask for a new token, do not retry."""

    retryable = False


class HelpdeskRejected(HelpdeskError):
    """The help desk understood the request and refused it (4xx, or an error in a 200 answer)."""

    retryable = False


class HelpdeskPayloadError(HelpdeskError):
    """The help desk answered with something we cannot read (not JSON, missing or mistyped fields)."""

    retryable = False


class BugError(CopilotError):
    """Something that should not happen: our bug. The log has the traceback."""

    is_bug = True


def storage_error(exc: BaseException) -> DatabaseError | None:
    """A full disk or a read-only database is the computer's state, not our bug: say so, and what to do."""
    text = str(exc).lower()
    if (isinstance(exc, OSError) and exc.errno == errno.ENOSPC) or "disk is full" in text:
        return DatabaseError(
            "The disk is full, so nothing more could be saved (what was saved before is intact).",
            "Free some space on the disk that holds the data folder (see `support-copilot doctor`), then try again.",
            retryable=True,
        )
    if "readonly database" in text or "read-only" in text or isinstance(exc, PermissionError):
        return DatabaseError(
            "The database cannot be written: the file or its folder is read-only.",
            "Give your user write access to the data folder (see `support-copilot doctor`), "
            "or set COPILOT_HOME to a folder you can write.",
        )
    return None


def as_copilot_error(exc: BaseException) -> CopilotError:
    """Wrap any exception for presentation; unknown ones are our bugs."""
    if isinstance(exc, CopilotError):
        return exc
    if isinstance(exc, sqlite3.OperationalError | OSError) and (known := storage_error(exc)) is not None:
        return known
    return BugError(
        f"Something went wrong inside Support Copilot ({type(exc).__name__}).",
        "Your work is saved. Please report this with the log file from Help → About.",
    )


def log_if_bug(exc: BaseException, logger: logging.Logger) -> None:
    """Log an unexpected error's traceback once, while the log file is still attached."""
    if as_copilot_error(exc).is_bug and not getattr(exc, "copilot_logged", False):
        logger.error("unexpected error", exc_info=exc)
        exc.copilot_logged = True  # type: ignore[attr-defined]
