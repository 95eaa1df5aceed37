"""Running coroutines from plain pytest tests (no plugin needed): each test gets a fresh event loop."""

from __future__ import annotations

import asyncio
from typing import Any, Awaitable, TypeVar

T = TypeVar("T")

#: A bound on any async test's run, so that a hang fails the test instead of stalling the suite.
LIMIT_S = 180.0


def run(awaitable: Awaitable[T]) -> T:
    async def bounded() -> Any:
        return await asyncio.wait_for(awaitable, LIMIT_S)

    return asyncio.run(bounded())
