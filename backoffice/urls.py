from django.urls import path

from backoffice import views

app_name = "backoffice"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("ingresar/", views.OfficerLoginView.as_view(), name="login"),
    path("salir/", views.logout_view, name="logout"),
    path("tramites/nuevo/", views.register, name="register"),
    path("tramites/<str:number>/", views.procedure_detail, name="procedure"),
    path("tramites/<str:number>/reemitir/", views.reissue, name="reissue"),
    path(
        "tramites/<str:number>/constancias/<str:code>.pdf",
        views.receipt_pdf,
        name="receipt_pdf",
    ),
]
