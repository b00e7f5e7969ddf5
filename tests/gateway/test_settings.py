"""Settings from the environment: defaults, and one clear line for a wrong value."""

from __future__ import annotations

import pytest

from bot.settings import Settings, SettingsError

SECRETS = {"DEPLOYMENT": "local", "ID_SECRET": "a" * 64, "MESSAGE_KEY": "k" * 43 + "="}


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


STRONG = {
    "ID_SECRET": "3f9a0c5e7b2d4f6a8c1e3b5d7f9a2c4e6b8d0f1a3c5e7b9d2f4a6c8e0b1d3f5a",
    "MESSAGE_KEY": "pZ0Yl8mQ2v5sK9xR3tB7nD1hF4jL6wC0eG8iU2oA5yM=",
    "REDIS_PASSWORD_WEB": "a-long-random-redis-password-1f3e",
}


def test_production_is_the_default_and_takes_strong_secrets() -> None:
    settings = Settings.from_env({**STRONG, "PUBLIC_URL": "https://hotline.example.org"})
    assert settings.deployment == "production"
    assert settings.redis.username == "web"


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"ID_SECRET": "a" * 64}, "ID_SECRET is too weak"),
        ({"ID_SECRET": "test-id-secret"}, "ID_SECRET is too weak"),
        ({"MESSAGE_KEY": "k" * 43 + "="}, "MESSAGE_KEY holds a key that is not random"),
        ({"REDIS_PASSWORD_WEB": ""}, "Redis needs a password"),
        ({"REDIS_PASSWORD_WEB": "short"}, "Redis needs a password"),
        ({"PUBLIC_URL": "http://hotline.example.org"}, "PUBLIC_URL must start with https://"),
    ],
)
def test_production_refuses_a_weak_secret(change: dict[str, str], named: str) -> None:
    with pytest.raises(SettingsError, match=named):
        Settings.from_env({**STRONG, **change})
    assert Settings.from_env({**STRONG, **change, "DEPLOYMENT": "local"}), "fine on a test machine"


@pytest.mark.parametrize(
    ("setting", "value", "said"),
    [
        ("BOT_PORT", "eighty", "BOT_PORT must be a number, not 'eighty'"),
        ("WORKER_PORT", "0", "WORKER_PORT must be a port number from 1 to 65535, not '0'"),
        ("METRICS_PORT", "70000", "METRICS_PORT must be a port number from 1 to 65535"),
        ("WAIT_REMINDER_MINUTES", "0", "WAIT_REMINDER_MINUTES must be a number of minutes above 0"),
        ("DEPLOYMENT", "staging", "DEPLOYMENT: Input should be 'local' or 'production'"),
        ("LIMIT_CHAT", "lots", "LIMIT_CHAT must be count/seconds"),
        ("TELEGRAM_BOT_USERNAME", "@nope", "TELEGRAM_BOT_USERNAME must be the bot's username"),
        ("TRANSLATE_URL", "translate.local", "TRANSLATE_URL must be a URL"),
    ],
)
def test_a_wrong_setting_is_one_line_that_names_it(setting: str, value: str, said: str) -> None:
    with pytest.raises(SettingsError) as error:
        Settings.from_env({**SECRETS, setting: value})
    assert str(error.value).startswith(said) and "\n" not in str(error.value)


def test_only_the_given_environment_is_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BOT_PORT", "9999")
    assert Settings.from_env(SECRETS).port == 8000
    monkeypatch.setenv("ID_SECRET", "b" * 64)
    monkeypatch.setenv("MESSAGE_KEY", "k" * 43 + "=")
    monkeypatch.setenv("DEPLOYMENT", "local")
    assert Settings.from_env().port == 9999
