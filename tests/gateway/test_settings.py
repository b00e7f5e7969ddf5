"""Settings from the environment: defaults, and one clear line for a wrong value."""

from __future__ import annotations

import pytest

from bot.settings import Settings, SettingsError

SECRETS = {"ID_SECRET": "a" * 64, "MESSAGE_KEY": "k" * 43 + "="}


def test_rasa_defaults_to_the_local_port() -> None:
    settings = Settings.from_env({**SECRETS, "RASA_PORT": "5111"})
    assert settings.rasa_urls == ("http://127.0.0.1:5111",)


def test_several_rasa_servers_are_separated_by_commas() -> None:
    env = {**SECRETS, "RASA_URL": "http://10.0.0.1:5005, http://10.0.0.2:5005,"}
    assert Settings.from_env(env).rasa_urls == ("http://10.0.0.1:5005", "http://10.0.0.2:5005")


def test_an_empty_rasa_url_is_the_default() -> None:
    settings = Settings.from_env({**SECRETS, "RASA_URL": " "})
    assert settings.rasa_urls == ("http://127.0.0.1:5005",)


@pytest.mark.parametrize("value", [",", "127.0.0.1:5005", "http://a:5005,rasa:5005"])
def test_a_rasa_url_without_a_scheme_is_refused(value: str) -> None:
    with pytest.raises(SettingsError, match="RASA_URL"):
        Settings.from_env({**SECRETS, "RASA_URL": value})


@pytest.mark.parametrize("value", ["k" * 44, "not a key", ","])
def test_a_malformed_message_key_says_how_to_make_one(value: str) -> None:
    with pytest.raises(SettingsError, match="Fernet.generate_key"):
        Settings.from_env({**SECRETS, "MESSAGE_KEY": value})


def test_message_keys_are_newest_first_separated_by_commas() -> None:
    keys = "k" * 43 + "=, " + "j" * 43 + "="
    assert Settings.from_env({**SECRETS, "MESSAGE_KEY": keys}).message_key == keys.encode()


def test_a_missing_secret_says_where_secrets_come_from() -> None:
    with pytest.raises(SettingsError, match="var/secrets.env"):
        Settings.from_env({"ID_SECRET": "x"})


def test_no_proxy_is_trusted_unless_named() -> None:
    assert Settings.from_env(SECRETS).forwarded_allow_ips == ()
    env = {**SECRETS, "FORWARDED_ALLOW_IPS": "127.0.0.1, 10.0.0.0/24,::1"}
    assert Settings.from_env(env).forwarded_allow_ips == ("127.0.0.1/32", "10.0.0.0/24", "::1/128")


@pytest.mark.parametrize("value", ["*", "proxy.example.org", "10.0.0.300", "127.0.0.1;10.0.0.1"])
def test_a_proxy_that_is_not_an_address_is_refused(value: str) -> None:
    with pytest.raises(SettingsError, match="FORWARDED_ALLOW_IPS must list the reverse proxy's"):
        Settings.from_env({**SECRETS, "FORWARDED_ALLOW_IPS": value})
