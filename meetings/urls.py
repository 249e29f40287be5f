from django.urls import path

from . import views

app_name = "meetings"

urlpatterns = [
    path("", views.meeting_list, name="list"),
    path("new/", views.meeting_schedule, name="schedule"),
    path("<int:pk>/edit/", views.meeting_edit, name="edit"),
    path("<int:pk>/cancel/", views.meeting_cancel, name="cancel"),
    path("j/<str:token>/", views.meeting_join, name="join"),
    path("j/<str:token>/live/", views.meeting_live, name="live"),
    path("j/<str:token>/roster/", views.meeting_roster, name="roster"),
    path("j/<str:token>/leave/", views.meeting_leave, name="leave"),
    path("room/<str:token>/", views.personal_room, name="personal_room"),
    path("settings/", views.personal_settings, name="settings"),
    path("settings/room-link/", views.renew_room_link, name="renew_room_link"),
]
