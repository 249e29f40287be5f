"""The audit log read as sentences: "Rob Martin changed the sign-up rule from Open to Refused."

Every action code any app records (`record_audit`, in tenancy, domains, licensing, provisioning,
sso and here) has its sentence in SENTENCES; tests/portal/test_audit_sentences.py finds the
codes in the source and fails on one without a sentence. The admin centre composes the apps, so
the sentences live here, where each app's words (plans, roles, policies) may be read."""

from collections.abc import Callable, Mapping
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from licensing.models import SubscriptionStatus
from licensing.plans import NAMES as PLAN_NAMES
from licensing.services.webhooks import HANDLED_EVENTS
from tenancy.models import AuditEvent, Membership, Policy, Tenant

from .models import SupportRequest

# Short names of the sign-up rules, for a sentence (their choices are whole phrases).
SIGNUP_RULES: dict[str, Promise] = {
    Tenant.SignupMode.LICENCE_IF_FREE: gettext_lazy("Open"),
    Tenant.SignupMode.APPROVAL: gettext_lazy("Approval by an admin"),
    Tenant.SignupMode.REFUSED: gettext_lazy("Refused"),
}
# What each Stripe event the webhooks apply did, as the log says it (`billing.<event type>`).
BILLING_EVENTS: dict[str, Promise] = {
    "customer.subscription.updated": gettext_lazy("Stripe updated the subscription"),
    "customer.subscription.deleted": gettext_lazy("Stripe ended the subscription"),
    "invoice.paid": gettext_lazy("Stripe recorded an invoice as paid"),
    "invoice.payment_succeeded": gettext_lazy("Stripe recorded an invoice as paid"),
    "invoice.payment_failed": gettext_lazy("Stripe could not collect an invoice's payment"),
}
Details = Mapping[str, Any]
Sentence = Callable[[str, str, Details, Details], str]


def _role(value: object) -> str:
    return str(dict(Membership.Role.choices).get(str(value), value))


def _plan(value: object) -> str:
    return str(PLAN_NAMES.get(str(value), value))


def _status(value: object) -> str:
    known = str(value) in SubscriptionStatus.values
    return str(SubscriptionStatus(str(value)).label) if known else str(value)


def _support_status(value: object) -> str:
    return str(dict(SupportRequest.Status.choices).get(str(value), value))


def _policy_fields(before: Details, after: Details) -> str:
    changed = sorted(key for key in after if before.get(key) != after.get(key))
    labels = {field.name: field.verbose_name for field in Policy._meta.fields}
    return ", ".join(str(labels.get(key, key)) for key in changed)


def _count(details: Details) -> int:
    return int(details.get("count") or 0)


def _billing(event_type: str) -> Sentence:
    def sentence(actor: str, target: str, before: Details, after: Details) -> str:
        return _("%(what)s. Status: %(status)s; licences: %(quantity)s.") % {
            "what": BILLING_EVENTS[event_type],
            "status": _status(after.get("status")),
            "quantity": after.get("quantity"),
        }

    return sentence


SENTENCES: dict[str, Sentence] = {
    # tenancy: members, rules, policies, announcements, sign-ins
    "announcement.sent": lambda a, t, b, f: (
        ngettext(
            "%(actor)s sent the announcement “%(target)s” to %(count)s member.",
            "%(actor)s sent the announcement “%(target)s” to %(count)s members.",
            int(f.get("recipients") or 0),
        )
        % {"actor": a, "target": t, "count": f.get("recipients")}
    ),
    "tenant.signup_mode_changed": lambda a, t, b, f: (
        _("%(actor)s changed the sign-up rule from %(before)s to %(after)s.")
        % {
            "actor": a,
            "before": SIGNUP_RULES.get(b.get("signup_mode", ""), b.get("signup_mode")),
            "after": SIGNUP_RULES.get(f.get("signup_mode", ""), f.get("signup_mode")),
        }
    ),
    "tenant.two_factor_rule_changed": lambda a, t, b, f: (
        (
            _("%(actor)s required two-factor authentication for every member.")
            if f.get("two_factor_required")
            else _("%(actor)s made two-factor authentication optional for members.")
        )
        % {"actor": a}
    ),
    "tenant.upgraded": lambda a, t, b, f: (
        _(
            "%(actor)s upgraded %(target)s to %(plan)s with %(licences)s licences "
            "and became its admin."
        )
        % {"actor": a, "target": t, "plan": _plan(f.get("plan")), "licences": f.get("licences")}
    ),
    "policy.changed": lambda a, t, b, f: (
        _("%(actor)s changed the meeting policies: %(fields)s.")
        % {"actor": a, "fields": _policy_fields(b, f)}
    ),
    "member.invited": lambda a, t, b, f: (
        _("%(actor)s invited %(target)s.") % {"actor": a, "target": t}
    ),
    "member.approved": lambda a, t, b, f: (
        _("%(actor)s let %(target)s join the organisation.") % {"actor": a, "target": t}
    ),
    "member.declined": lambda a, t, b, f: (
        _("%(actor)s declined %(target)s's request to join the organisation.")
        % {"actor": a, "target": t}
    ),
    "member.removed": lambda a, t, b, f: (
        _("%(actor)s removed %(target)s from the organisation.") % {"actor": a, "target": t}
    ),
    "member.role_changed": lambda a, t, b, f: (
        _("%(actor)s changed the role of %(target)s from %(before)s to %(after)s.")
        % {"actor": a, "target": t, "before": _role(b.get("role")), "after": _role(f.get("role"))}
    ),
    "member.password_reset_sent": lambda a, t, b, f: (
        _("%(actor)s sent %(target)s a link to choose a new password.") % {"actor": a, "target": t}
    ),
    "member.signed_out_everywhere": lambda a, t, b, f: (
        ngettext(
            "%(actor)s signed %(target)s out everywhere (%(count)s session ended).",
            "%(actor)s signed %(target)s out everywhere (%(count)s sessions ended).",
            _count(f),
        )
        % {"actor": a, "target": t, "count": _count(f)}
    ),
    "user.sessions_ended": lambda a, t, b, f: (
        ngettext(
            "%(actor)s ended %(count)s session of %(target)s.",
            "%(actor)s ended %(count)s sessions of %(target)s.",
            _count(f),
        )
        % {"actor": a, "target": t, "count": _count(f)}
    ),
    "user.signed_in": lambda a, t, b, f: (
        _("%(actor)s signed in (from %(ip)s).") % {"actor": a, "ip": f.get("ip") or "?"}
    ),
    "user.sign_in_failed": lambda a, t, b, f: (
        _("Someone failed to sign in as %(target)s (from %(ip)s).")
        % {"target": t, "ip": f.get("ip") or "?"}
    ),
    "user.second_factor_refused": lambda a, t, b, f: (
        _("%(target)s typed a wrong second-factor code (from %(ip)s).")
        % {"target": t, "ip": f.get("ip") or "?"}
    ),
    "user.second_factor_added": lambda a, t, b, f: (
        _("%(target)s added a second factor (%(name)s).")
        % {"target": t, "name": f.get("name") or f.get("type")}
    ),
    "user.second_factor_removed": lambda a, t, b, f: (
        _("%(target)s removed a second factor (%(name)s).")
        % {"target": t, "name": f.get("name") or f.get("type")}
    ),
    "user.recovery_codes_regenerated": lambda a, t, b, f: (
        _("%(target)s made new recovery codes.") % {"target": t}
    ),
    "user.recovery_code_used": lambda a, t, b, f: (
        ngettext(
            "%(target)s signed in with a recovery code (%(left)s left).",
            "%(target)s signed in with a recovery code (%(left)s left).",
            int(f.get("left") or 0),
        )
        % {"target": t, "left": f.get("left")}
    ),
    # domains
    "domain_claim.started": lambda a, t, b, f: (
        _("%(actor)s started proving that the organisation owns %(target)s.")
        % {"actor": a, "target": t}
    ),
    "domain_claim.verified": lambda a, t, b, f: (
        _("The DNS record proved %(target)s is yours.") % {"target": t}
    ),
    "domain_claim.expired": lambda a, t, b, f: (
        _("The proof of %(target)s expired: no DNS record was found in time.") % {"target": t}
    ),
    "domain_claim.used": lambda a, t, b, f: (
        _("The proof of %(target)s was used to upgrade the organisation.") % {"target": t}
    ),
    # licensing
    "licences.quantity_changed": lambda a, t, b, f: (
        _("%(actor)s changed the number of licences from %(before)s to %(after)s.")
        % {"actor": a, "before": b.get("quantity"), "after": f.get("quantity")}
    ),
    "licences.assigned": lambda a, t, b, f: (
        _("%(actor)s gave %(target)s a licence.") % {"actor": a, "target": t}
    ),
    "licences.unassigned": lambda a, t, b, f: (
        _("%(actor)s took the licence of %(target)s back.") % {"actor": a, "target": t}
    ),
    "subscription.plan_changed": lambda a, t, b, f: (
        _("%(actor)s changed the plan from %(before)s to %(after)s.")
        % {"actor": a, "before": _plan(b.get("plan")), "after": _plan(f.get("plan"))}
    ),
    "subscription.cancelled": lambda a, t, b, f: (
        _("%(actor)s cancelled the subscription at the end of its period.") % {"actor": a}
    ),
    "subscription.cancellation_undone": lambda a, t, b, f: (
        _("%(actor)s kept the subscription: it renews again.") % {"actor": a}
    ),
    "billing.grace_period_ended": lambda a, t, b, f: _(
        "The payment stayed overdue past the grace period: the subscription ended."
    ),
    **{f"billing.{event_type}": _billing(event_type) for event_type in HANDLED_EVENTS},
    # provisioning
    "provisioning.token_created": lambda a, t, b, f: (
        _("%(actor)s made the provisioning token “%(target)s”.") % {"actor": a, "target": t}
    ),
    "provisioning.token_revoked": lambda a, t, b, f: (
        _("%(actor)s revoked the provisioning token “%(target)s”.") % {"actor": a, "target": t}
    ),
    "provisioning.user_provisioned": lambda a, t, b, f: (
        _("%(actor)s added %(target)s.") % {"actor": a, "target": t}
    ),
    "provisioning.user_updated": lambda a, t, b, f: (
        _("%(actor)s updated %(target)s.") % {"actor": a, "target": t}
    ),
    "provisioning.user_deactivated": lambda a, t, b, f: (
        _("%(actor)s deactivated %(target)s.") % {"actor": a, "target": t}
    ),
    "provisioning.user_reactivated": lambda a, t, b, f: (
        _("%(actor)s reactivated %(target)s.") % {"actor": a, "target": t}
    ),
    "provisioning.user_deleted": lambda a, t, b, f: (
        _("%(actor)s deleted %(target)s.") % {"actor": a, "target": t}
    ),
    # single sign-on
    "sso.started": lambda a, t, b, f: (
        _("%(actor)s started setting up single sign-on.") % {"actor": a}
    ),
    "sso.configured": lambda a, t, b, f: (
        _("%(actor)s changed the identity provider's settings.") % {"actor": a}
    ),
    "sso.tested": lambda a, t, b, f: (
        _("%(actor)s tested single sign-on and signed in as %(target)s.")
        % {"actor": a, "target": t}
    ),
    "sso.test_failed": lambda a, t, b, f: (
        _("%(actor)s tested single sign-on: it failed.") % {"actor": a}
    ),
    "sso.sign_in_failed": lambda a, t, b, f: _(
        "A sign-in through the identity provider failed; nobody was signed in."
    ),
    "sso.enforced": lambda a, t, b, f: (
        _("%(actor)s made single sign-on the only way in for members.") % {"actor": a}
    ),
    "sso.enforcement_lifted": lambda a, t, b, f: (
        _("%(actor)s let members sign in with a password again.") % {"actor": a}
    ),
    "sso.removed": lambda a, t, b, f: _("%(actor)s removed single sign-on.") % {"actor": a},
    "sso.address_changed": lambda a, t, b, f: (
        _("The identity provider changed the address of %(before)s to %(after)s.")
        % {"before": b.get("email"), "after": f.get("email")}
    ),
    # Help & support (portal.services)
    "support.request_opened": lambda a, t, b, f: (
        _("%(actor)s asked support for help: “%(target)s”.") % {"actor": a, "target": t}
    ),
    "support.answered": lambda a, t, b, f: (
        _("Support answered the request “%(target)s”.") % {"target": t}
    ),
    "support.admin_replied": lambda a, t, b, f: (
        _("%(actor)s replied on the request “%(target)s”.") % {"actor": a, "target": t}
    ),
    "support.status_changed": lambda a, t, b, f: (
        _("Support changed the status of “%(target)s” from %(before)s to %(after)s.")
        % {
            "target": t,
            "before": _support_status(b.get("status")),
            "after": _support_status(f.get("status")),
        }
    ),
}


def actor_name(event: AuditEvent) -> str:
    """Who acted, in words: a person's name, a provisioning token, Stripe, or nobody known."""
    if event.actor_label:
        return _("%(name)s (provisioning token)") % {"name": event.actor_label}
    if event.actor is not None:
        return event.actor.name or event.actor.email
    if event.action == "user.sign_in_failed":
        return _("Unknown")
    if event.action.startswith("sso."):
        return _("Someone signing in")
    return _("Stripe")


def describe(event: AuditEvent) -> str:
    """The event as one sentence in the active language; an action recorded before this
    catalogue knew it reads as "<who> did <code>" rather than failing the page."""
    sentence = SENTENCES.get(event.action)
    actor = actor_name(event)
    if sentence is None:
        return _("%(actor)s: %(action)s %(target)s") % {
            "actor": actor,
            "action": event.action,
            "target": event.target,
        }
    return sentence(actor, event.target, event.before or {}, event.after or {})
