"""Guards against the kind of compromised release litellm has had (code run from .pth or sitecustomize)."""

from __future__ import annotations

import re
import sysconfig
from pathlib import Path

from tests.conftest import REPO

ALLOWED_PTH = re.compile(r"^(distutils-precedence|__editable__\..*|_virtualenv)\.pth$")
BAD_LITELLM = {"1.82.7", "1.82.8", "1.107.0"}


def test_no_unexpected_startup_hooks_in_site_packages() -> None:
    site = Path(sysconfig.get_paths()["purelib"])
    unexpected = [p.name for p in site.glob("*.pth") if not ALLOWED_PTH.match(p.name)]
    assert unexpected == []
    assert list(site.rglob("sitecustomize.py")) == []


def test_litellm_is_pinned_and_hash_locked() -> None:
    pyproject = (REPO / "pyproject.toml").read_text()
    assert '"litellm==1.105.3"' in pyproject
    for lock in ("app.lock", "dev.lock"):
        text = (REPO / "requirements" / lock).read_text()
        block = re.search(r"^litellm==([\d.]+) \\\n((?:\s+--hash=sha256:[0-9a-f]{64}.*\n)+)", text, re.MULTILINE)
        assert block is not None and block.group(1) == "1.105.3", lock
        assert block.group(1) not in BAD_LITELLM


def test_every_direct_dependency_is_hash_locked() -> None:
    import tomllib

    declared = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]
    names = {re.split(r"[<>=!~\[ ;]", d, maxsplit=1)[0].lower().replace("_", "-") for d in declared}
    for lock in ("app.lock", "dev.lock"):
        text = (REPO / "requirements" / lock).read_text()
        locked = set(re.findall(r"^([a-z0-9.\-]+)==[^ ]+ \\\n\s+--hash=sha256:", text, re.MULTILINE | re.IGNORECASE))
        assert names - {n.lower() for n in locked} == set(), lock
