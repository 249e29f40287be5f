from django.contrib.auth.decorators import login_required
from django.shortcuts import render


@login_required
def home(request):
    """The app launcher: where a signed-in user lands."""
    return render(request, "tenancy/home.html", {"membership": request.membership})
