"""Sentencepiece tokenisation for the M2M100 architecture, in the two id layouts it ships with.

- M2M100 (`M2M100Tokenizer`): ids come from `vocab.json` (not sentencepiece ids); a piece missing
  from it is `<unk>` (3); language token `__xx__` has id `len(vocab.json)` + its index in the
  100-code list.
- NLLB-200 (`NllbTokenizer`): id = sentencepiece id + 1, sentencepiece `<unk>` -> 3; the 202
  language tokens follow the pieces (`len(spm) + 1 + index`), then `<mask>`.

Both encode a sentence as `[source language] + pieces + [</s>]` (NLLB's legacy mode:
`pieces + [</s>, source language]`). Decoding drops ids 0-3 and every id past the pieces
(language tokens are not "special" in M2M100Tokenizer, so the reference would print them).
Explicit language ids in `added_tokens.json`, `tokenizer.json` or `tokenizer_config.json` win
over the computed ones.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from engine.errors import ModelError

log = logging.getLogger(__name__)

BOS_ID, PAD_ID, EOS_ID, UNK_ID = 0, 1, 2, 3
SPIECE_UNDERLINE = "\u2581"

M2M100_LANGUAGE_CODES: dict[str, tuple[str, ...]] = {
    "m2m100": (
        "af", "am", "ar", "ast", "az", "ba", "be", "bg", "bn", "br", "bs", "ca", "ceb", "cs", "cy",
        "da", "de", "el", "en", "es", "et", "fa", "ff", "fi", "fr", "fy", "ga", "gd", "gl", "gu",
        "ha", "he", "hi", "hr", "ht", "hu", "hy", "id", "ig", "ilo", "is", "it", "ja", "jv", "ka",
        "kk", "km", "kn", "ko", "lb", "lg", "ln", "lo", "lt", "lv", "mg", "mk", "ml", "mn", "mr",
        "ms", "my", "ne", "nl", "no", "ns", "oc", "or", "pa", "pl", "ps", "pt", "ro", "ru", "sd",
        "si", "sk", "sl", "so", "sq", "sr", "ss", "su", "sv", "sw", "ta", "th", "tl", "tn", "tr",
        "uk", "ur", "uz", "vi", "wo", "xh", "yi", "yo", "zh", "zu",
    ),
    "wmt21": ("en", "ha", "is", "ja", "cs", "ru", "zh", "de"),
}  # fmt: skip

NLLB_LANGUAGE_CODES: tuple[str, ...] = (
    "ace_Arab", "ace_Latn", "acm_Arab", "acq_Arab", "aeb_Arab", "afr_Latn", "ajp_Arab", "aka_Latn",
    "amh_Ethi", "apc_Arab", "arb_Arab", "ars_Arab", "ary_Arab", "arz_Arab", "asm_Beng", "ast_Latn",
    "awa_Deva", "ayr_Latn", "azb_Arab", "azj_Latn", "bak_Cyrl", "bam_Latn", "ban_Latn", "bel_Cyrl",
    "bem_Latn", "ben_Beng", "bho_Deva", "bjn_Arab", "bjn_Latn", "bod_Tibt", "bos_Latn", "bug_Latn",
    "bul_Cyrl", "cat_Latn", "ceb_Latn", "ces_Latn", "cjk_Latn", "ckb_Arab", "crh_Latn", "cym_Latn",
    "dan_Latn", "deu_Latn", "dik_Latn", "dyu_Latn", "dzo_Tibt", "ell_Grek", "eng_Latn", "epo_Latn",
    "est_Latn", "eus_Latn", "ewe_Latn", "fao_Latn", "pes_Arab", "fij_Latn", "fin_Latn", "fon_Latn",
    "fra_Latn", "fur_Latn", "fuv_Latn", "gla_Latn", "gle_Latn", "glg_Latn", "grn_Latn", "guj_Gujr",
    "hat_Latn", "hau_Latn", "heb_Hebr", "hin_Deva", "hne_Deva", "hrv_Latn", "hun_Latn", "hye_Armn",
    "ibo_Latn", "ilo_Latn", "ind_Latn", "isl_Latn", "ita_Latn", "jav_Latn", "jpn_Jpan", "kab_Latn",
    "kac_Latn", "kam_Latn", "kan_Knda", "kas_Arab", "kas_Deva", "kat_Geor", "knc_Arab", "knc_Latn",
    "kaz_Cyrl", "kbp_Latn", "kea_Latn", "khm_Khmr", "kik_Latn", "kin_Latn", "kir_Cyrl", "kmb_Latn",
    "kon_Latn", "kor_Hang", "kmr_Latn", "lao_Laoo", "lvs_Latn", "lij_Latn", "lim_Latn", "lin_Latn",
    "lit_Latn", "lmo_Latn", "ltg_Latn", "ltz_Latn", "lua_Latn", "lug_Latn", "luo_Latn", "lus_Latn",
    "mag_Deva", "mai_Deva", "mal_Mlym", "mar_Deva", "min_Latn", "mkd_Cyrl", "plt_Latn", "mlt_Latn",
    "mni_Beng", "khk_Cyrl", "mos_Latn", "mri_Latn", "zsm_Latn", "mya_Mymr", "nld_Latn", "nno_Latn",
    "nob_Latn", "npi_Deva", "nso_Latn", "nus_Latn", "nya_Latn", "oci_Latn", "gaz_Latn", "ory_Orya",
    "pag_Latn", "pan_Guru", "pap_Latn", "pol_Latn", "por_Latn", "prs_Arab", "pbt_Arab", "quy_Latn",
    "ron_Latn", "run_Latn", "rus_Cyrl", "sag_Latn", "san_Deva", "sat_Beng", "scn_Latn", "shn_Mymr",
    "sin_Sinh", "slk_Latn", "slv_Latn", "smo_Latn", "sna_Latn", "snd_Arab", "som_Latn", "sot_Latn",
    "spa_Latn", "als_Latn", "srd_Latn", "srp_Cyrl", "ssw_Latn", "sun_Latn", "swe_Latn", "swh_Latn",
    "szl_Latn", "tam_Taml", "tat_Cyrl", "tel_Telu", "tgk_Cyrl", "tgl_Latn", "tha_Thai", "tir_Ethi",
    "taq_Latn", "taq_Tfng", "tpi_Latn", "tsn_Latn", "tso_Latn", "tuk_Latn", "tum_Latn", "tur_Latn",
    "twi_Latn", "tzm_Tfng", "uig_Arab", "ukr_Cyrl", "umb_Latn", "urd_Arab", "uzn_Latn", "vec_Latn",
    "vie_Latn", "war_Latn", "wol_Latn", "xho_Latn", "ydd_Hebr", "yor_Latn", "yue_Hant", "zho_Hans",
    "zho_Hant", "zul_Latn",
)  # fmt: skip

SPM_FILE = "sentencepiece.bpe.model"
VOCAB_FILE = "vocab.json"


def read_json(path: Path, model_dir: Path) -> dict[str, Any]:
    """A JSON object from a model file; ModelError naming the file when it is unreadable."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelError(
            f"Model in {model_dir}: {path.name} is unreadable or corrupt ({exc}). "
            "Re-download or re-import the model."
        ) from exc
    if not isinstance(data, dict):
        raise ModelError(f"Model in {model_dir}: {path.name} is not a JSON object.")
    return data


def load_sentencepiece(model_dir: Path) -> Any:
    """The model's sentencepiece processor; ModelError when the file is missing or corrupt."""
    import sentencepiece  # runtime dependency of the project

    spm_path = model_dir / SPM_FILE
    if not spm_path.is_file():
        raise ModelError(
            f"Translation model in {model_dir} is missing its tokenizer file {SPM_FILE}. "
            "Re-download or re-import the model."
        )
    processor = sentencepiece.SentencePieceProcessor()
    try:
        processor.Load(str(spm_path))
    except (OSError, RuntimeError) as exc:
        raise ModelError(
            f"Translation model in {model_dir}: {SPM_FILE} is corrupt ({exc}). "
            "Re-download or re-import the model."
        ) from exc
    return processor


def detect_kind(model_dir: Path) -> str:
    """'nllb' or 'm2m100', from tokenizer_config.json's tokenizer_class (else the files present)."""
    config_file = model_dir / "tokenizer_config.json"
    if config_file.is_file():
        cls = str(read_json(config_file, model_dir).get("tokenizer_class", "")).lower()
        if "nllb" in cls:
            return "nllb"
        if "m2m100" in cls:
            return "m2m100"
    return "m2m100" if (model_dir / VOCAB_FILE).is_file() else "nllb"


class M2M100Tokenizer:
    """Encode/decode for M2M100 and NLLB models; see the module docstring for the id rules.

    kind: "m2m100" or "nllb"; None = from tokenizer_config.json. A kind that contradicts the
    files is a ModelError (an NLLB model chosen as m2m100 would translate into garbage).
    """

    def __init__(self, model_dir: Path, kind: str | None = None) -> None:
        self.model_dir = Path(model_dir)
        detected = detect_kind(self.model_dir)
        if kind is not None and kind != detected:
            raise ModelError(
                f"The model in {self.model_dir} is an {detected.upper()} model (its tokenizer "
                f"files say so), not {kind.upper()}: choose the {detected} translator for it."
            )
        self.kind = detected
        self.sp = load_sentencepiece(self.model_dir)
        config_file = self.model_dir / "tokenizer_config.json"
        self.config = read_json(config_file, self.model_dir) if config_file.is_file() else {}
        self.legacy_behaviour = bool(self.config.get("legacy_behaviour", False))
        if self.kind == "m2m100":
            self._init_m2m100()
        else:
            self._init_nllb()
        explicit = self._explicit_ids()
        for code in list(self.lang_to_id):
            token = self.lang_token(code)
            if token in explicit:
                self.lang_to_id[code] = explicit[token]
        self.id_to_lang = {v: k for k, v in self.lang_to_id.items()}

    # ------------------------------------------------------------------ loading

    def _init_m2m100(self) -> None:
        vocab_path = self.model_dir / VOCAB_FILE
        if not vocab_path.is_file():
            raise ModelError(
                f"Translation model in {self.model_dir} is missing its tokenizer file "
                f"{VOCAB_FILE}. Re-download or re-import the model."
            )
        vocab = read_json(vocab_path, self.model_dir)
        self.encoder: dict[str, int] = {str(k): int(v) for k, v in vocab.items()}
        self.decoder: dict[int, str] = {v: k for k, v in self.encoder.items()}
        self.content_size = len(self.encoder)
        codes_name = str(self.config.get("language_codes", "m2m100"))
        codes = M2M100_LANGUAGE_CODES.get(codes_name)
        if codes is None:
            raise ModelError(
                f"Translation model in {self.model_dir}: unknown language_codes '{codes_name}' in "
                "tokenizer_config.json."
            )
        self.lang_to_id = {code: self.content_size + i for i, code in enumerate(codes)}

    def _init_nllb(self) -> None:
        self.encoder = {}
        self.decoder = {}
        self.content_size = self.sp.GetPieceSize() + 1
        self.lang_to_id = {
            code: self.content_size + i for i, code in enumerate(NLLB_LANGUAGE_CODES)
        }

    def _explicit_ids(self) -> dict[str, int]:
        """Language-token ids written in the tokenizer files, when they are there."""
        found: dict[str, int] = {}
        decoder = self.config.get("added_tokens_decoder")
        if isinstance(decoder, dict):
            for key, value in decoder.items():
                if isinstance(value, dict) and "content" in value and str(key).isdigit():
                    found[str(value["content"])] = int(key)
        tokenizer_json = self.model_dir / "tokenizer.json"
        if tokenizer_json.is_file():
            data = read_json(tokenizer_json, self.model_dir)
            for item in data.get("added_tokens") or []:
                if isinstance(item, dict) and "content" in item and "id" in item:
                    found[str(item["content"])] = int(item["id"])
        added = self.model_dir / "added_tokens.json"
        if added.is_file():
            for key, value in read_json(added, self.model_dir).items():
                found[str(key)] = int(value)
        return found

    # ------------------------------------------------------------------ ids

    def lang_token(self, code: str) -> str:
        return f"__{code}__" if self.kind == "m2m100" else code

    @property
    def languages(self) -> tuple[str, ...]:
        """The model's own language codes."""
        return tuple(self.lang_to_id)

    def lang_id(self, code: str) -> int:
        """Id of a language token, from the model's own code (`de` or `deu_Latn`)."""
        try:
            return self.lang_to_id[code]
        except KeyError:
            raise ModelError(
                f"The model in {self.model_dir} has no language token for '{code}'."
            ) from None

    def piece_to_id(self, piece: str) -> int:
        if self.kind == "m2m100":
            return self.encoder.get(piece, UNK_ID)
        spm_id = self.sp.PieceToId(piece)
        return spm_id + 1 if spm_id else UNK_ID

    def id_to_piece(self, token_id: int) -> str | None:
        """The sentencepiece piece of a content id; None for specials and language tokens."""
        if token_id <= UNK_ID or token_id >= self.content_size:
            return None
        if self.kind == "m2m100":
            return self.decoder.get(token_id)
        return self.sp.IdToPiece(token_id - 1)

    # ------------------------------------------------------------------ text

    def pieces(self, text: str) -> list[str]:
        return list(self.sp.encode(text, out_type=str))

    def encode(self, text: str, source_code: str, max_tokens: int | None = None) -> list[int]:
        """Encoder input ids; pieces are cut so that the whole stays within max_tokens."""
        ids = [self.piece_to_id(p) for p in self.pieces(text)]
        if max_tokens is not None and len(ids) > max_tokens - 2:
            ids = ids[: max(0, max_tokens - 2)]
        lang = self.lang_id(source_code)
        if self.kind == "nllb" and self.legacy_behaviour:
            return ids + [EOS_ID, lang]
        return [lang] + ids + [EOS_ID]

    def decode(self, token_ids: list[int] | tuple[int, ...]) -> str:
        """Text of generated ids; specials and language tokens are dropped."""
        pieces = [p for p in (self.id_to_piece(int(t)) for t in token_ids) if p is not None]
        if self.kind == "nllb":
            return "".join(pieces).replace(SPIECE_UNDERLINE, " ").strip()
        return str(self.sp.decode_pieces(pieces)).strip()
