from django.urls import path

from backoffice import notifications, views

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
    path("tramites/<procedure_number:number>/", views.procedure_detail, name="procedure"),
    path("tramites/<procedure_number:number>/reemitir/", views.reissue, name="reissue"),
    path(
        "tramites/<procedure_number:number>/constancias/<verification_code:code>.pdf",
        views.receipt_pdf,
        name="receipt_pdf",
    ),
]
