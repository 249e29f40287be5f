"""Unguessable tokens for links and DNS records (meeting links, domain-claim codes)."""

import secrets

TOKEN_BYTES = 32


def new_token() -> str:
    """43 URL-safe characters carrying 256 random bits."""
    return secrets.token_urlsafe(TOKEN_BYTES)
