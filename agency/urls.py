from django.urls import path

from agency import views

app_name = "agency"
urlpatterns = [
    path("", views.home, name="home"),
    path("inicio/", views.platform, name="platform"),
    path("buzon/", views.mailbox_access, name="mailbox"),
    path("contrasena/", views.password, name="password"),
    path("solicitud/", views.credential_request, name="request"),
    path("solicitud/recibida/", views.request_received, name="request_received"),
    path("<str:kind>/", views.identity, name="identity"),
]
