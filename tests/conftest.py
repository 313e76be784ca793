"""Fixtures every suite shares: the real engine, built or found by engine/setup."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.enginekit import engine_bin_dir


@pytest.fixture(scope="session")
def engine_bin() -> Path:
    """The pinned Pulumi engine's bin directory. A build failure is a test error, not a skip."""
    return engine_bin_dir()
