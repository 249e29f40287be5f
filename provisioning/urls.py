from django.urls import re_path

from . import views

app_name = "provisioning"

# Everything under /scim/v2 is SCIM's: scim2-server routes it (and answers 404 itself).
urlpatterns = [re_path(r"^(?P<path>/.*)?$", views.scim, name="scim")]
