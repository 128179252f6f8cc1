from django.urls import path

from backoffice import integrations, notifications, requests, views

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
    path("integraciones/", integrations.client_list, name="integrations"),
    path("integraciones/nuevo/", integrations.client_create, name="integration_create"),
    path("integraciones/<int:client_id>/", integrations.client_detail, name="integration"),
    path(
        "integraciones/<int:client_id>/claves/nueva/",
        integrations.key_create,
        name="key_create",
    ),
    path(
        "integraciones/<int:client_id>/unidades/",
        integrations.client_units,
        name="integration_units",
    ),
    path(
        "integraciones/<int:client_id>/secreto/",
        integrations.secret_rotate,
        name="secret_rotate",
    ),
    path(
        "integraciones/<int:client_id>/entregas/",
        integrations.delivery_list,
        name="integration_deliveries",
    ),
    path(
        "integraciones/<int:client_id>/entregas/<int:delivery_id>/reenviar/",
        integrations.delivery_resend,
        name="delivery_resend",
    ),
    path("integraciones/claves/<int:key_id>/revocar/", integrations.key_revoke, name="key_revoke"),
    path("tramites/<procedure_number:number>/", views.procedure_detail, name="procedure"),
    path("tramites/<procedure_number:number>/reemitir/", views.reissue, name="reissue"),
    path(
        "tramites/<procedure_number:number>/constancias/<verification_code:code>.pdf",
        views.receipt_pdf,
        name="receipt_pdf",
    ),
]
