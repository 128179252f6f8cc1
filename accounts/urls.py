from django.urls import path

from accounts import views

app_name = "accounts"
urlpatterns = [
    path("ingresar/", views.login_view, name="login"),
    path("salir/", views.logout_view, name="logout"),
    path("contrasena/", views.password_change_view, name="password_change"),
]
