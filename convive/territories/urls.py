from django.urls import path

from convive.territories import views

app_name = "territories"
urlpatterns = [
    path("", views.index, name="index"),
]
