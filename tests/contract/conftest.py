"""The contract suite's fixtures: every test runs once per implementation in BACKENDS."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from storage import Store
from tests.contract.backends import BACKENDS, Backend, BackendFactory


@pytest.fixture(params=BACKENDS, ids=lambda factory: factory.__name__)
async def backend(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Backend]:
    factory: BackendFactory = request.param
    async with factory(tmp_path) as made:
        yield made


@pytest.fixture
async def store(backend: Backend) -> AsyncIterator[Store]:
    """An open store on fresh storage, closed after the test."""
    opened = backend.make()
    await opened.open()
    try:
        yield opened
    finally:
        await opened.close()
