from django.urls import path

from convive.reports import views

app_name = "reports"
urlpatterns = [
    path("", views.new, name="new"),
    path("sos/", views.sos, name="sos"),
    path("track/", views.track, name="track"),
    path("mine/", views.mine, name="mine"),
    path("sw.js", views.service_worker, name="service_worker"),
    path("manifest.webmanifest", views.manifest, name="manifest"),
    # The tracking code is the citizen's capability: whoever holds it may follow the report.
    path("<str:code>/", views.follow, name="follow"),
    path("<str:code>/live/", views.live, name="live"),
    path("<str:code>/message/", views.message, name="message"),
    path("<str:code>/rate/", views.rate, name="rate"),
    path("<str:code>/photos/<int:photo_id>/", views.photo, name="photo"),
]
