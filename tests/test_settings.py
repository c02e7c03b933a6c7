"""Settings: defaults, TOML file, environment and options, in that order."""

from __future__ import annotations

import pytest

from archiver.errors import ConfigError
from archiver.settings import Settings, load_settings


def test_defaults_name_archiver_and_contact():
    s = load_settings(env={})
    assert s == Settings()
    assert s.user_agent.startswith("archiver/") and s.contact_url in s.user_agent
    assert s.endpoints.twitter_syndication == "https://cdn.syndication.twimg.com/tweet-result"


def test_layers_in_order(tmp_path):
    cfg = tmp_path / "job.toml"
    cfg.write_text('concurrency = 4\nper_host_delay = 2.5\nconnect_to = ["https://a.test=http://127.0.0.1:1"]\n'
                   '[endpoints]\ntwitter_oembed = "http://mirror.test/oembed"\n')
    env = {"ARCHIVER_CONCURRENCY": "8", "ARCHIVER_CONNECT_TO": "https://b.test=http://127.0.0.1:2",
           "ARCHIVER_ENDPOINT_YOUTUBE_OEMBED": "http://mirror.test/yt"}
    s = load_settings(cfg, env=env, concurrency=None, allow_private=True)
    assert s.concurrency == 8 and s.per_host_delay == 2.5 and s.allow_private is True
    assert s.endpoints.twitter_oembed == "http://mirror.test/oembed"
    assert s.endpoints.youtube_oembed == "http://mirror.test/yt"
    assert [a for a, _ in s.connect_to] == ["https://a.test", "https://b.test"]
    assert load_settings(cfg, env=env, concurrency=2).concurrency == 2


def test_public_settings_mask_the_token():
    s = load_settings(env={"ARCHIVER_META_ACCESS_TOKEN": "secret"})
    assert s.meta_access_token == "secret"
    assert s.public()["meta_access_token"] == "***" and "secret" not in repr(s)


@pytest.mark.parametrize("content, says", [
    ("concurrency = 'many'", "concurrency"),
    ("no_such_setting = 1", "unknown setting 'no_such_setting'"),
    ("[endpoints]\nnowhere = 'http://x'", "unknown endpoint 'nowhere'"),
    ("concurrency = [", "not valid TOML"),
])
def test_bad_config_is_named(tmp_path, content, says):
    cfg = tmp_path / "bad.toml"
    cfg.write_text(content)
    with pytest.raises(ConfigError, match=says):
        load_settings(cfg, env={})


def test_bad_environment_value_is_named():
    with pytest.raises(ConfigError, match="ARCHIVER_TIMEOUT"):
        load_settings(env={"ARCHIVER_TIMEOUT": "soon"})
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings("/nonexistent/archiver.toml", env={})


@pytest.mark.parametrize("workers, resolver_process, starts", [(0, False, False), (1, False, True), (0, True, True),
                                                               (2, True, True)])
def test_a_run_starts_processes_for_extraction_or_lookups(workers, resolver_process, starts):
    assert Settings(extract_workers=workers, resolver_process=resolver_process).starts_processes is starts
