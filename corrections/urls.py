from django.urls import path

from corrections import views

app_name = "corrections"
urlpatterns = [
    path("notificaciones/<uuid:public_id>/subsanacion/", views.answer, name="answer"),
    path("notificaciones/<uuid:public_id>/subsanacion/cargo.pdf", views.receipt, name="receipt"),
]
