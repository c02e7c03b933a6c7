"""robots.txt: one parser per origin, fetched once per run, every decision explainable.

The rules are protego's (RFC 9309 matching: longest rule wins, ``*`` and ``$``
patterns, percent-encoding); this module decides when to fetch, how to read a
failure, and how to say why a URL was refused. Scrapy's ``RobotsTxtMiddleware``
is the model: one parser per host, fetched through the same downloader as
everything else, failing open but saying so.

**What robots.txt governs here.** Article pages, the short links of text
embeds, feeds and sitemaps, and every redirect hop of those requests: that is
crawling a site. Not the platform endpoints in ``Settings.endpoints`` (oEmbed,
syndication, AppView APIs): those are documented public APIs offered to
programmatic clients, which is what we are; a site's robots.txt speaks to
crawlers of its pages, and oEmbed providers publish their endpoints precisely
so that software calls them. Concretely: the pipeline hands a ``Robots`` to
``capture`` (and ``discover``) for those requests, and ``resolve`` never does.

**How an answer is read** (``robots_from``):

- 2xx: the body is parsed (at most ``MAX_ROBOTS_BYTES``, as RFC 9309 allows);
  a body that is not text, or in which no directive can be read, is garbage:
  everything allowed, with a warning;
- 4xx (404, 401, 403, 410...): no robots.txt, everything allowed (RFC 9309);
- 5xx, 429, a timeout, a refused or failed connection, a redirect chain that
  ends nowhere: everything allowed, with a warning. RFC 9309 says to assume a
  complete disallow on 5xx; we fail open, as scrapy does and as the project's
  design asks, because a site whose robots.txt is broken has not asked to be
  left alone, and the warning is stored for whoever disagrees.

**Provenance.** The robots.txt exchange is stored like any other (a
``fetches`` row with purpose ``robots``, through the ``record`` callback the
caller passes); a failure's warning is that row's ``error``. A refusal names
the rule, the group and the robots fetch id in the refused capture's error.
An allowed fetch is explained by the robots row of the same run and origin;
``--ignore-robots`` is stored in the run's settings.

**Crawl-delay.** The ``Crawl-delay`` of the group that applies to archiver
spaces that host's request starts (``Pacer.space``) by that many seconds, or
by the run's ``--delay`` when larger, from the moment robots.txt is read. A
longer delay than ``MAX_CRAWL_DELAY`` (30 s) is obeyed as 30 s: a site asking
for hours between two requests would hold a nightly job's workers for it; the
robots decision's note says when that happened.

The user agent token matched against ``User-agent:`` lines is ``archiver``
(the product token of our User-Agent header), else ``*``. The cache lives as
long as the ``Robots`` object (one run); a crawl of N origins holds N small
parsers.
"""

from __future__ import annotations

import asyncio
import dataclasses
import re
from dataclasses import dataclass
from typing import Callable

import httpx
from protego import Protego

from archiver.capture import capture
from archiver.fetch.client import ClientPool
from archiver.fetch.connect_to import origin_of
from archiver.models import Capture

ROBOTS_AGENT = "archiver"  # the token robots.txt groups are matched against
MAX_CRAWL_DELAY = 30.0  # seconds: a longer Crawl-delay is obeyed as this much (and said so)
MAX_ROBOTS_BYTES = 512 * 1024  # RFC 9309: parse at least 500 KiB, ignore the rest
Record = Callable[[Capture], "int | None"]  # stores the robots.txt capture, returns its fetch id

# protego also reads these misspellings of Disallow; the explanation must see what the decision saw
_DISALLOW = "disallow|dissallow|dissalow|disalow|diasllow|disallaw"
_DIRECTIVE = re.compile(rf"^\s*(user[- ]?agent|allow|{_DISALLOW}|sitemap|crawl[- ]delay)\s*:",
                        re.IGNORECASE | re.MULTILINE)
_GROUP_LINE = re.compile(rf"^\s*(user[- ]?agent|allow|{_DISALLOW})\s*:\s*([^#\r\n]*)", re.IGNORECASE)


@dataclass(frozen=True)
class Rules:
    """What one origin's robots.txt says, and where that came from."""

    origin: str
    parser: Protego | None  # None: everything allowed
    text: str = ""  # the robots.txt as parsed (empty when there is none)
    fetch_id: int | None = None  # the stored robots.txt exchange
    note: str = ""  # how the answer was read, one line
    warning: bool = False  # the robots.txt failed; everything allowed regardless
    crawl_delay: float | None = None  # seconds asked between two requests to the origin's host (capped)


@dataclass(frozen=True)
class Decision:
    """May this URL be fetched, and why: the reason is what provenance keeps."""

    allowed: bool
    reason: str
    fetch_id: int | None = None


class Robots:
    """The per-run robots.txt cache: ``await robots.check(url)`` before fetching ``url``.

    ``record`` stores each robots.txt capture and returns its fetch id (the
    pipeline passes ``store.save_capture`` bound to the run). With ``ignore``
    nothing is fetched and everything is allowed, saying so.
    """

    def __init__(
        self,
        pool: ClientPool,
        *,
        record: Record | None = None,
        ignore: bool = False,
        agent: str = ROBOTS_AGENT,
    ) -> None:
        self.pool = pool
        self.record = record
        self.ignore = ignore
        self.agent = agent
        self.warnings: list[str] = []  # one line per origin whose robots.txt failed
        self._rules: dict[str, Rules] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    async def check(self, url: str) -> Decision:
        """Whether ``url`` may be fetched. Never raises for a URL capture can fetch."""
        if self.ignore:
            return Decision(True, "robots.txt ignored (--ignore-robots)")
        try:
            origin = origin_of(url)
        except (httpx.InvalidURL, ValueError, UnicodeError):  # capture's guard refuses such URLs first
            return Decision(True, "no origin to ask robots.txt about")
        rules = await self.rules_for(origin)
        if rules.parser is None or _can_fetch(rules.parser, url, self.agent):
            return Decision(True, rules.note or "allowed by robots.txt", rules.fetch_id)
        rule = explain(rules.text, url, self.agent)
        fetch = f"; robots fetch {rules.fetch_id}" if rules.fetch_id is not None else ""
        return Decision(False, f"disallowed by robots.txt of {origin} ({rule}{fetch})", rules.fetch_id)

    async def rules_for(self, origin: str) -> Rules:
        """The origin's rules, fetched on first use; concurrent callers share one fetch.

        A lock per origin rather than a shared task: a caller cancelled while
        fetching releases the lock and the next waiter fetches, so no orphan
        task outlives the run.
        """
        cached = self._rules.get(origin)
        if cached is not None:
            return cached
        lock = self._locks.setdefault(origin, asyncio.Lock())
        async with lock:
            cached = self._rules.get(origin)
            if cached is not None:
                return cached
            cap = await capture(self.pool, f"{origin}/robots.txt")
            rules = robots_from(origin, cap)
            fetch_id = None
            if self.record is not None:
                stored = dataclasses.replace(cap, error=rules.note) if rules.warning else cap
                fetch_id = self.record(stored)
            rules = dataclasses.replace(rules, fetch_id=fetch_id)
            if rules.warning:
                self.warnings.append(rules.note)
            rules = self._obey_crawl_delay(rules)
            self._rules[origin] = rules
            self._locks.pop(origin, None)
        return rules

    def _obey_crawl_delay(self, rules: Rules) -> Rules:
        """Space the host's requests as its ``Crawl-delay`` for archiver asks (at most ``MAX_CRAWL_DELAY``)."""
        if rules.parser is None:
            return rules
        try:
            asked = rules.parser.crawl_delay(self.agent)
        except Exception:  # noqa: BLE001 - a parser bug must not stop the crawl; no delay is read
            return rules
        if not asked or asked <= 0:
            return rules
        delay = min(float(asked), MAX_CRAWL_DELAY)
        try:
            host = httpx.URL(rules.origin).host
        except (httpx.InvalidURL, ValueError, UnicodeError):
            return rules
        spacing = self.pool.pacer.space(host, delay)
        capped = f", obeyed as {MAX_CRAWL_DELAY:g} s" if asked > MAX_CRAWL_DELAY else ""
        return dataclasses.replace(rules, crawl_delay=delay,
                                   note=f"{rules.note}; Crawl-delay {asked:g} s{capped}: {host} requests "
                                        f"{spacing:g} s apart")


def robots_from(origin: str, cap: Capture) -> Rules:
    """Read one robots.txt capture (the rules in the module docstring)."""
    where = f"{origin}/robots.txt"
    final = cap.final
    failure = cap.error or final.error
    if failure is not None or final.status is None:
        return _fail_open(origin, f"{where} unavailable ({failure or 'no answer'})")
    status = final.status
    if 200 <= status < 300:
        return _parse(origin, final.body)
    if 300 <= status < 400:
        return _fail_open(origin, f"{where} redirected (HTTP {status}) without a usable Location")
    if 400 <= status < 500 and status != 429:
        return Rules(origin, None, note=f"no robots.txt at {origin} (HTTP {status}): all allowed")
    return _fail_open(origin, f"{where} failed (HTTP {status})")


def _fail_open(origin: str, problem: str) -> Rules:
    return Rules(origin, None, note=f"{problem}: treated as allow-all", warning=True)


def _parse(origin: str, body: bytes) -> Rules:
    data = body[:MAX_ROBOTS_BYTES]
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    if b"\x00" in data:
        return _fail_open(origin, f"{origin}/robots.txt is not text (binary data)")
    text = data.decode("utf-8", "replace")
    if text.strip() and not _DIRECTIVE.search(text):
        return _fail_open(origin, f"{origin}/robots.txt has no readable directive (garbage)")
    try:
        parser = Protego.parse(text)
    except Exception as exc:  # noqa: BLE001 - a parser bug must not stop the crawl; the warning is stored
        return _fail_open(origin, f"{origin}/robots.txt could not be parsed ({type(exc).__name__}: {exc})")
    return Rules(origin, parser, text=text, note=f"allowed by robots.txt of {origin}")


def _can_fetch(parser: Protego, url: str, agent: str) -> bool:
    """protego's verdict; a URL it cannot judge is allowed (fail open, as for the file itself)."""
    try:
        return parser.can_fetch(url, agent)
    except Exception:  # noqa: BLE001 - same policy as an unreadable robots.txt
        return True


def explain(text: str, url: str, agent: str = ROBOTS_AGENT) -> str:
    """The rule that refuses ``url``: "rule 'Disallow: /private/' for user-agent *".

    Protego decides; this only names its reason, so it mirrors protego's
    choices: the group whose user-agent token best matches ``agent`` (longest
    token found in it, ``*`` last), and within it the longest ``Disallow``
    pattern that matches, each pattern judged by protego itself.
    """
    groups = _groups(text)
    best, score = "", 0
    for agents in groups:
        for name in agents:
            points = _score(name, agent)
            if points > score:
                best, score = name, points
    if not score:
        return "rule not identified"
    patterns = [value for agents, rules in groups.items() if best in agents for field, value in rules
                if field == "disallow" and value]
    matching = [p for p in patterns if not Protego.parse(f"User-agent: *\nDisallow: {p}\n").can_fetch(url, "x")]
    if not matching:
        return f"rules for user-agent {best}"
    return f"rule 'Disallow: {max(matching, key=len)}' for user-agent {best}"


def _groups(text: str) -> dict[tuple[str, ...], list[tuple[str, str]]]:
    """``User-agent`` groups and their allow/disallow lines, as written."""
    groups: dict[tuple[str, ...], list[tuple[str, str]]] = {}
    agents: list[str] = []
    rules: list[tuple[str, str]] = []
    for line in text.splitlines():
        match = _GROUP_LINE.match(line)
        if match is None:
            continue
        field, value = match.group(1).lower(), match.group(2).strip()
        if field.startswith("user"):
            if rules:
                groups.setdefault(tuple(agents), []).extend(rules)
                agents, rules = [], []
            agents.append(value.lower())
        elif agents:
            rules.append(("allow" if field == "allow" else "disallow", value))
    if agents:
        groups.setdefault(tuple(agents), []).extend(rules)
    return groups


def _score(name: str, agent: str) -> int:
    """How well a group's user-agent value names ``agent`` (protego's rule, simplified)."""
    if name == "*":
        return 1
    name = name.replace("*", "")
    return len(name) if name and agent.lower().startswith(name) else 0
