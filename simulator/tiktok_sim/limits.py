"""Report size limits: 40067 for over-large queries, truncated synchronous reports.

* 40067 (HTTP 200): TikTok's text asks to "reduce the query size (e.g. fewer metrics or time
  range)". The docs give no formula; the simulator's size is days x metrics x objects (rows'
  objects at the data level, after filters), so halving the date window always helps.
* Truncation (sync report doc 1740302848100353, FAQ 1738864850353154): a synchronous report
  processes only the newest 20,000 ads of its scope (by create time) and says so in the
  ``X-Tt-Ads-Throttle`` response header. The simulator's unit is the ad group (an ad-level
  report keeps the ads of the ad groups kept); narrowing the scope with
  ``campaign_ids``/``adgroup_ids`` filters helps, shortening the date window does not (as
  with TikTok).
"""

from __future__ import annotations

from tiktok_sim.dataset import AdGroup
from tiktok_sim.params import ApiError

QUERY_TOO_LARGE = 40067
QUERY_TOO_LARGE_MESSAGE = (
    "Your query is too large, please reduce the query size (e.g. fewer metrics or time range) "
    "and retry after a while."
)
THROTTLE_HEADER = "X-Tt-Ads-Throttle"


def check_query_size(days: int, metrics: int, objects: int, limit: int | None) -> None:
    if limit is not None and days * max(metrics, 1) * objects > limit:
        raise ApiError(QUERY_TOO_LARGE, QUERY_TOO_LARGE_MESSAGE)


def throttle_text(limit: int) -> str:
    """TikTok's documented header value, with the simulator's limit in it."""
    n = f"{limit // 1000}k" if limit % 1000 == 0 else str(limit)
    return (
        f"Number of ad ids is equal or more than {n}, only return the top {n} id's results, "
        "sorting by create time desc order."
    )


def newest(leaves: list[AdGroup], limit: int | None) -> set[str] | None:
    """Ids of the ad groups a truncated report keeps; None when nothing is cut."""
    if limit is None or len(leaves) <= limit:
        return None
    ordered = sorted(leaves, key=lambda g: (g.create_time, g.adgroup_id), reverse=True)
    return {g.adgroup_id for g in ordered[:limit]}
