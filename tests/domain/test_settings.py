"""lib/domain/settings.py: the sandbox by default, live with keys; the example rules file equals the defaults."""

from __future__ import annotations

import pytest

from lib.domain.settings import LIVE_URL, SANDBOX_URL, load_settings


def test_settings_default_to_sandbox_and_switch_to_live_with_keys(tmp_path):
    s = load_settings(env={"VBANK_SECRETS_FILE": str(tmp_path / "none.toml")})
    assert s.api_url == SANDBOX_URL and s.is_sandbox
    secrets = tmp_path / "secrets.toml"
    secrets.write_text('IAMPORT_IMP_KEY = "k123"\nIAMPORT_IMP_SECRET = "s-very-secret"\n')
    live = load_settings(env={"VBANK_SECRETS_FILE": str(secrets)})
    assert live.api_url == LIVE_URL and not live.is_sandbox
    assert "s-very-secret" not in repr(live) and "s-very-secret" not in str(live.model_dump())
    env = load_settings(env={"VBANK_SECRETS_FILE": str(secrets), "IAMPORT_IMP_KEY": "from-env"})
    assert env.imp_key.get_secret_value() == "k123"   # secrets.toml overrides the environment
    with pytest.raises(ValueError):
        load_settings(env={"IAMPORT_API_URL": "https://api.iamport.kr", "VBANK_SECRETS_FILE": str(tmp_path / "x")})


def test_rules_example_file_matches_the_defaults():
    from lib.domain.settings import ROOT, Rules
    s = load_settings(env={"VBANK_SECRETS_FILE": "/nonexistent", "VBANK_RULES_FILE": str(ROOT / "vbank-desk.toml.example")})
    defaults = Rules().model_dump()
    got = s.rules.model_dump()
    assert got["roles"] == {"viewer": ["*"]}
    got["roles"] = defaults["roles"]
    assert got == defaults
