from django.urls import path

from convive.accounts import views

app_name = "accounts"
urlpatterns = [
    path("login/", views.login, name="login"),
    path("logout/", views.logout, name="logout"),
    path("signup/", views.signup, name="signup"),
    path("2fa/", views.otp_verify, name="otp_verify"),
    path("2fa/setup/", views.otp_setup, name="otp_setup"),
    path("home/", views.home, name="home"),
    path("me/", views.me, name="me"),
    path("workspace/", views.workspace, name="workspace"),
]
