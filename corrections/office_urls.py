from django.urls import URLPattern

app_name = "corrections_office"
urlpatterns: list[URLPattern] = []
