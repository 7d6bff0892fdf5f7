"""The writer: the shaper's last stage, the only one that awaits.

It writes each batch of frames at its absolute deadline (exchange start + offset),
never ``sleep(gap)`` in a loop, so errors do not add up over a long stream. Batches
are pre-joined before the first byte; per frame it only sleeps and writes.

The interface is one method so that a process-wide scheduler (one timer wheel
waking once per tick for every stream) can replace it without touching the rest.
"""

from __future__ import annotations

import asyncio
import logging

from aiohttp import web
from multidict import CIMultiDict

from llmreplay.model import Answer
from llmreplay.shaping.timing import batches

log = logging.getLogger("llmreplay.writer")


class Writer:
    """Sends an :class:`Answer` whose frames carry their due times."""

    async def send(self, request: web.Request, answer: Answer, t0: float) -> web.StreamResponse:
        loop = asyncio.get_running_loop()
        headers = CIMultiDict(answer.headers)
        if not answer.stream:
            due = t0 + (answer.frames[0].at or 0.0) if answer.frames else t0
            delay = due - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            return web.Response(status=answer.status, headers=headers, body=answer.body)

        plan = batches(answer.frames)
        resp = web.StreamResponse(status=answer.status, headers=headers)
        await resp.prepare(request)
        try:
            for at, data in plan:
                delay = t0 + at - loop.time()
                if delay > 0:
                    await asyncio.sleep(delay)
                await resp.write(data)
            await resp.write_eof()
        except ConnectionError:
            # The client went away mid-stream: there is no one left to answer.
            log.debug("client disconnected during %s", request.path)
        return resp
