"""Who belongs to a tenant: joining on a verified address, invitations, join requests, roles,
removals and the sign-up rule."""

from collections.abc import Callable

from allauth.account.forms import default_token_generator
from allauth.account.models import EmailAddress
from allauth.account.utils import user_pk_to_url_str
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from core.counts import forget_count
from core.scoping import in_tenant_scope, tenant_scope

from ..email_domains import domain_of_email, is_consumer_domain, normalise_domain
from ..exceptions import InvalidDomainError, TenancyError
from ..models import JoinRequest, Membership, Removal, Tenant, TenantDomain, User
from ..selectors import (
    account_at,
    covering_domain,
    member_count_key,
    membership_of,
    tenant_for_domain,
)
from ..signals import member_joined, member_removed
from .audit import record_audit
from .rules import change_tenant_rule
from .security import end_sessions


@transaction.atomic
def join_tenant_of_verified_email(*, user: User, email: str) -> Membership | None:
    """Make `user` a member of the tenant of `email`'s domain, now that the address is verified.

    The tenant is the one `tenant_for_domain` finds (a verified parent domain's included); the
    first verified address at a domain nobody holds creates its tenant. Idempotent: a user who
    is already a member stays as they are (their 60-day clock is not restarted). At a managed
    tenant the admins' sign-up rule applies: join (and get a free licence, see `member_joined`),
    wait for approval (a JoinRequest), or be refused; someone an admin removed is not let back
    in, and at a suspended domain nobody joins on their own (they wait for approval). Returns
    the membership, or None when the user does not become a member (consumer or invalid domain,
    approval pending, refused, removed).
    """
    try:
        domain = normalise_domain(email.rpartition("@")[2])
    except InvalidDomainError:
        return None
    if is_consumer_domain(domain):
        return None
    held = _domain_of_new_address(domain)
    tenant = held.tenant
    existing = membership_of(user)
    if existing is not None:
        return existing
    with tenant_scope(tenant):
        if tenant.is_managed:
            if Removal.objects.filter(user=user).exists():
                return None
            if tenant.signup_mode == Tenant.SignupMode.REFUSED:
                return None
            if (
                tenant.signup_mode == Tenant.SignupMode.APPROVAL
                or held.status == TenantDomain.Status.SUSPENDED
            ):
                JoinRequest.objects.get_or_create(user=user, defaults={"tenant": tenant})
                return None
        return _add_member(tenant=tenant, user=user, actor=None)


def _add_member(
    *, tenant: Tenant, user: User, actor: User | None, new_account: bool = False
) -> Membership:
    membership = Membership.objects.create(user=user, tenant=tenant, joined_at=timezone.now())
    forget_count(member_count_key(tenant.pk))
    if tenant.is_managed:
        member_joined.send(
            sender=Membership, tenant=tenant, user=user, actor=actor, new_account=new_account
        )
    return membership


def _domain_of_new_address(domain: str) -> TenantDomain:
    """The tenant domain an address at `domain` belongs to, a new tenant's (primary, not
    proven) when nobody holds it."""
    held = covering_domain(domain)
    if held is not None:
        return held
    # Two first sign-ups at a domain may race; the unique domain lets exactly one insert win.
    try:
        with transaction.atomic():
            tenant = Tenant.objects.create(domain=domain)
            # A new tenant, not in scope yet: its first domain is written for it.
            return TenantDomain.objects.unscoped().create(
                tenant=tenant, domain=domain, is_primary=True
            )
    except IntegrityError:
        held = covering_domain(domain)
        if held is None:  # not the race for this domain after all
            raise
        return held


# The admin centre's actions on people, roles and the sign-up rule of a managed tenant.


def _locked_membership_of(user: User) -> tuple[Membership, list[int]]:
    """The user's membership and the ids of the tenant's admins, every one of those rows locked.

    Always in one order, the admins by id, then the member: two admins demoting or removing
    each other at once then wait for one another instead of deadlocking, and the second sees
    what the first changed."""
    admins = list(
        Membership.objects.filter(role=Membership.Role.ADMIN)
        .select_for_update()
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    membership = Membership.objects.select_for_update().filter(user=user).first()
    if membership is None:
        raise TenancyError(
            _("%(email)s is not a member of your organisation.") % {"email": user.email}
        )
    return membership, admins


def _refuse_losing_the_last_admin(membership: Membership, admins: list[int]) -> None:
    if membership.is_admin and admins == [membership.pk]:
        raise TenancyError(
            _("%(email)s is the last admin: name another admin first.")
            % {"email": membership.user.email}
        )


@in_tenant_scope
@transaction.atomic
def set_member_role(*, tenant: Tenant, actor: User, user: User, role: str) -> Membership:
    """Make a member an admin, or an admin a member again; a managed tenant keeps one admin."""
    if role not in Membership.Role.values:
        raise TenancyError(_("Unknown role."))
    membership, admins = _locked_membership_of(user)
    if membership.role == role:
        return membership
    if role == Membership.Role.MEMBER:
        _refuse_losing_the_last_admin(membership, admins)
    before = membership.role
    membership.role = role
    membership.save(update_fields=["role"])
    record_audit(
        tenant=tenant,
        actor=actor,
        action="member.role_changed",
        target=user.email,
        before={"role": before},
        after={"role": role},
    )
    return membership


@in_tenant_scope
@transaction.atomic
def remove_member(*, tenant: Tenant, actor: User, user: User) -> None:
    """Take a person out of the tenant: their licence is freed (by licensing, on
    `member_removed`), their meetings stay theirs, every session they have is ended, and they
    cannot rejoin on their own."""
    membership, admins = _locked_membership_of(user)
    _refuse_losing_the_last_admin(membership, admins)
    end_sessions(actor=actor, user=user)  # while they are a member: the audit log is the tenant's
    member_removed.send(sender=Membership, tenant=tenant, user=user, actor=actor)
    before = {"role": membership.role, "joined_at": membership.joined_at.isoformat()}
    membership.delete()
    forget_count(member_count_key(tenant.pk))
    Removal.objects.get_or_create(tenant=tenant, user=user, defaults={"removed_by": actor})
    record_audit(
        tenant=tenant, actor=actor, action="member.removed", target=user.email, before=before
    )


@in_tenant_scope
@transaction.atomic
def invite_member(*, tenant: Tenant, actor: User, email: str, name: str, base_url: str) -> User:
    """Add a person by their address at one of the tenant's domains; they get an invitation to set a
    password, and a licence when one is free (`member_joined`). Returns the new member."""
    email = (email or "").strip().lower()
    try:
        validate_email(email)
    except ValidationError as error:
        raise TenancyError(_("Enter a valid e-mail address.")) from error
    domain = domain_of_email(email)  # its refusal says why: too long, or read as another domain
    if tenant_for_domain(domain) != tenant:
        domains = TenantDomain.objects.values_list("domain", flat=True)
        raise TenancyError(
            _("Only addresses at %(domain)s can join your organisation.")
            % {"domain": ", ".join(domains)}
        )
    user = User.objects.filter(email__iexact=email).first()
    if user is not None and membership_of(user) is not None:
        raise TenancyError(_("%(email)s is already a member.") % {"email": email})
    name = name.strip() or email.partition("@")[0]
    proven = (
        user is not None
        and EmailAddress.objects.filter(user=user, email__iexact=email, verified=True).exists()
    )
    if user is None:
        user = User.objects.create_user(email=email, name=name)
    # The admin vouches for the address: the invitation link proves the person reads it, and
    # sets the password (whose new hash also ends every session an old one had).
    _vouch_for(user, email=email, name=name, proven=proven)
    _add_member(tenant=tenant, user=user, actor=actor)
    record_audit(tenant=tenant, actor=actor, action="member.invited", target=email)
    invited = user
    transaction.on_commit(
        lambda: _send_invitation(tenant=tenant, actor=actor, user=invited, base_url=base_url)
    )
    return user


@in_tenant_scope
# No savepoint when nested: its one caller, provisioning, ends its transaction on a refusal.
@transaction.atomic(savepoint=False)
def admit_member(
    *,
    tenant: Tenant,
    actor: User | None,
    email: str,
    name: str,
    before_joining: Callable[[User], None] | None = None,
) -> User:
    """Make the person at `email` a member on the tenant's word (its identity provider
    provisioning them): the account at that address, or a new one, gets the address verified and
    primary, and a licence when one is free (`member_joined`). A member of the tenant is returned
    as they are. The caller checks that the address is at one of the tenant's domains.

    `before_joining(account)` writes the caller's own rows for the account before it joins: the
    licence, looked for last, locks the tenant's subscription until the transaction ends, and
    the less is written under that lock, the more people an identity provider admits at once.

    As for an invitation (`invite_member`), an account whose owner never proved the address
    keeps no password or name it came with: its owner sets a password through a reset link."""
    email = email.strip().lower()
    user = account_at(email)
    if user is not None and (existing := membership_of(user)) is not None:
        if existing.tenant_id != tenant.pk:
            raise TenancyError(_("%(email)s belongs to another organisation.") % {"email": email})
        if before_joining is not None:
            before_joining(user)
        return user
    new_account = user is None
    if user is None:  # a new account has no password (create_user without one) and no past
        user = User.objects.create_user(email=email, name=name)
        EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
    else:
        proven = EmailAddress.objects.filter(user=user, email__iexact=email, verified=True).exists()
        _vouch_for(user, email=email, name=name, proven=proven)
    if before_joining is not None:
        before_joining(user)
    _add_member(tenant=tenant, user=user, actor=actor, new_account=new_account)
    return user


def _vouch_for(user: User, *, email: str, name: str, proven: bool) -> None:
    """The tenant vouches for `email` as the account's verified, primary address, and nothing
    keeps the account out any more (a join request, a removal). Unless its owner had `proven`
    the address, the account keeps no password or name it came with: whoever made it never
    proved the mailbox (account pre-hijacking); its owner sets a password through a reset link."""
    if not proven:
        user.name = name
        user.set_unusable_password()
        user.save(update_fields=["name", "password"])
    EmailAddress.objects.update_or_create(
        user=user, email=email, defaults={"verified": True, "primary": True}
    )
    JoinRequest.objects.filter(user=user).delete()
    Removal.objects.filter(user=user).delete()


def _send_invitation(*, tenant: Tenant, actor: User, user: User, base_url: str) -> None:
    path = reverse(
        "account_reset_password_from_key",
        kwargs={
            "uidb36": user_pk_to_url_str(user),
            "key": default_token_generator.make_token(user),
        },
    )
    context = {"tenant": tenant, "admin": actor, "user": user, "link": base_url.rstrip("/") + path}
    subject = render_to_string("tenancy/email/invitation_subject.txt", context).strip()
    body = render_to_string("tenancy/email/invitation_message.txt", context)
    EmailMessage(subject=subject, body=body, to=[user.email]).send()


@in_tenant_scope
@transaction.atomic
def decide_join_request(*, tenant: Tenant, actor: User, user: User, approve: bool) -> None:
    """An admin lets a waiting sign-up in (a member, with a licence when one is free) or not."""
    request = JoinRequest.objects.select_for_update().filter(user=user).first()
    if request is None:
        raise TenancyError(_("%(email)s is not waiting to join.") % {"email": user.email})
    request.delete()
    if approve:
        _add_member(tenant=tenant, user=user, actor=actor)
    record_audit(
        tenant=tenant,
        actor=actor,
        action="member.approved" if approve else "member.declined",
        target=user.email,
    )


@in_tenant_scope
@transaction.atomic
def set_signup_mode(*, tenant: Tenant, actor: User, mode: str) -> Tenant:
    """What happens to new sign-ups at the domain: join (licence if free), approval, refused."""
    if mode not in Tenant.SignupMode.values:
        raise TenancyError(_("Choose one of the sign-up rules offered."))
    return change_tenant_rule(
        tenant=tenant,
        actor=actor,
        field="signup_mode",
        value=mode,
        action="tenant.signup_mode_changed",
    )
