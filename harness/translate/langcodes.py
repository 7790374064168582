"""ISO 639-1 codes (what configs use) -> the codes each engine family wants.

Only widely used languages are listed; any other, or a regional variant,
is given per backend with the ``lang_codes`` option (``{pt: por_Latn}``).
"""

from __future__ import annotations

from ..errors import ConfigError

# ISO 639-1 -> (ISO 639-3, NLLB-200 code, mBART-50 code, English name)
_TABLE: dict[str, tuple[str, str, str | None, str]] = {
    "ar": ("ara", "arb_Arab", "ar_AR", "Arabic"),
    "ca": ("cat", "cat_Latn", None, "Catalan"),
    "cs": ("ces", "ces_Latn", "cs_CZ", "Czech"),
    "da": ("dan", "dan_Latn", None, "Danish"),
    "de": ("deu", "deu_Latn", "de_DE", "German"),
    "el": ("ell", "ell_Grek", None, "Greek"),
    "en": ("eng", "eng_Latn", "en_XX", "English"),
    "es": ("spa", "spa_Latn", "es_XX", "Spanish"),
    "fi": ("fin", "fin_Latn", "fi_FI", "Finnish"),
    "fr": ("fra", "fra_Latn", "fr_XX", "French"),
    "gl": ("glg", "glg_Latn", "gl_ES", "Galician"),
    "hi": ("hin", "hin_Deva", "hi_IN", "Hindi"),
    "it": ("ita", "ita_Latn", "it_IT", "Italian"),
    "ja": ("jpn", "jpn_Jpan", "ja_XX", "Japanese"),
    "ko": ("kor", "kor_Hang", "ko_KR", "Korean"),
    "nl": ("nld", "nld_Latn", "nl_XX", "Dutch"),
    "pl": ("pol", "pol_Latn", "pl_PL", "Polish"),
    "pt": ("por", "por_Latn", "pt_XX", "Portuguese"),
    "ro": ("ron", "ron_Latn", "ro_RO", "Romanian"),
    "ru": ("rus", "rus_Cyrl", "ru_RU", "Russian"),
    "sv": ("swe", "swe_Latn", "sv_SE", "Swedish"),
    "tr": ("tur", "tur_Latn", "tr_TR", "Turkish"),
    "uk": ("ukr", "ukr_Cyrl", "uk_UA", "Ukrainian"),
    "vi": ("vie", "vie_Latn", "vi_VN", "Vietnamese"),
    "zh": ("zho", "zho_Hans", "zh_CN", "Chinese"),
}

_COLUMN = {"iso3": 0, "nllb": 1, "mbart": 2, "name": 3}


def code_for(lang: str, scheme: str, overrides: dict[str, str] | None = None) -> str:
    """The ``scheme`` code (iso3 | nllb | mbart | name) for ISO 639-1 ``lang``."""
    if overrides and lang in overrides:
        return overrides[lang]
    row = _TABLE.get(lang)
    value = row[_COLUMN[scheme]] if row else None
    if value is None:
        raise ConfigError(
            f"no {scheme} language code known for {lang!r}; give it with the backend option "
            f"lang_codes: {{{lang}: <code>}}"
        )
    return value
