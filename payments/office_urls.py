from django.urls import path

from payments import office

app_name = "payments_office"
urlpatterns = [
    path("", office.debt_list, name="debts"),
    path("<str:code>/", office.debt_detail, name="debt"),
    path("<str:code>/pagos/<uuid:payment_id>/revisar/", office.review, name="review"),
]
