from django.urls import include, path

from congvu.web import views

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.health, name="health"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("console/", include("congvu.console.urls")),
    path("danh-ba/", include("congvu.web.directory_pages")),
    path("", include("congvu.sso.urls")),
    path("static/<path:path>", views.static, name="static"),
]
