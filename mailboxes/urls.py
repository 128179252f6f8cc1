from django.urls import path

from mailboxes import views

app_name = "mailbox"
urlpatterns = [
    path("", views.casilla, name="home"),
    path("notificaciones/", views.casilla, name="notifications"),
    path("pendientes/", views.pending, name="pending"),
    path("notificaciones/<uuid:public_id>/", views.detail, name="detail"),
    path("notificaciones/<uuid:public_id>/abrir/", views.open_view, name="open"),
    path("notificaciones/<uuid:public_id>/constancia.pdf", views.certificate, name="certificate"),
    path("exportar/", views.export, name="export"),
    path("exportar/<procedure_number:number>/", views.export_procedure, name="export_procedure"),
    path(
        "notificaciones/<uuid:public_id>/adjuntos/<uuid:attachment_id>/",
        views.attachment,
        name="attachment",
    ),
]
