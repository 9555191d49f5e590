"""The center's operational endpoints: liveness, with no authentication and no database."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["operations"])


@router.get("/v1/health")
async def health() -> dict[str, str]:
    """Liveness; no authentication, no database (the benchmark's trivial endpoint)."""
    return {"status": "ok"}
