"""The built-in metrics: name -> where the class lives (imported on first use).

This is the one registration of a built-in metric: its name here, in the
order a run lists them by default, and its class in its own module. Every
built-in runs unless a config's ``metrics.use`` says otherwise.
"""

BUILTIN_METRICS: dict[str, str] = {
    "chrf": "harness.metrics.sacre:ChrF",
    "bleu": "harness.metrics.sacre:Bleu",
    "ter": "harness.metrics.sacre:Ter",
    "cosine": "harness.metrics.similarity:Cosine",
    "bertscore": "harness.metrics.bertscore:BertScore",
    "anchors": "harness.metrics.anchors:Anchors",
    "injected": "harness.metrics.injected:Injected",
    "semantic": "harness.metrics.semantic:Semantic",
    "roundtrip": "harness.metrics.similarity:RoundTrip",
    "meaning": "harness.metrics.meaning:Meaning",
}
