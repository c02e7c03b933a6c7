"""Resolving a post: perform the lookups its platform asks for, let it classify the answers.

The platform module stays pure (it names requests and reads answers); this module
is the bridge to the network layer, and hands every capture to a recorder so
that each answer is stored with its provenance before it is judged.
"""

from __future__ import annotations

import asyncio
import hashlib
import random
from dataclasses import dataclass
from typing import Callable

from archiver import platforms
from archiver.capture import capture
from archiver.models import Answer, Capture, Check, PostRef, Status
from archiver.settings import Settings

Recorder = Callable[[Capture, str], int]  # (capture, endpoint) -> fetch id


@dataclass(frozen=True)
class Resolution:
    post: PostRef
    check: Check
    fetch_ids: tuple[int, ...]
    deciding_fetch_id: int | None
    content_sha256: str | None


def _answer(cap: Capture, endpoint: str, fetch_id: int) -> Answer:
    if not cap.hops:
        return Answer(endpoint, None, error=cap.error, fetch_id=fetch_id)
    final = cap.final
    return Answer(
        endpoint,
        None if (cap.error or final.error) else final.status,
        body=final.body,
        headers=final.response_headers,
        error=cap.error or final.error,
        fetch_id=fetch_id,
    )


async def resolve(pool, post: PostRef, settings: Settings, record: Recorder) -> Resolution:
    """Check one post now. Retries the whole round while the platform says "try later"."""
    try:
        platform = platforms.get(post.platform)
    except KeyError as exc:
        return Resolution(post, Check(Status.UNSUPPORTED, detail=str(exc)), (), None, None)
    lookups = platform.lookups(post, settings)
    fetch_ids: list[int] = []
    attempt = 0
    while True:
        caps = await asyncio.gather(*(capture(pool, lk.url, headers=lk.headers) for lk in lookups))
        answers = []
        for lk, cap in zip(lookups, caps):
            fetch_id = record(cap, lk.endpoint)
            fetch_ids.append(fetch_id)
            answers.append(_answer(cap, lk.endpoint, fetch_id))
        check = platform.classify(post, answers)
        if not (check.retry and attempt < settings.retries):
            break
        await asyncio.sleep(settings.backoff * (2**attempt) * (0.5 + random.random()))
        attempt += 1
    deciding = next((a for a in answers if a.endpoint == check.endpoint), None)
    digest = hashlib.sha256(deciding.body).hexdigest() if deciding is not None and deciding.status else None
    return Resolution(post, check, tuple(fetch_ids), deciding.fetch_id if deciding else None, digest)
