from django.urls import path

from accounts import views

app_name = "accounts"
urlpatterns = [
    path("ingresar/", views.login_view, name="login"),
    path("salir/", views.logout_view, name="logout"),
    path("contrasena/", views.password_change_view, name="password_change"),
    path("recuperar/", views.recovery_start_view, name="recovery"),
    path("recuperar/enviado/", views.recovery_sent_view, name="recovery_sent"),
    path("recuperar/nueva/", views.recovery_new_view, name="recovery_new"),
    path("recuperar/enlace/", views.recovery_refused_view, name="recovery_refused"),
    path("recuperar/<int:reset_id>/<str:token>/", views.recovery_link_view, name="recovery_link"),
]
