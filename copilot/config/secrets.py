"""Secrets (help-desk tokens, model API keys) live only in the OS keyring, through this one wrapper.

Where no keyring exists (a headless Linux server) the app says so and names the documented alternative, an
environment variable. It never writes a secret anywhere else.
"""

from __future__ import annotations

import os

from copilot.errors import CopilotError
from copilot.scrub import remember_secret

SERVICE = "support-copilot"
HELPDESK_TOKEN_ENV = "COPILOT_HELPDESK_TOKEN"


class SecretStoreError(CopilotError):
    """The OS keyring is missing or refused; nothing was stored anywhere else."""


def helpdesk_key(workspace: str) -> str:
    return f"helpdesk/{workspace}"


def _no_keyring(action: str, env: str, exc: Exception) -> SecretStoreError:
    return SecretStoreError(
        f"Cannot {action}: this system has no usable keyring ({type(exc).__name__}: {exc}).",
        f"Install and unlock a Secret Service keyring (GNOME Keyring, KWallet), or set the environment variable "
        f"{env} for this session. Secrets are never written to a file.",
    )


def get_secret(key: str, env: str) -> str:
    """The secret for `key`: the environment variable when it is set, else the keyring ("" when absent)."""
    from_env = os.environ.get(env, "").strip()
    if from_env:
        remember_secret(from_env)
        return from_env
    import keyring
    import keyring.errors

    try:
        value = keyring.get_password(SERVICE, key) or ""
        remember_secret(value)  # from now on no error text, log line or stored error can carry it
        return value
    except (keyring.errors.KeyringError, RuntimeError) as exc:
        raise _no_keyring(f"read the secret for {key}", env, exc) from exc


def set_secret(key: str, value: str, env: str) -> None:
    import keyring
    import keyring.errors

    remember_secret(value)
    try:
        keyring.set_password(SERVICE, key, value)
    except (keyring.errors.KeyringError, RuntimeError) as exc:
        raise _no_keyring(f"store the secret for {key}", env, exc) from exc


def delete_secret(key: str) -> None:
    import keyring
    import keyring.errors

    try:
        keyring.delete_password(SERVICE, key)
    except keyring.errors.PasswordDeleteError:
        return
    except (keyring.errors.KeyringError, RuntimeError):
        return


class TokenSource:
    """A help-desk token read once from the environment or keyring, and forgotten when it is refused."""

    def __init__(self, key: str, env: str = HELPDESK_TOKEN_ENV) -> None:
        self.key = key
        self.env = env
        self._value: str | None = None

    def __call__(self) -> str:
        if self._value is None:
            self._value = get_secret(self.key, self.env)
        return self._value

    def forget(self) -> None:
        self._value = None
