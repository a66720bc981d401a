"""A colour per contest site, so a person recognises a site at a glance (the stripe of an email's contest card).

Only ever used beside the site's name, never as the only sign of the site, and never as the colour of text: each is
a mid-tone that stands out on a light and on a dark background alike.
"""

from __future__ import annotations

import hashlib

#: the sites people meet most, in colours of their own brands (toned for both backgrounds)
KNOWN = {
    "codeforces": "#1f8acb",
    "codeforces_gym": "#5b9bd5",
    "atcoder": "#8a6d3b",
    "leetcode": "#f59e0b",
    "codechef": "#a16207",
    "topcoder": "#2563eb",
    "hackerrank": "#16a34a",
    "hackerearth": "#4f46e5",
    "yukicoder": "#0d9488",
    "luogu": "#3b82f6",
    "nowcoder": "#dc2626",
    "dmoj": "#ca8a04",
    "ctftime": "#db2777",
}
#: for any other site (feeds, clist resources): picked by a hash of its slug, so it never changes
OTHERS = ("#7c3aed", "#0891b2", "#65a30d", "#ea580c", "#be185d", "#0f766e", "#9333ea", "#b45309")


def site_colour(slug: str) -> str:
    """'#1f8acb' for Codeforces; the same colour for the same slug in every process."""
    if slug in KNOWN:
        return KNOWN[slug]
    return OTHERS[hashlib.blake2s(slug.encode("utf-8", "replace"), digest_size=2).digest()[0] % len(OTHERS)]
