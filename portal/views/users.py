"""Active users, adding people, roles, password resets, removal, join requests."""

import csv

from allauth.account.forms import ResetPasswordForm
from allauth.core import ratelimit
from django.contrib import messages
from django.core.cache import cache
from django.http import Http404, HttpRequest, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from core.links import row_link
from core.middleware import refusals_go_back_to
from licensing.exceptions import LicensingError
from licensing.selectors import licence_holder_ids
from licensing.services import seats as licences
from portal.access import admin_required, recent_authentication_required
from portal.forms import InviteForm, MemberFilter
from portal.selectors import members_for_export
from tenancy.models import Membership, User
from tenancy.selectors import join_request_of, member_of_tenant, members_page, pending_join_requests
from tenancy.services import membership as services
from tenancy.services import security
from tenancy.services.audit import record_audit

PER_PAGE = 50
# An admin inviting more people than this in an hour is more likely a script gone wrong.
INVITATIONS_PER_HOUR = 50


@admin_required
@require_GET
def users(request):
    filters = MemberFilter(request.GET)
    values = filters.cleaned_data if filters.is_valid() else {}
    search, sort = values.get("q") or "", values.get("sort") or "name"
    page = members_page(
        request.tenant,
        search=search,
        sort=sort,
        after=values.get("after"),
        before=values.get("before"),
        per_page=PER_PAGE,
    )
    holders = licence_holder_ids(request.tenant, [row.user_id for row in page.rows])
    # Each row's action addresses, reversed once per page (core.links).
    links = {action: row_link("portal:user_action", action) for action in ACTIONS}
    links["password_reset"] = row_link("portal:password_reset")
    context = {
        "portal_section": "users",
        "rows": [_row(row, row.user_id in holders, links) for row in page.rows],
        "search": search,
        "sort": sort,
        "page": page,
        "invite_form": InviteForm(),
        "join_requests": pending_join_requests(request.tenant),
        "filter_errors": [error for errors in filters.errors.values() for error in errors],
    }
    return render(request, "portal/users.html", context, status=200 if filters.is_valid() else 400)


def _row(membership, licensed, links):
    pk = membership.user_id
    return {
        "membership": membership,
        "licensed": licensed,
        "licence_url": links["unassign" if licensed else "assign"](pk),
        "role_url": links["revoke_admin" if membership.is_admin else "make_admin"](pk),
        "password_reset_url": links["password_reset"](pk),
        "sign_out_url": links["sign_out"](pk),
        "remove_url": links["remove"](pk),
    }


@admin_required
@require_GET
def users_csv(request):
    """Every member, streamed, so that 100,000 rows never sit in memory at once."""
    rows = members_for_export(request.tenant)

    class Echo:
        def write(self, value):
            return value

    writer = csv.writer(Echo())
    header = [_("Name"), _("E-mail"), _("Licence"), _("Role"), _("Joined"), _("Last login")]

    def lines():
        yield writer.writerow(_csv_safe(header))
        for membership, licensed in rows:
            user = membership.user
            yield writer.writerow(
                _csv_safe(
                    [
                        user.name,
                        user.email,
                        _("yes") if licensed else _("no"),
                        membership.get_role_display(),
                        membership.joined_at.isoformat(),
                        user.last_login.isoformat() if user.last_login else "",
                    ]
                )
            )

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{request.tenant.domain}-users.csv"'
    return response


# A cell starting with one of these runs as a formula in a spreadsheet (OWASP, CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _csv_safe(cells: list[str]) -> list[str]:
    """Every cell as typed, with a quote in front of those a spreadsheet would run: names and
    addresses alike (`=cmd|'/c calc'!A0@contoso.com` passes many address checks)."""
    return ["'" + cell if cell.startswith(FORMULA_STARTS) else cell for cell in cells]


@refusals_go_back_to("portal:users")
@admin_required
@require_POST
def invite(request):
    form = InviteForm(request.POST)
    key = f"portal:invitations:{request.user.pk}"
    if (cache.get_or_set(key, 0, timeout=3600) or 0) >= INVITATIONS_PER_HOUR:
        messages.error(request, _("Too many invitations in the last hour. Try again later."))
        return redirect("portal:users")
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, str(error))
        return redirect("portal:users")
    user = services.invite_member(
        tenant=request.tenant,
        actor=request.user,
        email=form.cleaned_data["email"],
        name=form.cleaned_data["name"],
        base_url=request.build_absolute_uri("/"),
    )
    cache.incr(key)
    messages.success(request, _("%(email)s was invited.") % {"email": user.email})
    return redirect("portal:users")


def _member(request, pk):
    """A member of the admin's own tenant, else 404: another tenant's people are not found."""
    membership = member_of_tenant(request.tenant, user_id=pk)
    if membership is None:
        raise Http404("No such member.")
    return membership.user


ACTIONS = {
    "assign": lambda request, user: licences.assign_licence(
        tenant=request.tenant, actor=request.user, user=user
    ),
    "unassign": lambda request, user: licences.unassign_licence(
        tenant=request.tenant, actor=request.user, user=user
    ),
    "make_admin": lambda request, user: services.set_member_role(
        tenant=request.tenant, actor=request.user, user=user, role=Membership.Role.ADMIN
    ),
    "revoke_admin": lambda request, user: services.set_member_role(
        tenant=request.tenant, actor=request.user, user=user, role=Membership.Role.MEMBER
    ),
    "remove": lambda request, user: services.remove_member(
        tenant=request.tenant, actor=request.user, user=user
    ),
    "sign_out": lambda request, user: security.sign_out_everywhere(
        tenant=request.tenant, actor=request.user, user=user
    ),
}
# Changing who is an admin or who belongs asks for a recent password or second factor.
SENSITIVE_ACTIONS = {"make_admin", "revoke_admin", "remove"}
DONE = {
    "assign": gettext_lazy("%(email)s now holds a licence."),
    "unassign": gettext_lazy("%(email)s no longer holds a licence."),
    "make_admin": gettext_lazy("%(email)s is now an admin."),
    "revoke_admin": gettext_lazy("%(email)s is no longer an admin."),
    "remove": gettext_lazy("%(email)s was removed from your organisation."),
    "sign_out": gettext_lazy("%(email)s was signed out on every device."),
}


def _is_sensitive(request):
    return request.resolver_match.kwargs.get("action") in SENSITIVE_ACTIONS


@refusals_go_back_to("portal:users")
@admin_required
@recent_authentication_required(when=_is_sensitive)
@require_POST
def user_action(request, pk, action):
    user = _member(request, pk)
    if action not in ACTIONS:
        messages.error(request, _("Unknown action."))
        return redirect("portal:users")
    try:
        ACTIONS[action](request, user)
    except LicensingError as error:  # not a QuorumError yet: the licensing split makes it one
        messages.error(request, error.message)
    else:
        messages.success(request, DONE[action] % {"email": user.email})
    return redirect("portal:users")


@refusals_go_back_to("portal:users")
@admin_required
@require_POST
def password_reset(request, pk):
    """allauth's own reset mail, as if the person had asked for it; throttled with allauth's
    rate limits, as its own reset page is (settings: `admin_reset_password*`); every session the
    person has is ended, so whoever may know the old password is signed out too."""
    user = _member(request, pk)
    refusal = _reset_refusal(request, user)
    if refusal:
        messages.error(request, refusal)
        return redirect("portal:users")
    form = ResetPasswordForm(data={"email": user.email})
    if form.is_valid():
        form.save(request)
        security.end_sessions(actor=request.user, user=user)
        record_audit(
            tenant=request.tenant,
            actor=request.user,
            action="member.password_reset_sent",
            target=user.email,
        )
        messages.success(
            request, _("A password reset link was sent to %(email)s.") % {"email": user.email}
        )
    else:
        messages.error(request, _("No reset could be sent to %(email)s.") % {"email": user.email})
    return redirect("portal:users")


def _reset_refusal(request: HttpRequest, user: User) -> str | None:
    # The admin's own limit first, so that a refused admin does not use up the member's.
    if not ratelimit.consume(request, action="admin_reset_password", user=request.user):
        return _("You sent too many password resets in the last hour. Try again later.")
    if not ratelimit.consume(request, action="admin_reset_password_member", key=user.email):
        return _("%(email)s was sent several reset links in the last hour. Try again later.") % {
            "email": user.email
        }
    return None


@refusals_go_back_to("portal:users")
@admin_required
@require_POST
def join_request(request, pk, decision):
    if decision not in ("approve", "decline"):
        raise Http404("Unknown decision.")
    request_row = join_request_of(request.tenant, user_id=pk)
    if request_row is None:
        raise Http404("No such request to join.")
    services.decide_join_request(
        tenant=request.tenant,
        actor=request.user,
        user=request_row.user,
        approve=decision == "approve",
    )
    return redirect("portal:users")
