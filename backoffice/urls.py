from django.urls import path

from backoffice import notifications, requests, views

app_name = "backoffice"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("ingresar/", views.OfficerLoginView.as_view(), name="login"),
    path("salir/", views.logout_view, name="logout"),
    path("tramites/nuevo/", views.register, name="register"),
    path("notificaciones/", notifications.notification_list, name="notifications"),
    path("notificaciones/nueva/", notifications.compose, name="compose"),
    path(
        "notificaciones/<uuid:public_id>/",
        notifications.notification_timeline,
        name="notification",
    ),
    path(
        "notificaciones/<uuid:public_id>/constancia.pdf",
        notifications.notification_certificate,
        name="notification_certificate",
    ),
    path("solicitudes/", requests.request_list, name="requests"),
    path("solicitudes/<str:number>/", requests.request_detail, name="request"),
    path("solicitudes/<str:number>/decidir/", requests.request_decide, name="request_decide"),
    path(
        "solicitudes/<str:number>/archivo/<str:which>/",
        requests.request_file,
        name="request_file",
    ),
    path("tramites/<procedure_number:number>/", views.procedure_detail, name="procedure"),
    path("tramites/<procedure_number:number>/reemitir/", views.reissue, name="reissue"),
    path(
        "tramites/<procedure_number:number>/constancias/<verification_code:code>.pdf",
        views.receipt_pdf,
        name="receipt_pdf",
    ),
]
