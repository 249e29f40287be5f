"""Sealing the identity providers' secrets at rest with the keys of settings.SSO_ENCRYPTION_KEYS.

Fernet (AES-128-CBC with HMAC-SHA256, from `cryptography`): the first key seals, every key
opens, so a key is rotated by putting the new one first and re-saving the connections."""

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.utils.translation import gettext as _

from .exceptions import SsoError


def _fernet() -> MultiFernet:
    return MultiFernet([Fernet(key) for key in settings.SSO_ENCRYPTION_KEYS])


def seal(secret: str) -> str:
    """The secret as a Fernet token: what the database stores."""
    return _fernet().encrypt(secret.encode()).decode("ascii")


def unseal(token: str) -> str:
    """The secret a token sealed; refused when no configured key opens it."""
    try:
        return _fernet().decrypt(token.encode("ascii")).decode()
    except InvalidToken as error:
        raise SsoError(
            _(
                "The stored client secret cannot be read with the current encryption keys: "
                "enter the client secret again."
            )
        ) from error
