"""Did you mean …?": the known name a user most likely misspelt."""

from __future__ import annotations

from collections.abc import Iterable


def closest(name: str, candidates: Iterable[str], *, short: bool = False) -> str | None:
    """The candidate `name` most likely misspells: same letters ignoring case, or an edit distance
    of at most 2 (1 for names of up to 5 characters when `short`)."""
    lowered = name.lower()
    for candidate in candidates:
        if candidate.lower() == lowered:
            return candidate
    limit = 1 if short and len(name) <= 5 else 2
    best, best_distance = None, limit + 1
    for candidate in candidates:
        distance = edit_distance(lowered, candidate.lower(), best_distance)
        if distance < best_distance:
            best, best_distance = candidate, distance
    return best


def edit_distance(a: str, b: str, cutoff: int) -> int:
    """Levenshtein distance, or `cutoff` as soon as it is certain to be at least that."""
    if abs(len(a) - len(b)) >= cutoff:
        return cutoff
    previous = list(range(len(b) + 1))
    for i, char_a in enumerate(a, 1):
        current = [i]
        for j, char_b in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (char_a != char_b)))
        if min(current) >= cutoff:
            return cutoff
        previous = current
    return previous[-1]
