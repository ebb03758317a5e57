from django.urls import path

from convive.institutions import views

app_name = "institutions"
urlpatterns = [
    path("team/", views.members_home, name="members_home"),
]
