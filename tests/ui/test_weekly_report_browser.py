"""The weekly review's HTML report opened in a real browser engine (headless Chromium from Debian): the four
inline charts are drawn, with nothing fetched from anywhere."""

from __future__ import annotations

import os
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest
from PySide6.QtGui import QColor, QImage

from copilot.assist.weekly_report import render_html
from copilot.assist.weekly_review import WeekFigures, WeeklyReview, iso_week

BROWSER = shutil.which("chromium-headless-shell") or shutil.which("chromium")


def _week(back: int, acceptance: float | None, flags: float | None) -> WeekFigures:
    week, monday = iso_week(datetime(2026, 11, 25 - 7 * back, tzinfo=UTC).isoformat())
    return WeekFigures(week, monday, 40, 10, acceptance, 0.2, 2, flags, {}, {}, {}, 10, 0.1, 0.5, 5, 0.1, 12.0)


def _blue_pixels(image: QImage, top: int, bottom: int) -> int:
    blue = QColor("#1565c0")
    count = 0
    for y in range(top, min(bottom, image.height())):
        for x in range(0, image.width(), 2):
            c = image.pixelColor(x, y)
            if (
                abs(c.red() - blue.red()) < 40
                and abs(c.green() - blue.green()) < 40
                and abs(c.blue() - blue.blue()) < 40
            ):
                count += 1
    return count


def test_the_report_renders_its_charts_in_chromium(tmp_path: Path) -> None:
    if BROWSER is None:
        if os.environ.get("CI") == "true":
            pytest.fail("chromium-headless-shell is missing: .ci/run installs it")
        pytest.skip("no headless Chromium here (apt-get install chromium-headless-shell)")
    weeks = [_week(3, 0.4, 8.0), _week(2, 0.5, 6.0), _week(1, None, None), _week(0, 0.7, 3.0)]
    page = tmp_path / "week.html"
    page.write_text(render_html(WeeklyReview(weeks, [], [], [])), encoding="utf-8")
    shot = tmp_path / "week.png"
    run = subprocess.run(
        [BROWSER, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", f"--screenshot={shot}",
         "--window-size=1200,900", page.as_uri()],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert shot.exists(), run.stderr[-2000:]
    image = QImage(str(shot))
    assert not image.isNull() and image.width() == 1200
    # The chart cards sit near the top: their lines and dots are the report's only blue.
    drawn = _blue_pixels(image, 0, 420)
    assert drawn > 400, f"only {drawn} chart pixels drawn"
    # The same page with the charts removed has (almost) none: the count above really is the charts.
    bare = tmp_path / "bare.html"
    bare.write_text(page.read_text(encoding="utf-8").replace("<polyline", "<g").replace("<circle", "<g"))
    subprocess.run(
        [BROWSER, "--headless", "--no-sandbox", "--disable-gpu", f"--screenshot={shot}", "--window-size=1200,900",
         bare.as_uri()],
        capture_output=True, timeout=120, check=False,
    )  # fmt: skip
    assert _blue_pixels(QImage(str(shot)), 0, 420) < 50
