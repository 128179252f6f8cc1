from django.urls import path

from verification import views

app_name = "verification"
urlpatterns = [
    path("", views.verify, name="verify"),
    path("<str:code>", views.verify, name="verify_code"),
]
