from mailbox import views

from django.urls import path

app_name = "mailbox"
urlpatterns = [
    path("", views.casilla, name="home"),
    path("notificaciones/", views.casilla, name="notifications"),
]
