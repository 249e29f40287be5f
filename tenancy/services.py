"""Writes of tenancy: each function is one business action, atomic, raising TenancyError."""

from allauth.account.forms import default_token_generator
from allauth.account.models import EmailAddress
from allauth.account.utils import user_pk_to_url_str
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage, mailers
from django.core.validators import validate_email
from django.db import IntegrityError, connection, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from core.counts import forget_count

from .email_domains import domain_of_email, is_consumer_domain, normalise_domain
from .exceptions import InvalidDomainError, TenancyError
from .models import (
    Announcement,
    AnnouncementDelivery,
    AuditEvent,
    JoinRequest,
    Membership,
    Policy,
    Removal,
    Tenant,
)
from .selectors import member_count_key
from .signals import member_joined, member_removed


@transaction.atomic
def join_tenant_of_verified_email(*, user, email):
    """Make `user` a member of the tenant of `email`'s domain, now that the address is verified.

    Creates the tenant on the first verified address at a domain. Idempotent: a user who is
    already a member stays as they are (their 60-day clock is not restarted). At a managed
    tenant the admins' sign-up rule applies: join (and get a free licence, see `member_joined`),
    wait for approval (a JoinRequest), or be refused; someone an admin removed is not let back
    in. Returns the membership, or None when the user does not become a member (consumer or
    invalid domain, approval pending, refused, removed).
    """
    try:
        domain = normalise_domain(email.rpartition("@")[2])
    except InvalidDomainError:
        return None
    if is_consumer_domain(domain):
        return None
    tenant = _get_or_create_tenant(domain)
    existing = Membership.objects.filter(user=user).first()
    if existing is not None:
        return existing
    if tenant.is_managed:
        if Removal.objects.for_tenant(tenant).filter(user=user).exists():
            return None
        if tenant.signup_mode == Tenant.SignupMode.REFUSED:
            return None
        if tenant.signup_mode == Tenant.SignupMode.APPROVAL:
            JoinRequest.objects.get_or_create(user=user, defaults={"tenant": tenant})
            return None
    return _add_member(tenant=tenant, user=user, actor=None)


def _add_member(*, tenant, user, actor):
    membership = Membership.objects.create(user=user, tenant=tenant, joined_at=timezone.now())
    forget_count(member_count_key(tenant.pk))
    if tenant.is_managed:
        member_joined.send(sender=Membership, tenant=tenant, user=user, actor=actor)
    return membership


def _get_or_create_tenant(domain):
    # Two first sign-ups at a domain may race; the unique domain lets exactly one insert win.
    try:
        with transaction.atomic():
            return Tenant.objects.get_or_create(domain=domain)[0]
    except IntegrityError:
        return Tenant.objects.get(domain=domain)


def record_audit(*, tenant, actor, action, target="", before=None, after=None):
    """Append one event to the tenant's audit log (call it inside the action's transaction)."""
    return AuditEvent.objects.create(
        tenant=tenant,
        actor=actor,
        action=action,
        target=str(target)[:255],
        before=before or {},
        after=after or {},
    )


# The admin centre's actions on people, roles, rules and announcements of a managed tenant.


def _membership_of(tenant, user, *, lock=False):
    memberships = Membership.objects.for_tenant(tenant)
    if lock:
        memberships = memberships.select_for_update()
    membership = memberships.filter(user=user).first()
    if membership is None:
        raise TenancyError(
            _("%(email)s is not a member of your organisation.") % {"email": user.email}
        )
    return membership


def _refuse_losing_the_last_admin(tenant, membership):
    # Locking every admin row makes two admins demoting each other at once wait for one
    # another: one of them stays.
    admins = list(
        Membership.objects.for_tenant(tenant)
        .filter(role=Membership.Role.ADMIN)
        .select_for_update()
        .values_list("pk", flat=True)
    )
    if membership.is_admin and admins == [membership.pk]:
        raise TenancyError(
            _("%(email)s is the last admin: name another admin first.")
            % {"email": membership.user.email}
        )


@transaction.atomic
def set_member_role(*, tenant, actor, user, role):
    """Make a member an admin, or an admin a member again; a managed tenant keeps one admin."""
    if role not in Membership.Role.values:
        raise TenancyError(_("Unknown role."))
    membership = _membership_of(tenant, user, lock=True)
    if membership.role == role:
        return membership
    if role == Membership.Role.MEMBER:
        _refuse_losing_the_last_admin(tenant, membership)
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


@transaction.atomic
def remove_member(*, tenant, actor, user):
    """Take a person out of the tenant: their licence is freed (by licensing, on
    `member_removed`), their meetings stay theirs, and they cannot rejoin on their own."""
    membership = _membership_of(tenant, user, lock=True)
    _refuse_losing_the_last_admin(tenant, membership)
    member_removed.send(sender=Membership, tenant=tenant, user=user, actor=actor)
    before = {"role": membership.role, "joined_at": membership.joined_at.isoformat()}
    membership.delete()
    forget_count(member_count_key(tenant.pk))
    Removal.objects.get_or_create(tenant=tenant, user=user, defaults={"removed_by": actor})
    record_audit(
        tenant=tenant, actor=actor, action="member.removed", target=user.email, before=before
    )


@transaction.atomic
def invite_member(*, tenant, actor, email, name, base_url):
    """Add a person by their address at the tenant's domain; they get an invitation to set a
    password, and a licence when one is free (`member_joined`). Returns the new member."""
    email = (email or "").strip().lower()
    try:
        validate_email(email)
    except ValidationError as error:
        raise TenancyError(_("Enter a valid e-mail address.")) from error
    domain = domain_of_email(email)  # its refusal says why: too long, or read as another domain
    if domain != tenant.domain:
        raise TenancyError(
            _("Only addresses at %(domain)s can join your organisation.")
            % {"domain": tenant.domain}
        )
    User = get_user_model()
    user = User.objects.filter(email__iexact=email).first()
    if user is not None and Membership.objects.filter(user=user).exists():
        raise TenancyError(_("%(email)s is already a member.") % {"email": email})
    if user is None:
        user = User.objects.create_user(email=email, name=name or email.partition("@")[0])
        user.set_unusable_password()
        user.save(update_fields=["password"])
    # The admin vouches for the address: the invitation link proves the person reads it.
    EmailAddress.objects.update_or_create(
        user=user, email=email, defaults={"verified": True, "primary": True}
    )
    JoinRequest.objects.filter(user=user).delete()
    Removal.objects.for_tenant(tenant).filter(user=user).delete()
    _add_member(tenant=tenant, user=user, actor=actor)
    record_audit(tenant=tenant, actor=actor, action="member.invited", target=email)
    transaction.on_commit(
        lambda: _send_invitation(tenant=tenant, actor=actor, user=user, base_url=base_url)
    )
    return user


def _send_invitation(*, tenant, actor, user, base_url):
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


@transaction.atomic
def decide_join_request(*, tenant, actor, user, approve):
    """An admin lets a waiting sign-up in (a member, with a licence when one is free) or not."""
    request = JoinRequest.objects.for_tenant(tenant).select_for_update().filter(user=user).first()
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


@transaction.atomic
def set_signup_mode(*, tenant, actor, mode):
    """What happens to new sign-ups at the domain: join (licence if free), approval, refused."""
    if mode not in Tenant.SignupMode.values:
        raise TenancyError(_("Choose one of the sign-up rules offered."))
    tenant = Tenant.objects.select_for_update().get(pk=tenant.pk)
    before = tenant.signup_mode
    if before == mode:
        return tenant
    tenant.signup_mode = mode
    tenant.save(update_fields=["signup_mode"])
    record_audit(
        tenant=tenant,
        actor=actor,
        action="tenant.signup_mode_changed",
        target=tenant.domain,
        before={"signup_mode": before},
        after={"signup_mode": mode},
    )
    return tenant


POLICY_FIELDS = ("max_meeting_size", "lobby_bypass", "recording_allowed", "anonymous_join_allowed")


@transaction.atomic
def set_policy(*, tenant, actor, max_cap, values):
    """Fix (or free, with an empty value) the rules every member's meetings follow from now on.

    `values` holds the POLICY_FIELDS; the meeting size cannot exceed the plan's `max_cap`."""
    unknown = set(values) - set(POLICY_FIELDS)
    if unknown:
        raise TenancyError(_("Unknown policy."))
    size = values.get("max_meeting_size")
    if size is not None and not 2 <= size <= max_cap:
        raise TenancyError(
            _("The meeting size must be between 2 and %(max)d, your plan's limit.")
            % {"max": max_cap}
        )
    if values.get("lobby_bypass") not in ("", None, *Policy.LobbyBypass.values):
        raise TenancyError(_("Unknown lobby rule."))
    policy, _created = Policy.objects.select_for_update().get_or_create(tenant=tenant)
    before = {field: getattr(policy, field) for field in POLICY_FIELDS}
    for field, value in values.items():
        setattr(policy, field, "" if field == "lobby_bypass" and value is None else value)
    policy.save()
    after = {field: getattr(policy, field) for field in POLICY_FIELDS}
    if before != after:
        record_audit(
            tenant=tenant,
            actor=actor,
            action="policy.changed",
            target=tenant.domain,
            before=before,
            after=after,
        )
    return policy


@transaction.atomic
def create_announcement(*, tenant, actor, subject, body, user_ids=None):
    """Write an announcement and its list of recipients: every member, or those of `user_ids`
    who are members. Celery sends it (see `send_announcement_batch`)."""
    subject, body = (subject or "").strip(), (body or "").strip()
    if not subject or not body:
        raise TenancyError(_("An announcement needs a subject and a message."))
    if len(subject) > 200 or len(body) > 10_000:
        raise TenancyError(_("The subject or the message is too long."))
    recipients = Membership.objects.for_tenant(tenant)
    if user_ids is not None:
        recipients = recipients.filter(user_id__in=user_ids)
    announcement = Announcement.objects.create(
        tenant=tenant, author=actor, subject=subject, body=body
    )
    # INSERT ... SELECT: 100,000 recipients are written by the database, not built in Python.
    members, params = recipients.values("user_id").query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {AnnouncementDelivery._meta.db_table} (announcement_id, user_id) "  # noqa: S608 (table name from model metadata)
            f"SELECT %s, user_id FROM ({members}) AS recipients",
            [announcement.pk, *params],
        )
        created = cursor.rowcount
    if not created:
        raise TenancyError(_("Choose at least one member."))
    record_audit(
        tenant=tenant,
        actor=actor,
        action="announcement.sent",
        target=subject,
        after={"recipients": created},
    )
    return announcement


def send_announcement_batch(*, announcement_id, batch_size):
    """Mail up to `batch_size` recipients who were not mailed yet; returns how many remain.

    Each mail is sent and its delivery marked sent in one transaction that holds the delivery's
    row lock, so a retried or concurrent task skips it. Only a worker killed between the SMTP
    server accepting a mail and that commit (milliseconds) could send it again; the mail's
    Message-ID is the same on every try, so mail servers can drop such a duplicate."""
    announcement = Announcement.objects.select_related("tenant", "author").get(pk=announcement_id)
    with mailers.default as connection:
        for _index in range(batch_size):
            with transaction.atomic():
                delivery = (
                    AnnouncementDelivery.objects.select_for_update(skip_locked=True, of=("self",))
                    .filter(announcement=announcement, sent_at__isnull=True)
                    .select_related("user")
                    .order_by("pk")
                    .first()
                )
                if delivery is None:
                    break
                connection.send_messages([_announcement_mail(announcement, delivery)])
                delivery.sent_at = timezone.now()
                delivery.save(update_fields=["sent_at"])
    remaining = announcement.deliveries.filter(sent_at__isnull=True).count()
    if remaining == 0 and announcement.finished_at is None:
        Announcement.objects.filter(pk=announcement.pk, finished_at__isnull=True).update(
            finished_at=timezone.now()
        )
    return remaining


def _announcement_mail(announcement, delivery):
    tenant_domain = announcement.tenant.domain
    return EmailMessage(
        subject=announcement.subject,
        body=announcement.body,
        to=[delivery.user.email],
        headers={
            "Message-ID": f"<announcement-{announcement.pk}-{delivery.user_id}@{tenant_domain}>"
        },
    )
