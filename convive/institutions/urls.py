from django.urls import path

from convive.institutions import views

app_name = "institutions"
urlpatterns = [
    path("team/", views.members_home, name="members_home"),
    path("<int:institution_id>/team/", views.members, name="members"),
    path(
        "<int:institution_id>/team/<int:membership_id>/",
        views.member_edit,
        name="member_edit",
    ),
    path(
        "<int:institution_id>/team/<int:membership_id>/end/",
        views.member_end,
        name="member_end",
    ),
]
