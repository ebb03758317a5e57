from django.urls import path

from convive.devices import views

app_name = "devices"

urlpatterns = [
    path("panic/", views.panic_press, name="panic_press"),
]
