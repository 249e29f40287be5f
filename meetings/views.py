import functools
import zoneinfo
from datetime import timedelta

from django.conf import settings as django_settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views import i18n
from django.views.decorators.http import require_GET, require_POST

from core.links import row_link
from core.pagecache import kept_page
from tenancy.models import Policy
from tenancy.selectors import policy_of

from . import selectors, services
from .exceptions import MeetingCancelledError, MeetingError, MeetingFullError
from .forms import GuestJoinForm, MeetingForm, MeetingSettingsForm
from .language import remember_personal_language

GUEST_STAYS = "meetings_guest_stays"  # session: {meeting id: participant id} of a guest


def in_user_time_zone(view):
    """Show and read date-times in the signed-in user's own time zone (UTC for guests).

    Keeps the user's settings as `request.meeting_settings`, for the view to reuse."""

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        zone, request.meeting_settings = "UTC", None
        if request.user.is_authenticated:
            request.meeting_settings = services.ensure_meeting_settings(user=request.user)
            zone = request.meeting_settings.time_zone
        with timezone.override(zoneinfo.ZoneInfo(zone)):
            return view(request, *args, **kwargs)

    return wrapper


def _with_links(meetings):
    """Each meeting's join, edit and cancel addresses, reversed once per page instead of three
    times per row (join tokens are URL-safe, meetings.models)."""
    join, edit, cancel = (row_link(f"meetings:{name}") for name in ("join", "edit", "cancel"))
    for meeting in meetings:
        meeting.join_url = join(meeting.join_token)
        meeting.edit_url = edit(meeting.pk)
        meeting.cancel_url = cancel(meeting.pk)
    return meetings


def _upgrade_context(settings):
    return {"show_upgrade": settings.licensed_cap is None}


@kept_page
@login_required
@in_user_time_zone
@require_GET
def meeting_list(request):
    upcoming, past = selectors.upcoming_and_past_meetings(request.user)
    context = {
        "upcoming": _with_links(upcoming),
        "past": past,
        **_upgrade_context(request.meeting_settings),
    }
    context["cap"] = None
    if request.membership:
        context["cap"] = selectors.participant_cap(request.user, settings=request.meeting_settings)
    return render(request, "meetings/list.html", context)


@login_required
@in_user_time_zone
def meeting_schedule(request):
    fixed = selectors.fixed_by_policy(request.tenant)
    if request.method == "POST":
        form = MeetingForm(request.POST, fixed=fixed)
        if form.is_valid():
            try:
                meeting = services.schedule_meeting(organiser=request.user, **form.meeting_fields())
            except MeetingError as error:
                messages.error(request, error.message)
            else:
                messages.success(request, _("Your meeting is scheduled. Share its link."))
                return redirect("meetings:join", token=meeting.join_token)
    else:
        settings = request.meeting_settings
        starts_at = timezone.localtime().replace(minute=0, second=0, microsecond=0)
        starts_at += timedelta(hours=1)
        form = MeetingForm(
            fixed=fixed,
            initial={
                "starts_at": starts_at,
                "ends_at": starts_at + timedelta(minutes=settings.default_duration_minutes),
                "lobby_bypass": settings.lobby_bypass,
                "anonymous_join_allowed": settings.anonymous_join_allowed,
                "recording_allowed": settings.recording_allowed,
            },
        )
    return render(
        request,
        "meetings/form.html",
        {"form": form, "meeting": None, **_upgrade_context(request.meeting_settings)},
    )


@login_required
@in_user_time_zone
def meeting_edit(request, pk):
    meeting = get_object_or_404(selectors.organised_meetings(request.user), pk=pk)
    fixed = selectors.fixed_by_policy(meeting.tenant)
    if request.method == "POST":
        form = MeetingForm(request.POST, fixed=fixed)
        if form.is_valid():
            try:
                services.update_meeting(meeting=meeting, by=request.user, **form.meeting_fields())
            except MeetingError as error:
                messages.error(request, error.message)
            else:
                messages.success(request, _("Your meeting is updated."))
                return redirect("meetings:list")
    else:
        form = MeetingForm(initial=MeetingForm.initial_for(meeting), fixed=fixed)
    return render(
        request,
        "meetings/form.html",
        {"form": form, "meeting": meeting, **_upgrade_context(request.meeting_settings)},
    )


@login_required
@in_user_time_zone
def meeting_cancel(request, pk):
    meeting = get_object_or_404(selectors.organised_meetings(request.user), pk=pk)
    if request.method == "POST":
        services.cancel_meeting(meeting=meeting, by=request.user)
        messages.success(request, _("The meeting is cancelled."))
        return redirect("meetings:list")
    return render(request, "meetings/cancel.html", {"meeting": meeting})


def _meeting_or_404(token, *, is_in=None):
    meeting = selectors.meeting_by_token(token, is_in=is_in)
    if meeting is None:
        raise Http404
    return meeting


def _options(meeting):
    options = selectors.effective_options(meeting)
    return {**options, "lobby_label": Policy.LobbyBypass(options["lobby_bypass"]).label}


def _current_stay(request, meeting):
    """This browser's present stay in the meeting (signed-in user, or guest by session)."""
    stays = selectors.present_participants(meeting)
    if request.user.is_authenticated:
        return stays.filter(user=request.user).first()
    participant_id = request.session.get(GUEST_STAYS, {}).get(str(meeting.pk))
    if participant_id is None:
        return None
    return stays.filter(pk=participant_id, user__isnull=True).first()


def _join(request, meeting, guest_form):
    """Join as the signed-in user, or as a guest by name; None while the name is invalid."""
    if request.user.is_authenticated:
        return services.join_meeting(meeting=meeting, user=request.user)
    if guest_form is None:  # guests not welcome: the service refuses with its message
        return services.join_meeting(meeting=meeting, display_name="")
    if not guest_form.is_valid():
        return None
    stay = services.join_meeting(
        meeting=meeting, display_name=guest_form.cleaned_data["display_name"]
    )
    request.session[GUEST_STAYS] = {
        **request.session.get(GUEST_STAYS, {}),
        str(meeting.pk): stay.pk,
    }
    return stay


@kept_page
@in_user_time_zone
def meeting_join(request, token):
    """The page behind a meeting's link: who, when, and the button (or name field) to join."""
    signed_in = request.user.is_authenticated
    meeting = _meeting_or_404(token, is_in=request.user if signed_in else None)
    if request.tenant is not None and meeting.tenant_id == request.tenant.pk:
        meeting.tenant = request.tenant  # a colleague's meeting: the policy read with the identity
    # A signed-in person's presence was read with the meeting; a guest's stay is in the session.
    is_in = meeting.user_is_in if signed_in else _current_stay(request, meeting) is not None
    if is_in:
        return redirect("meetings:live", token=token)
    options = _options(meeting)
    guest_form = None
    if not request.user.is_authenticated and options["anonymous_join_allowed"]:
        guest_form = GuestJoinForm(request.POST or None)
    status = 200
    if request.method == "POST":
        try:
            stay = _join(request, meeting, guest_form)
        except MeetingFullError as error:
            context = {"meeting": meeting, "message": error.message, "cap": error.cap}
            return render(request, "meetings/full.html", context, status=403)
        except MeetingError as error:
            messages.error(request, error.message)
            status = 410 if isinstance(error, MeetingCancelledError) else 403
        else:
            if stay is not None:
                return redirect("meetings:live", token=token)
            status = 400
    context = {
        "meeting": meeting,
        "options": options,
        "guest_form": guest_form,
        "is_organiser": request.user.is_authenticated and request.user.pk == meeting.organiser_id,
    }
    return render(request, "meetings/join.html", context, status=status)


@in_user_time_zone
@require_GET
def meeting_live(request, token):
    """Inside the meeting: its options and the roster, refreshed by htmx polling."""
    meeting = _meeting_or_404(token)
    stay = _current_stay(request, meeting)
    if stay is None:
        return redirect("meetings:join", token=token)
    context = {
        "meeting": meeting,
        "stay": stay,
        "options": _options(meeting),
        "participants": selectors.present_participants(meeting),
        "cap": selectors.participant_cap(meeting.organiser),
    }
    return render(request, "meetings/live.html", context)


@require_GET
def meeting_roster(request, token):
    """The roster fragment polled by the live page; only people in the meeting may see it."""
    meeting = _meeting_or_404(token)
    if _current_stay(request, meeting) is None:
        raise Http404
    context = {
        "meeting": meeting,
        "participants": selectors.present_participants(meeting),
        "cap": selectors.participant_cap(meeting.organiser),
    }
    return render(request, "meetings/_roster.html", context)


@require_POST
def meeting_leave(request, token):
    meeting = _meeting_or_404(token)
    stay = _current_stay(request, meeting)
    if stay is not None:
        services.leave_meeting(participant=stay)
        messages.success(request, _("You left the meeting."))
    return redirect("meetings:join", token=token)


def personal_room(request, token):
    """A personal-room link opens the owner's standing meeting."""
    owner_settings = selectors.settings_by_room_token(token)
    if owner_settings is None:
        raise Http404
    try:
        room = services.open_personal_room(owner=owner_settings.user)
    except MeetingError as error:
        messages.error(request, error.message)
        return redirect("tenancy:home")
    return redirect("meetings:join", token=room.join_token)


@login_required
def personal_settings(request):
    settings = services.ensure_meeting_settings(user=request.user)
    fixed = selectors.fixed_by_policy(request.tenant)
    if request.method == "POST":
        form = MeetingSettingsForm(request.POST, instance=settings, fixed=fixed)
        if form.is_valid():
            changed = services.update_personal_settings(
                user=request.user, values=form.changed_values()
            )
            if "language" in changed:
                remember_personal_language(request, request.user)
            messages.success(request, _("Your meeting settings are saved."))
            return redirect("meetings:settings")
    else:
        form = MeetingSettingsForm(instance=settings, fixed=fixed)
    policy = policy_of(request.tenant)
    context = {
        "form": form,
        "fixed": fixed,
        "max_meeting_size": policy.max_meeting_size if policy else None,
        "room_token": settings.personal_room_token,
        "cap": (
            selectors.participant_cap(request.user, settings=settings)
            if request.membership
            else None
        ),
        **_upgrade_context(settings),
    }
    return render(request, "meetings/settings.html", context)


@login_required
@require_POST
def renew_room_link(request):
    services.renew_personal_room_link(user=request.user)
    messages.success(request, _("Your personal room has a new link; the old one no longer works."))
    return redirect("meetings:settings")


def set_language(request):
    """The language switch of every page. A signed-in person's choice is their personal language
    setting, the one their pages follow; anyone's goes into the language cookie."""
    language = request.POST.get("language")
    if (
        request.method == "POST"
        and request.user.is_authenticated
        and language in dict(django_settings.LANGUAGES)
    ):
        services.update_personal_settings(user=request.user, values={"language": language})
        remember_personal_language(request, request.user)
    return i18n.set_language(request)
