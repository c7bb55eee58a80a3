"""The skip-or-require logic for tests that need a system tool (Chromium, docker compose, ...)."""

from __future__ import annotations

import pytest

from tests.support.tools import require_executable, require_tool


def test_a_missing_tool_skips_loudly_without_ci(monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="NOT RUN: chromium is not installed"):
        require_tool("chromium", found=False, how_to_get_it="apt-get install chromium")


@pytest.mark.parametrize("ci", ["true", "1"])
def test_a_missing_tool_fails_under_ci(monkeypatch, ci):
    monkeypatch.setenv("CI", ci)
    with pytest.raises(pytest.fail.Exception, match="CI is set, so this test is required"):
        require_tool("chromium", found=False, how_to_get_it="apt-get install chromium")


def test_a_present_tool_runs_with_or_without_ci(monkeypatch):
    monkeypatch.setenv("CI", "true")
    require_tool("chromium", found=True, how_to_get_it="")
    assert require_executable("sh", how_to_get_it="").endswith("sh")


def test_a_missing_executable_is_looked_up_on_path(monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(pytest.skip.Exception, match="no-such-tool"):
        require_executable("no-such-tool", how_to_get_it="nowhere")


def test_the_browser_test_uses_the_rule(monkeypatch):
    from tests.e2e import conftest as browser

    monkeypatch.delenv("CI", raising=False)
    monkeypatch.setattr(browser, "CHROMIUM", "/nonexistent/chromium")
    with pytest.raises(pytest.skip.Exception, match="NOT RUN: chromium"):
        browser.require_chromium()
    monkeypatch.setenv("CI", "1")
    with pytest.raises(pytest.fail.Exception, match="chromium"):
        browser.require_chromium()
