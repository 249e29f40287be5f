from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from .selectors import standing_of


@login_required
def home(request):
    """The app launcher: where a signed-in user lands. Someone who is not (yet) a member of an
    organisation reads why, and what to do next."""
    membership = request.membership
    standing = standing_of(request.user) if membership is None else None
    return render(request, "tenancy/home.html", {"membership": membership, "standing": standing})
