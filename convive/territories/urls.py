from django.urls import path

from convive.territories import views

app_name = "territories"
urlpatterns = [
    path("", views.index, name="index"),
    path("<slug:city_slug>/", views.city, name="city"),
    path("<slug:city_slug>/<slug:layer_slug>/<str:code>/", views.detail, name="detail"),
]
