"""Typed settings read from TECHMATCH_* environment variables and a .env file."""

from __future__ import annotations

from pathlib import Path
from typing import Self

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from matching.encoder import DEFAULT_MODEL

MAX_K = 50


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="TECHMATCH_", env_file=".env", extra="ignore", frozen=True
    )

    database_url: str = Field("sqlite:///var/techmatch.db", min_length=1)
    data_dir: Path = Path("var")
    model: str = Field(DEFAULT_MODEL, min_length=1)
    max_text_chars: int = Field(20_000, ge=100)
    max_page_size: int = Field(100, ge=1)
    default_k: int = Field(10, ge=1, le=MAX_K)
    show_unreviewed: bool = False
    encode_batch_size: int = Field(64, ge=1)
    demo_dir: Path | None = None

    @property
    def index_dir(self) -> Path:
        return self.data_dir / "index"

    @model_validator(mode="after")
    def _known_database(self) -> Self:
        # Fail at start-up, not at the first request, on a URL SQLAlchemy cannot parse.
        try:
            make_url(self.database_url)
        except ArgumentError as exc:
            raise ValueError(f"database_url is not a database URL: {exc}") from exc
        return self
