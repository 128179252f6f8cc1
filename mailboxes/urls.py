from django.urls import path

from mailboxes import views

app_name = "mailbox"
urlpatterns = [
    path("", views.casilla, name="home"),
    path("notificaciones/", views.casilla, name="notifications"),
]
