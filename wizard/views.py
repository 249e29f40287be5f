from django.contrib.auth.decorators import login_required
from django.shortcuts import render


@login_required
def start(request):
    return render(request, "wizard/start.html")
