"""Where the app keeps its data: the platform's user data directory, or COPILOT_HOME."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

import platformdirs

from copilot.errors import DataDirError

APP_NAME = "support-copilot"


@dataclass(frozen=True)
class AppPaths:
    home: Path

    @property
    def database(self) -> Path:
        return self.home / "copilot.db"

    @property
    def log_file(self) -> Path:
        return self.home / "copilot.log"


def default_home() -> Path:
    override = os.environ.get("COPILOT_HOME")
    if override:
        return Path(override).expanduser()
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def prepare_home(home: Path | None = None) -> AppPaths:
    """Create the data directory if needed and check we can write to it."""
    path = home or default_home()
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DataDirError(
            f"Cannot create the data folder {path}: {exc.strerror or exc}.",
            "Set COPILOT_HOME to a folder you can write to, or fix the folder's permissions.",
        ) from exc
    if not path.is_dir():
        raise DataDirError(
            f"The data folder {path} is not a folder.",
            "Set COPILOT_HOME to a folder you can write to.",
        )
    if not os.access(path, os.R_OK | os.W_OK | os.X_OK):
        raise DataDirError(
            f"The data folder {path} cannot be read or written.",
            "Fix its permissions, or set COPILOT_HOME to a folder you can write to.",
        )
    return AppPaths(home=path)


def resources_dir() -> Path:
    """The packaged resources: beside the package in a checkout, inside the bundle when frozen."""
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:
        return Path(bundle) / "resources"
    return Path(__file__).resolve().parents[2] / "resources"
