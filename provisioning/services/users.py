"""The people a tenant's identity provider provisions: created or linked as verified members with
a licence when one is free, updated, deactivated (licence freed, sessions ended, meetings and
settings kept) and reactivated. Every change is audited with the token's name as its actor."""

from dataclasses import dataclass, field
from typing import Any

from allauth.account.models import EmailAddress
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.scoping import in_scope_of
from licensing.services.seats import free_licence, licence_or_wait
from tenancy.email_domains import normalise_domain
from tenancy.exceptions import InvalidDomainError, TenancyError
from tenancy.models import Membership, User
from tenancy.selectors import account_at, proven_domains_of, proves_domain
from tenancy.services.audit import acting_as, audit_batch, record_audit
from tenancy.services.membership import admit_member
from tenancy.services.security import end_every_session

from ..exceptions import AddressTakenError, ProvisioningError
from ..models import ProvisionedEmail, ProvisionedUser, ProvisioningToken


@dataclass(frozen=True)
class Email:
    value: str
    type: str = ""
    primary: bool = False


@dataclass(frozen=True)
class Profile:
    """What the identity provider says about a person, in Quorum's words."""

    address: str  # SCIM userName: the address they sign in with
    name: str
    active: bool | None = None  # None: not said (a new person is active; others stay as they are)
    external_id: str = ""
    emails: tuple[Email, ...] = ()
    # The rest of the resource, kept as sent and given back on every read.
    attributes: dict[str, Any] = field(default_factory=dict)


@in_scope_of("token")
# No savepoint of its own inside the SCIM request's transaction: a refusal ends that whole
# transaction anyway (two statements fewer for each of an identity provider's thousands).
@transaction.atomic(savepoint=False)
def provision_user(*, token: ProvisioningToken, profile: Profile) -> ProvisionedUser:
    """Make the person a verified member of the token's tenant, with a licence when one is
    free (else they wait for one): a new account, or the existing account at the address,
    linked and never duplicated."""
    tenant = token.tenant
    address = _address_at_verified_domain(token, profile.address)
    _check_lengths(profile)
    linked: list[ProvisionedUser] = []

    def link(user: User) -> None:
        # Written before the account joins, so the licence (and its lock) comes last.
        if user.name != profile.name:
            user.name = profile.name
            user.save(update_fields=["name"])
        try:
            resource = ProvisionedUser.objects.create(
                tenant=tenant,
                user=user,
                external_id=profile.external_id,
                attributes=profile.attributes,
            )
        except IntegrityError as error:
            # The account was provisioned before (one resource per account): the transaction
            # ends here, undoing the lines above.
            raise AddressTakenError(
                _("%(address)s is already provisioned.") % {"address": address}
            ) from error
        _keep_emails(resource, profile.emails, replacing=False)
        linked.append(resource)

    with acting_as(token.name), audit_batch():
        try:
            user = admit_member(
                tenant=tenant, actor=None, email=address, name=profile.name, before_joining=link
            )
        except TenancyError as error:
            raise AddressTakenError(error.message) from error
        (resource,) = linked
        record_audit(
            tenant=tenant,
            actor=None,
            action="provisioning.user_provisioned",
            target=address,
            after={"name": profile.name, "external_id": profile.external_id},
        )
        if profile.active is False:
            deactivate_user(token=token, resource=resource)
        elif not user.is_active:
            reactivate_user(token=token, resource=resource)
    return resource


@in_scope_of("token")
@transaction.atomic
def update_provisioned_user(
    *, token: ProvisioningToken, resource: ProvisionedUser, profile: Profile
) -> ProvisionedUser:
    """Apply what the identity provider now says about a provisioned person: their address (at
    a verified domain, not another account's), name, external id, other attributes, and whether
    they are active."""
    tenant = token.tenant
    resource = (
        ProvisionedUser.objects.select_for_update().select_related("user").get(pk=resource.pk)
    )
    user = resource.user
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    address = _address_at_verified_domain(token, profile.address)
    _check_lengths(profile)
    with acting_as(token.name):
        if address != user.email:
            _change_address(user, address)
            before["address"], after["address"] = user.email, address
        if profile.name != user.name:
            before["name"], after["name"] = user.name, profile.name
        if profile.external_id != resource.external_id:
            before["external_id"], after["external_id"] = resource.external_id, profile.external_id
        changed = sorted(
            key
            for key in resource.attributes.keys() | profile.attributes.keys()
            if key != "active" and resource.attributes.get(key) != profile.attributes.get(key)
        )
        if changed:
            after["attributes"] = changed
        user.email, user.name = address, profile.name
        user.save(update_fields=["email", "name"])
        resource.external_id = profile.external_id
        resource.attributes = profile.attributes
        resource.version += 1
        resource.updated_at = timezone.now()
        resource.save()
        _keep_emails(resource, profile.emails)
        if after:
            record_audit(
                tenant=tenant,
                actor=None,
                action="provisioning.user_updated",
                target=address,
                before=before,
                after=after,
            )
        if profile.active is True and not user.is_active:
            reactivate_user(token=token, resource=resource)
        elif profile.active is False and user.is_active:
            deactivate_user(token=token, resource=resource)
    return resource


@in_scope_of("token")
@transaction.atomic
def deactivate_user(*, token: ProvisioningToken, resource: ProvisionedUser) -> None:
    """The person can no longer sign in: their licence is freed and their sessions end; they stay
    a member, and their meetings and settings are kept for a reactivation. The last active
    admin is not deactivated: the organisation would have nobody left to run it."""
    tenant, user = token.tenant, resource.user
    if not user.is_active:
        return
    with acting_as(token.name):
        membership = Membership.objects.filter(user=user).first()  # an admin may have removed them
        other_admins = Membership.objects.filter(
            role=Membership.Role.ADMIN, user__is_active=True
        ).exclude(user=user)
        if membership is not None and membership.is_admin and not other_admins.exists():
            raise ProvisioningError(
                _(
                    "%(address)s is the last admin of your organisation: name another admin in "
                    "Quorum's admin centre before deactivating them."
                )
                % {"address": user.email}
            )
        free_licence(tenant=tenant, actor=None, user=user)
        user.is_active = False
        user.save(update_fields=["is_active"])
        end_every_session(user=user)
        record_audit(
            tenant=tenant,
            actor=None,
            action="provisioning.user_deactivated",
            target=user.email,
            before={"active": True},
            after={"active": False},
        )


@in_scope_of("token")
@transaction.atomic
def reactivate_user(*, token: ProvisioningToken, resource: ProvisionedUser) -> None:
    """The person signs in again with their own password, meetings and settings, and gets a
    licence when one is free (else they wait for one)."""
    tenant, user = token.tenant, resource.user
    if user.is_active:
        return
    with acting_as(token.name):
        user.is_active = True
        user.save(update_fields=["is_active"])
        if not Membership.objects.filter(user=user).exists():  # an admin removed them meanwhile
            admit_member(tenant=tenant, actor=None, email=user.email, name=user.name)
        record_audit(
            tenant=tenant,
            actor=None,
            action="provisioning.user_reactivated",
            target=user.email,
            before={"active": False},
            after={"active": True},
        )
        # No seat free: they wait for one, as the admin centre shows.
        licence_or_wait(tenant=tenant, actor=None, user=user)


@in_scope_of("token")
@transaction.atomic
def deprovision_user(*, token: ProvisioningToken, resource: ProvisionedUser) -> None:
    """The identity provider deletes the person: they are deactivated (their account, meetings
    and settings are kept) and the identity provider no longer sees them. Provisioning the same
    address again links the same account."""
    deactivate_user(token=token, resource=resource)
    with acting_as(token.name):
        address = resource.user.email
        resource.delete()
        record_audit(
            tenant=token.tenant, actor=None, action="provisioning.user_deleted", target=address
        )


def _address_at_verified_domain(token: ProvisioningToken, address: str) -> str:
    tenant = token.tenant
    address = address.strip().lower()
    try:
        validate_email(address)
        domain = normalise_domain(address.rpartition("@")[2])
    except (ValidationError, InvalidDomainError):
        domain = None
    # One of the tenant's own trusted domains is covered by nobody else's (the domain itself
    # is what covers an address at it); a subdomain's is asked.
    if domain is None or not (domain in token.trusted_domains or proves_domain(tenant, domain)):
        raise ProvisioningError(
            _(
                "userName must be an e-mail address at a verified domain of your organisation "
                "(%(domains)s); %(address)s is not."
            )
            % {"domains": ", ".join(proven_domains_of(tenant)), "address": address}
        )
    return address


def _check_lengths(profile: Profile) -> None:
    name_max = User._meta.get_field("name").max_length or 0
    external_id_max = ProvisionedUser._meta.get_field("external_id").max_length or 0
    if len(profile.name) > name_max:
        raise ProvisioningError(_("A name has at most %(max)d characters.") % {"max": name_max})
    if len(profile.external_id) > external_id_max:
        raise ProvisioningError(
            _("externalId has at most %(max)d characters.") % {"max": external_id_max}
        )
    type_max = ProvisionedEmail._meta.get_field("type").max_length or 0
    if any(len(email.type) > type_max for email in profile.emails):
        raise ProvisioningError(
            _("An e-mail's type has at most %(max)d characters.") % {"max": type_max}
        )


def _change_address(user: User, address: str) -> None:
    """The identity provider renamed the person: they sign in with the new address from now on."""
    if (account := account_at(address)) is not None and account != user:
        raise AddressTakenError(_("%(address)s belongs to another account.") % {"address": address})
    # The tenant vouches for the new address at its own domain, as it did for the first one.
    EmailAddress.objects.filter(user=user).delete()
    EmailAddress.objects.create(user=user, email=address, verified=True, primary=True)


def _keep_emails(
    resource: ProvisionedUser, emails: tuple[Email, ...], *, replacing: bool = True
) -> None:
    if replacing:
        resource.emails.all().delete()
    ProvisionedEmail.objects.bulk_create(
        ProvisionedEmail(
            tenant_id=resource.tenant_id,
            resource=resource,
            value=email.value.strip().lower(),
            type=email.type,
            primary=email.primary,
        )
        for email in emails
    )
