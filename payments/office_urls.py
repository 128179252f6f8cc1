from django.urls import URLPattern

app_name = "payments_office"
urlpatterns: list[URLPattern] = []
