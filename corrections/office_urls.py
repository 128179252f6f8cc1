from django.urls import path

from corrections import office

app_name = "corrections_office"
urlpatterns = [
    path("", office.queue, name="queue"),
    path("<uuid:public_id>/", office.review, name="review"),
    path("<uuid:public_id>/cargo.pdf", office.receipt, name="receipt"),
    path("<uuid:public_id>/archivos/<uuid:file_id>/", office.download, name="file"),
]
