from django.urls import path

from payments import views

app_name = "payments"
urlpatterns = [
    path("pagos/<str:code>/", views.debt, name="debt"),
    path("pagos/<str:code>/constancia/<uuid:payment_id>.pdf", views.receipt, name="receipt"),
]
