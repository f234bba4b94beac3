"""Without Chromium the UI tests skip outside CI and fail in CI (never silently pass)."""

from __future__ import annotations

import pytest

from tests.ui.conftest import _unavailable


def test_missing_browser_skips_outside_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="no chromium here"):
        _unavailable("no chromium here")


def test_missing_browser_fails_in_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="required in CI"):
        _unavailable("no chromium here")
