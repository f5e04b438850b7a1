"""Every setting an operator can change is documented in docs/operations.md."""

from pathlib import Path

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
