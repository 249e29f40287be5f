"""The tenant's domains: the list with their state, adding one (proven by a DNS record like the
first), its proof's live status, removing one, and who came with a merged organisation."""

from datetime import timedelta
from typing import Any

from django import forms
from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from domains import selectors as domain_selectors
from domains import services as domain_services
from domains.dnscheck import record_value
from domains.exceptions import DomainsError
from domains.models import DomainClaim, TenantMerge
from licensing.selectors import licence_holder_ids, waiting_member_count
from portal.access import AdminRequest, admin_required, recent_authentication_required
from tenancy.models import Tenant
from tenancy.selectors import member_ids_among, waiting_for_approval_among

# Claims that ended (added, refused, expired) stay listed this long.
CLOSED_CLAIMS_SHOWN = timedelta(days=7)
PEOPLE_LISTED = 50


class DomainForm(forms.Form):
    domain = forms.CharField(
        label=gettext_lazy("Domain"),
        max_length=253,
        help_text=gettext_lazy("For example fabrikam.com: the part of the addresses after the @."),
    )


@admin_required
@require_GET
def domains(request: AdminRequest) -> HttpResponse:
    return _domains_page(request, DomainForm())


def _domains_page(request: AdminRequest, form: DomainForm, status: int = 200) -> HttpResponse:
    tenant = request.tenant
    context = {
        "portal_section": "domains",
        "claim_window_hours": domain_services.CLAIM_WINDOW // timedelta(hours=1),
        "form": form,
        "domains": [
            {"domain": domain, "record_value": record_value(domain.token)}
            for domain in domain_selectors.domains_of(tenant)
        ],
        "claims": domain_selectors.domain_claims_of(
            tenant, closed_since=timezone.now() - CLOSED_CLAIMS_SHOWN
        ),
        "merges": [
            _merge_summary(tenant, merge) for merge in domain_selectors.recent_merges(tenant)
        ],
    }
    return render(request, "portal/domains.html", context, status=status)


def _merge_summary(tenant: Tenant, merge: TenantMerge) -> dict[str, Any]:
    """A merged organisation's people: the first by name with where each stands, and the counts
    of those who wait for a licence or for approval."""
    people = domain_selectors.merged_people(merge)
    listed = domain_selectors.merged_people_listed(merge, limit=PEOPLE_LISTED)
    ids = [notice.user_id for notice in listed]
    members = member_ids_among(tenant, ids)
    holders = licence_holder_ids(tenant, ids)
    waiting = set(waiting_for_approval_among(tenant, ids))
    rows = []
    for notice in listed:
        if notice.user_id in holders:
            standing = "licence"
        elif notice.user_id in members:
            standing = "waits_for_licence"
        elif notice.user_id in waiting:
            standing = "waits_for_approval"
        else:
            standing = "left"
        rows.append({"user": notice.user, "standing": standing})
    return {
        "merge": merge,
        "people": rows,
        "more": max(merge.joined + merge.waiting_for_approval - len(rows), 0),
        "waiting_for_licence": waiting_member_count(tenant, among=people),
        "waiting_for_approval": waiting_for_approval_among(tenant, people).count(),
    }


# A domain verified merges its organisation in, and removing one lets its addresses go: the admin
# proves who they are again first.
@admin_required
@recent_authentication_required
@require_POST
def add_domain(request: AdminRequest) -> HttpResponse:
    form = DomainForm(request.POST)
    if not form.is_valid():
        return _domains_page(request, form, status=400)
    try:
        claim = domain_services.start_domain_claim(
            tenant=request.tenant, admin=request.user, domain=form.cleaned_data["domain"]
        )
    except DomainsError as error:
        form.add_error("domain", error.message)
        return _domains_page(request, form, status=400)
    return redirect("portal:domain_claim", pk=claim.pk)


def _claim(request: AdminRequest, pk: int) -> DomainClaim:
    try:
        return domain_selectors.domain_claim(request.tenant, pk)
    except DomainClaim.DoesNotExist as missing:
        raise Http404(_("No such domain being added.")) from missing


def _claim_context(request: AdminRequest, claim: DomainClaim, **extra: Any) -> dict[str, Any]:
    merge = getattr(claim, "merge", None) if claim.status == DomainClaim.Status.USED else None
    return {
        "portal_section": "domains",
        "claim_window_hours": domain_services.CLAIM_WINDOW // timedelta(hours=1),
        "claim": claim,
        "seen": domain_selectors.seen_records_explained(claim),
        "summary": _merge_summary(request.tenant, merge) if merge else None,
        **extra,
    }


@admin_required
@require_GET
def domain_claim(request: AdminRequest, pk: int) -> HttpResponse:
    """The record to publish for a domain being added, and its proof's live status."""
    claim = _claim(request, pk)
    return render(request, "portal/domain_claim.html", _claim_context(request, claim))


@admin_required
@require_GET
def domain_claim_status(request: AdminRequest, pk: int) -> HttpResponse:
    """The status part alone, polled by the page while the proof is pending."""
    claim = _claim(request, pk)
    return render(request, "portal/_domain_claim_status.html", _claim_context(request, claim))


@admin_required
@require_POST
def check_domain_claim(request: AdminRequest, pk: int) -> HttpResponse:
    """ "I've added the record": check at once, and quickly again after."""
    claim = _claim(request, pk)
    notice = None
    try:
        claim = domain_services.confirm_record_added(claim=claim, user=request.user)
    except DomainsError as error:
        notice = error.message
    if request.headers.get("HX-Request"):
        context = _claim_context(request, claim, notice=notice)
        return render(request, "portal/_domain_claim_status.html", context)
    if notice:
        messages.warning(request, notice)
    return redirect("portal:domain_claim", pk=claim.pk)


@admin_required
@recent_authentication_required
@require_POST
def remove_domain(request: AdminRequest, pk: int) -> HttpResponse:
    domain = next((d for d in domain_selectors.domains_of(request.tenant) if d.pk == pk), None)
    if domain is None:
        raise Http404(_("No such domain in your organisation."))
    try:
        domain_services.remove_domain(tenant=request.tenant, actor=request.user, domain_id=pk)
    except DomainsError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("%(domain)s was removed.") % {"domain": domain.domain})
    return redirect("portal:domains")
