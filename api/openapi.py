"""OpenAPI declarations of the problem+json error responses."""

from __future__ import annotations

from litestar.openapi.datastructures import ResponseSpec

from api.problems import TITLES
from api.schemas import ProblemOut


def problems_for(*statuses: int) -> dict[int, ResponseSpec]:
    return {status: ResponseSpec(data_container=ProblemOut, media_type="application/problem+json",
                                 description=TITLES.get(status, "Error"))
            for status in statuses}
