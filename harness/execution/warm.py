"""Imported once by the fork server the worker processes are forked from
(:mod:`.pool`): the built-in cleaners' data (lexicons, the language model,
word frequencies) and the metrics' modules load here, once, and every worker
starts with them in memory (shared copy-on-write) instead of loading its own.
"""

from __future__ import annotations


def _warm() -> None:
    try:
        from ..cleaners import build_cleaner, run_chain
        from ..config import DEFAULT_CLEANERS
        from ..metrics import build_metric  # noqa: F401
        from ..metrics.config import MetricsConfig
        from ..scoring import Scorer

        chain = [build_cleaner(name) for name in DEFAULT_CLEANERS]
        run_chain(chain, "The united states and you may the kadД±nlar said that 12 people were not there.")
        scorer = Scorer(MetricsConfig(use=["chrf", "bleu", "ter", "anchors"]))
        scorer.measure({"distorted": ["The United States said 12 people."]}, [["The US said that 12 people came."]])
    except Exception:  # warming is an optimisation: a worker loads what it needs itself
        pass


_warm()
