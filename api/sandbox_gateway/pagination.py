"""Pagination for every list: `?limit=&offset=`, answered with the page and how to get the next."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, TypeVar

from fastapi import Depends, Query
from pydantic import BaseModel

MAX_LIMIT = 500
T = TypeVar("T")


class PageParams(BaseModel):
    limit: int
    offset: int


async def page_params(
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Items per page.")] = 100,
    offset: Annotated[int, Query(ge=0, le=2**31, description="Items to skip.")] = 0,
) -> PageParams:
    return PageParams(limit=limit, offset=offset)


Paging = Annotated[PageParams, Depends(page_params)]


class PageInfo(BaseModel):
    total: int
    limit: int
    offset: int
    next_offset: int | None


def page_of(items: Sequence[T], paging: PageParams) -> tuple[list[T], PageInfo]:
    chunk = list(items[paging.offset : paging.offset + paging.limit])
    end = paging.offset + len(chunk)
    return chunk, PageInfo(
        total=len(items), limit=paging.limit, offset=paging.offset, next_offset=end if end < len(items) else None
    )
