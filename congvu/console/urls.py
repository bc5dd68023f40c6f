from django.urls import path

from congvu.console.views import home, request_list, request_page

app_name = "console"

urlpatterns = [
    path("", home, name="home"),
    path("requests/", request_list, name="requests"),
    path("requests/<int:request_id>/", request_page, name="request"),
]
