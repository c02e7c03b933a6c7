"""The questions researchers ask of an archive, as SQL, in one place.

Datasette's canned queries, the dashboard's charts and ``archiver stats`` all
read from here, so the browser and the terminal always show the same figures.
Every query is plain SQLite that runs on the archive as it is (no extensions);
``docs/research.md`` walks through them.

"Dark" means the platform no longer serves the post publicly: ``deleted``,
``protected``, ``suspended``, ``restricted`` or ``not_found``. ``error`` and
``unsupported`` say nothing about the post and are never counted as dark.
"""

from __future__ import annotations

from dataclasses import dataclass

DARK_STATUSES = ("deleted", "protected", "suspended", "restricted", "not_found")
"""Statuses that mean the post is no longer publicly available."""

KNOWN_STATUSES = ("available",) + DARK_STATUSES
"""Statuses that say something about the post (``error`` and ``unsupported`` do not)."""

_DARK = "(" + ", ".join(f"'{s}'" for s in DARK_STATUSES) + ")"
_KNOWN = "(" + ", ".join(f"'{s}'" for s in KNOWN_STATUSES) + ")"


@dataclass(frozen=True)
class Query:
    """One named question: its SQL, a title and what it answers."""

    name: str
    title: str
    description: str
    sql: str

    def canned(self) -> dict:
        """The query as a Datasette canned query."""
        return {"title": self.title, "description": self.description, "sql": self.sql.strip()}


CANNED = (
    Query(
        "posts_now_dark",
        "Posts that went dark",
        "Posts the platform no longer serves publicly (deleted, protected, suspended, restricted, not found), "
        "newest first: since when, the last check that still found the post available (empty if it never was), "
        "and the articles and sites that embed it.",
        f"""
select p.key, p.platform, p.post_id, p.url, p.author_handle, p.status, p.status_since,
       (select max(c.checked_at) from post_checks c
         where c.post_key = p.key and c.status = 'available') as last_seen_available,
       (select count(distinct e.article_id) from embeds e where e.post_key = p.key) as articles,
       (select group_concat(site, ' ') from (select distinct a.site from embeds e
          join articles a on a.id = e.article_id where e.post_key = p.key order by a.site)) as sites,
       p.status_detail
from posts p
where p.status in {_DARK}
order by p.status_since desc, p.key
""",
    ),
    Query(
        "most_embedded_accounts",
        "Most-embedded accounts",
        "Accounts whose posts articles embed most, per platform: embeds, articles, sites, distinct posts, "
        "and how many of those posts went dark. The handle is the platform's when known, else the one the "
        "article showed; handles are grouped case-insensitively.",
        f"""
select coalesce(p.platform, e.platform) as platform,
       max(coalesce(p.author_handle, e.author_handle)) as author_handle,
       count(*) as embeds,
       count(distinct e.article_id) as articles,
       count(distinct a.site) as sites,
       count(distinct e.post_key) as posts,
       count(distinct case when p.status in {_DARK} then p.key end) as posts_dark
from embeds e
join articles a on a.id = e.article_id
left join posts p on p.key = e.post_key
where coalesce(p.author_handle, e.author_handle) is not null
group by coalesce(p.platform, e.platform), lower(coalesce(p.author_handle, e.author_handle))
order by embeds desc, articles desc, lower(max(coalesce(p.author_handle, e.author_handle)))
limit 200
""",
    ),
    Query(
        "embeds_per_site_per_month",
        "Embeds per site per month",
        "Embeds by site and month, with how many of the embedded posts are still available and how many "
        "went dark. The month is the article's publication month when the page states it (ISO date), else "
        "the month archiver first saw the embed.",
        f"""
select a.site,
       case when a.published glob '[0-9][0-9][0-9][0-9]-[0-9][0-9]*' then substr(a.published, 1, 7)
            else substr(e.first_seen, 1, 7) end as month,
       count(*) as embeds,
       count(distinct e.article_id) as articles,
       count(distinct e.post_key) as posts,
       sum(p.status = 'available') as still_available,
       sum(p.status in {_DARK}) as gone_dark
from embeds e
join articles a on a.id = e.article_id
left join posts p on p.key = e.post_key
group by 1, 2
order by 1, 2
""",
    ),
    Query(
        "articles_with_unavailable_embeds",
        "Articles whose embeds are no longer available",
        "Articles embedding at least one post that went dark: how many embeds they have, how many are gone, "
        "and which posts (key and status).",
        f"""
select a.id as article_id, a.url, a.title, a.site, a.published,
       count(*) as embeds,
       sum(p.status in {_DARK}) as unavailable,
       group_concat(case when p.status in {_DARK} then p.key || ' ' || p.status end, ', ')
         as unavailable_posts
from articles a
join embeds e on e.article_id = a.id
left join posts p on p.key = e.post_key
group by a.id
having sum(p.status in {_DARK}) > 0
order by unavailable desc, a.url
""",
    ),
    Query(
        "post_status_history",
        "Status history of one post",
        "Every check of one post, oldest first, with the status before it, the answer that decided it and the "
        "run that made it. key: the post key (twitter:1460323737035677698), its URL, or its bare id.",
        """
select c.checked_at, c.status,
       lag(c.status) over (order by c.checked_at, c.id) as previous_status,
       c.http_status, c.endpoint, c.detail, c.run_id, c.fetch_id,
       f.url as deciding_url, f.server_ip, c.content_sha256, p.key
from post_checks c
join posts p on p.key = c.post_key
left join fetches f on f.id = c.fetch_id
where p.key = :key or p.url = :key or p.post_id = :key
order by c.checked_at, c.id
""",
    ),
    Query(
        "outbound_links_by_host",
        "Outbound links by host",
        "Hosts that articles link to (a site's links to its own host left out): links, articles, linking "
        "sites, how many links stand in the article body, and when they were first and last seen.",
        """
select l.host,
       count(*) as links,
       count(distinct l.article_id) as articles,
       count(distinct a.site) as linking_sites,
       sum(l.region = 'body') as in_body,
       min(l.first_seen) as first_seen,
       max(l.last_seen) as last_seen
from links l
join articles a on a.id = l.article_id
where l.host is not null and l.host != a.site
group by l.host
order by links desc, l.host
""",
    ),
    Query(
        "embed_provenance",
        "Where each embed was found",
        "From every embed back to the HTTP exchange whose body was parsed and the run that made it: URL, time, "
        "server address, body hash, archiver version and command line.",
        """
select e.id as embed_id, e.post_key, e.kind, a.url as article_url, f.id as fetch_id, f.url as fetched_url,
       f.started, f.status, f.server_ip, f.body_sha256, r.id as run_id, r.version, r.command
from embeds e
join articles a on a.id = e.article_id
left join fetches f on f.id = e.fetch_id
left join runs r on r.id = f.run_id
order by e.id
""",
    ),
)

# -- the dashboard's charts (and `archiver stats`) -------------------------------------

HEADLINE = f"""
select (select count(*) from articles) as articles,
       (select count(distinct site) from articles) as sites,
       (select count(*) from embeds) as embeds,
       (select count(*) from posts) as posts,
       (select count(*) from posts where status in {_KNOWN}) as posts_known,
       (select count(*) from posts where status in {_DARK}) as posts_dark,
       (select round(100.0 * count(*) / nullif((select count(*) from posts where status in {_KNOWN}), 0), 1)
          from posts where status in {_DARK}) as percent_dark,
       (select count(*) from post_checks) as checks,
       (select count(*) from fetches) as exchanges,
       (select count(*) from runs) as runs,
       (select min(started) from runs) as first_run,
       (select max(started) from runs) as last_run
"""

POSTS_BY_STATUS = """
select coalesce(status, 'unchecked') as status, count(*) as posts
from posts group by 1 order by posts desc, status
"""

DARK_PER_WEEK = f"""
select date(status_since, 'weekday 0', '-6 days') as week, platform, count(*) as posts
from posts
where status in {_DARK}
group by 1, 2
order by 1, 2
"""
"""Posts now dark, by the week (starting Monday, UTC) archiver first recorded that status."""

SITE_AVAILABILITY = f"""
select a.site,
       count(*) as embeds,
       sum(p.status in {_KNOWN}) as known,
       sum(p.status = 'available') as available,
       round(1.0 * sum(p.status = 'available') / nullif(sum(p.status in {_KNOWN}), 0), 3) as share_available
from embeds e
join articles a on a.id = e.article_id
left join posts p on p.key = e.post_key
group by a.site
order by share_available, a.site
"""
"""Per site: of its embeds whose post has a known status, the share still available."""

CHECKS_PER_NIGHT = """
select date(checked_at) as night, status, count(*) as checks
from post_checks
group by 1, 2
order by 1, 2
"""
"""Checks of posts per (UTC) day, by the status each found."""


def canned_queries() -> dict[str, dict]:
    """Every canned query, as Datasette's metadata wants them."""
    return {q.name: q.canned() for q in CANNED}
