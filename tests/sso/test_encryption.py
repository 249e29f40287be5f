"""The identity providers' secrets at rest: sealed with the keys of settings, which production
requires."""

import pytest
from django.test import override_settings

from sso.encryption import seal, unseal
from sso.exceptions import SsoError
from tests.fixtures.production import PRODUCTION_SECRETS
from tests.fixtures.production import SSO_ENCRYPTION_KEYS as SSO_KEY
from tests.test_project import run_manage

OLD_KEY = "b2xkLWtleS1vZi1xdW9ydW0tdGVzdHMtb25seS0zMiE="
NEW_KEY = "bmV3LWtleS1vZi1xdW9ydW0tdGVzdHMtb25seS0zMiE="


def test_a_secret_sealed_with_a_retired_key_opens_while_that_key_is_kept():
    with override_settings(SSO_ENCRYPTION_KEYS=[OLD_KEY]):
        sealed = seal("client-secret")
    assert "client-secret" not in sealed
    with override_settings(SSO_ENCRYPTION_KEYS=[NEW_KEY, OLD_KEY]):
        assert unseal(sealed) == "client-secret"
        assert unseal(seal("other")) == "other"
    with (
        override_settings(SSO_ENCRYPTION_KEYS=[NEW_KEY]),
        pytest.raises(SsoError, match="enter the client secret again"),
    ):
        unseal(sealed)


@pytest.mark.parametrize(
    "keys",
    ["", "not-a-fernet-key", "cXVvcnVtLWRldmVsb3BtZW50LW9ubHktc3NvLWtleSE=", f"{SSO_KEY},bad"],
    ids=["missing", "malformed", "the-development-key", "one-bad-among-several"],
)
def test_production_refuses_to_start_without_real_sso_encryption_keys(keys):
    result = run_manage("check", env_extra={**PRODUCTION_SECRETS, "SSO_ENCRYPTION_KEYS": keys})
    assert result.returncode != 0
    assert "SSO_ENCRYPTION_KEYS must be set in production" in result.stderr


def test_production_starts_with_rotated_keys():
    keys = f"{SSO_KEY},{NEW_KEY}"
    result = run_manage("check", env_extra={**PRODUCTION_SECRETS, "SSO_ENCRYPTION_KEYS": keys})
    assert result.returncode == 0, result.stderr
