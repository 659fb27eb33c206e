"""Pattern names: 3 to 6 words."""
from __future__ import annotations

MIN_WORDS, MAX_WORDS = 3, 6


def fit_words(text: str, filler: str = "issue") -> str:
    """A name of 3 to 6 words: longer ones are cut (with an ellipsis), shorter ones padded."""
    words = " ".join(str(text or "").split()).split(" ")
    words = [w for w in words if w]
    if len(words) > MAX_WORDS:
        words = words[:MAX_WORDS]
        words[-1] = words[-1].rstrip(".,;:") + "…"
        if sum(w.count('"') for w in words) % 2:  # keep quotes balanced when the cut fell inside a label
            words[-1] += '"'
    while len(words) < MIN_WORDS:
        words.append(filler)
    return " ".join(words)
