from django.urls import path

from . import statistics_views as views

urlpatterns = [
    path("staff/statistics/", views.statistics_table, name="staff-statistics"),
    path("staff/statistics/recompute", views.recompute, name="staff-statistics-recompute"),
    path("staff/statistics/statistics.csv", views.statistics_csv, name="staff-statistics-csv"),
    path("staff/statistics/<str:month>/report/", views.report_page, name="staff-statistics-report"),
    path(
        "staff/statistics/<str:month>/report.txt",
        views.report_text,
        name="staff-statistics-report-text",
    ),
]
