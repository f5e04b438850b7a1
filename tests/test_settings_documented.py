"""Every setting an operator can change is documented in docs/operations.md."""

from pathlib import Path

import pytest

from assistant.settings import Settings

DOC = Path(__file__).resolve().parent.parent / "docs" / "operations.md"


def test_every_setting_is_documented():
    text = DOC.read_text(encoding="utf-8")
    missing = [name for name in Settings.model_fields if f"JXE_{name.upper()}" not in text]
    # database_url is documented under its conventional name too, but JXE_DATABASE_URL must appear as well
    assert not missing, f"settings missing from docs/operations.md: {missing}"


def test_environment_overrides_defaults(monkeypatch, tmp_path):
    monkeypatch.setenv("JXE_STAFF_TOKEN", "s3cret")
    monkeypatch.setenv("DATABASE_URL", "postgresql://u@h:5432/d")
    monkeypatch.setenv("JXE_CORS_ORIGINS", "https://a.example, https://b.example")
    monkeypatch.setenv("JXE_SETTINGS_FILE", str(tmp_path / "none.yml"))
    s = Settings()
    assert s.staff_token == "s3cret"
    assert s.database_url == "postgresql://u@h:5432/d"
    assert s.cors_origins == ["https://a.example", "https://b.example"]


def test_yaml_settings_file_is_read_and_env_wins(monkeypatch, tmp_path):
    f = tmp_path / "jxe.yml"
    f.write_text("port: 9123\nstaff_token: from-file\n", encoding="utf-8")
    monkeypatch.setenv("JXE_SETTINGS_FILE", str(f))
    monkeypatch.setenv("JXE_STAFF_TOKEN", "from-env")
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("JXE_DATABASE_URL", raising=False)
    s = Settings()
    assert s.port == 9123
    assert s.staff_token == "from-env"
    assert s.app_internal_url == "http://127.0.0.1:9123"
    assert s.database_url.startswith("sqlite:///")


def test_placeholder_staff_token_refused_in_production(monkeypatch, tmp_path):
    import pytest
    from pydantic import ValidationError

    monkeypatch.setenv("JXE_SETTINGS_FILE", str(tmp_path / "none.yml"))
    with pytest.raises(ValidationError):
        Settings(environment="production", staff_token="changethis")


# --- production refuses weak settings ------------------------------------------------------------------------------

STRONG = "Kq7-vR2xWm9pLz4Ns8Tb3Yc6"


def _production(monkeypatch, tmp_path, **values):
    monkeypatch.setenv("JXE_SETTINGS_FILE", str(tmp_path / "none.yml"))
    return Settings(environment="production", **values)


def test_production_accepts_strong_settings(monkeypatch, tmp_path):
    s = _production(monkeypatch, tmp_path, staff_token=STRONG, internal_token=STRONG + "x")
    assert s.staff_token == STRONG
    # unset secrets are fine: the staff endpoints stay closed, the internal and Rasa tokens are random
    s = _production(monkeypatch, tmp_path)
    assert s.staff_token is None and len(s.internal_token) >= 24 and len(s.rasa_auth_token) >= 24
    # WeChat in safe mode is fine
    _production(monkeypatch, tmp_path, wechat_token="Wx-token-Abc123", wechat_mode="safe", wechat_aes_key="k" * 43)



@pytest.mark.parametrize("field,value,why", [
    ("staff_token", "changethis", "placeholder"),
    ("staff_token", "123456", "placeholder"),
    ("staff_token", "MyPassword-for-the-staff-2024", "placeholder"),
    ("staff_token", "test-staff-token-0123456789", "placeholder"),
    ("staff_token", "Secret_Token_Of_The_District", "placeholder"),
    ("staff_token", "Ab3-short", "shorter than 24"),
    ("staff_token", "k" * 30, "one kind of character"),
    ("staff_token", "abcdefghijklmnopqrstuvwxyzab", "placeholder"),
    ("staff_token", "qpwoeirutyalskdjfhgzmxncbv", "one kind of character"),
    ("staff_token", "98234758923475982374598237", "one kind of character"),
    ("internal_token", "changeme", "placeholder"),
    ("internal_token", "zq" * 8, "shorter than 24"),
    ("rasa_auth_token", "token", "placeholder"),
    ("kiosk_device_key", "kiosk1", "shorter than 24"),
    ("pseudonym_key", "changeme-please-0123456789", "placeholder"),
])
def test_production_refuses_weak_secrets_saying_why(monkeypatch, tmp_path, field, value, why):
    from pydantic import ValidationError

    with pytest.raises(ValidationError) as err:
        _production(monkeypatch, tmp_path, **{field: value})
    msg = err.value.errors()[0]["msg"]
    assert f"JXE_{field.upper()}" in msg and why in msg and "\n" not in msg
    # the same values are accepted outside production
    monkeypatch.setenv("JXE_SETTINGS_FILE", str(tmp_path / "none.yml"))
    assert getattr(Settings(environment="local", **{field: value}), field) == value


def test_production_with_several_processes_needs_one_pseudonym_key(monkeypatch, tmp_path):
    """Each process would otherwise hash client addresses with its own random key: the shared daily caps would
    count one client as several."""
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="JXE_PSEUDONYM_KEY is unset while JXE_REDIS_URL"):
        _production(monkeypatch, tmp_path, redis_url="redis://cache:6379/0")
    s = _production(monkeypatch, tmp_path, redis_url="redis://cache:6379/0", pseudonym_key=STRONG)
    assert s.pseudonym_key == STRONG


def test_production_refuses_plain_wechat(monkeypatch, tmp_path):
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="JXE_WECHAT_MODE is plain"):
        _production(monkeypatch, tmp_path, staff_token=STRONG, wechat_token="Wx-token-Abc123", wechat_mode="plain")


def test_cli_refuses_to_start_in_one_line(monkeypatch, tmp_path, capsys):
    from assistant import cli
    from assistant.settings import get_settings

    monkeypatch.setenv("JXE_SETTINGS_FILE", str(tmp_path / "none.yml"))
    monkeypatch.setenv("JXE_ENVIRONMENT", "production")
    monkeypatch.setenv("JXE_STAFF_TOKEN", "123456")
    get_settings.cache_clear()
    try:
        assert cli.main(["serve"]) == 2
    finally:
        get_settings.cache_clear()
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert err.startswith("jinxiaoer: invalid settings: refusing to start in production: JXE_STAFF_TOKEN is a placeholder")


def test_managed_rasa_must_listen_on_loopback(monkeypatch, tmp_path):
    from pydantic import ValidationError

    monkeypatch.setenv("JXE_SETTINGS_FILE", str(tmp_path / "none.yml"))
    for url in ("http://0.0.0.0:5005", "http://10.1.2.3:5005", "http://rasa.internal:5005"):
        with pytest.raises(ValidationError, match="not a loopback address"):
            Settings(environment="test", rasa_manage=True, rasa_url=url)
        assert Settings(environment="test", rasa_manage=True, rasa_url=url, rasa_allow_remote_bind=True)
        assert Settings(environment="test", rasa_manage=False, rasa_url=url)  # someone else runs that Rasa
    for url in ("http://127.0.0.1:5005", "http://localhost:5005", "http://[::1]:5005", "http://127.0.0.2:6000"):
        assert Settings(environment="test", rasa_manage=True, rasa_url=url)
