from django.urls import path

from people import views

app_name = "people"
urlpatterns = [
    path("perfil/", views.profile, name="profile"),
    path("perfil/codigo/", views.confirm_code, name="confirm_code"),
    path(
        "perfil/verificar/<int:verification_id>/<str:token>/",
        views.confirm_link,
        name="confirm_link",
    ),
]
