"""Provisioning tokens: an admin makes one for the identity provider, sees it once, revokes it."""

import secrets
from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.scoping import in_tenant_scope
from core.tokens import new_token
from tenancy.models import Tenant, User
from tenancy.services.audit import record_audit

from ..exceptions import ProvisioningError
from ..models import ProvisioningToken
from ..selectors import TOKEN_SEPARATOR

KEY_BYTES = 9
# Writing the last use on every request would add a write to each of an identity provider's
# thousands of calls: a minute's precision is what the admin centre shows anyway.
LAST_USE_PRECISION = timedelta(minutes=1)


@in_tenant_scope
@transaction.atomic
def create_token(*, tenant: Tenant, actor: User, name: str) -> tuple[ProvisioningToken, str]:
    """Make a named provisioning token; returns it and the one time its value is shown
    (`<key>.<secret>`: only a digest of the secret is kept)."""
    name = " ".join(name.split())
    if not name:
        raise ProvisioningError(_("Give the token a name, such as the identity provider's."))
    if len(name) > ProvisioningToken.NAME_MAX_LENGTH:
        raise ProvisioningError(
            _("A token's name has at most %(max)d characters.")
            % {"max": ProvisioningToken.NAME_MAX_LENGTH}
        )
    if not tenant.is_managed:
        raise ProvisioningError(_("Only a managed organisation can provision its people."))
    key, secret = secrets.token_urlsafe(KEY_BYTES), new_token()
    token = ProvisioningToken.objects.create(
        tenant=tenant,
        name=name,
        key=key,
        secret_hash=ProvisioningToken.digest(secret),
        created_by=actor,
    )
    record_audit(tenant=tenant, actor=actor, action="provisioning.token_created", target=name)
    return token, f"{key}{TOKEN_SEPARATOR}{secret}"


@in_tenant_scope
@transaction.atomic
def revoke_token(*, tenant: Tenant, actor: User, token: ProvisioningToken) -> ProvisioningToken:
    """Stop a token from working, at once and for good (its identity provider then gets 401)."""
    token = ProvisioningToken.objects.select_for_update().get(pk=token.pk)
    if token.is_revoked:
        return token
    token.revoked_at = timezone.now()
    token.save(update_fields=["revoked_at"])
    record_audit(tenant=tenant, actor=actor, action="provisioning.token_revoked", target=token.name)
    return token


def note_token_use(*, token: ProvisioningToken) -> None:
    """Keep when the token was last used, to the minute."""
    now = timezone.now()
    if token.last_used_at is not None and now - token.last_used_at < LAST_USE_PRECISION:
        return
    token.last_used_at = now
    # Unscoped: a single-row update by primary key, made before the request's scope opens.
    ProvisioningToken.objects.unscoped().filter(pk=token.pk).update(last_used_at=now)
