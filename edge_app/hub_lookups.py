"""Reads a floor screen asks of the hub while a person waits (today: an order to take
back that this device does not hold, GET /v1/returns/lookup). Each turns the hub's
answer into the errors the workflows speak: HubUnreachable when the hub can't be
reached in time (the workflow goes on offline), UnknownBarcode for an order the hub
does not know, Refused with the sentence to show for any other refusal."""

from __future__ import annotations

import asyncio
import concurrent.futures
from typing import Any, Callable

import httpx

from edge_app.errors import HubUnreachable, Refused, UnknownBarcode

__all__ = ["LOOKUP_TIMEOUT_S", "look_up_return", "blocking"]

LOOKUP_TIMEOUT_S = 4.0  # a customer at the counter: past this, take the return offline


async def look_up_return(client: httpx.AsyncClient, query: dict[str, str]) -> dict[str, Any]:
    """The hub's answer for `query` (`number` or `return_code`); raises as the module says."""
    try:
        answer = await client.get("/v1/returns/lookup", params=query, timeout=LOOKUP_TIMEOUT_S)
    except httpx.HTTPError as exc:
        raise HubUnreachable(f"the hub did not answer the look-up: {exc.__class__.__name__}") from exc
    if answer.status_code == 200:
        return answer.json()
    what = query.get("number") or "on this receipt"
    if answer.status_code == 404:
        raise UnknownBarcode(f"No order {what[:40]} is known to the hub either. Check the receipt, or search by number.")
    if answer.status_code == 422 and "return_code" in query:
        raise Refused("This receipt's return code was not made by us: it is forged or altered. Don't take the "
                      "return on it; call a supervisor.")
    if answer.status_code == 429:
        raise Refused("This device looked up too many orders in the last minute. Wait a moment and scan again.")
    if answer.status_code == 403:
        raise Refused("This device may not look up other locations' orders. Take the return on a counter device.")
    if answer.status_code >= 500:
        raise HubUnreachable(f"the hub failed the look-up ({answer.status_code})")
    raise Refused(f"The hub refused the look-up: {_detail(answer)}")


def blocking(loop: asyncio.AbstractEventLoop, client: httpx.AsyncClient) -> Callable[[dict[str, str]], dict[str, Any]]:
    """`look_up_return` for a worker thread, run on `loop` (where `client` lives)."""

    def ask(query: dict[str, str]) -> dict[str, Any]:
        future = asyncio.run_coroutine_threadsafe(look_up_return(client, query), loop)
        try:
            return future.result(timeout=LOOKUP_TIMEOUT_S + 1)
        except concurrent.futures.TimeoutError as exc:
            future.cancel()
            raise HubUnreachable("the hub did not answer the look-up in time") from exc

    return ask


def _detail(answer: httpx.Response) -> str:
    try:
        return str(answer.json().get("detail", ""))[:200]
    except ValueError:
        return answer.text[:200]
