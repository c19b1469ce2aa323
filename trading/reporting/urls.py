from django.urls import path

from trading.reporting import gains, views

urlpatterns = [
    path("account/<str:number>/documents/", views.document_list, name="account-documents"),
    path(
        "account/<str:number>/confirmations/<int:execution_id>.pdf",
        views.confirmation,
        name="account-confirmation",
    ),
    path(
        "account/<str:number>/statements/<int:year>-<int:month>.pdf",
        views.statement,
        name="account-statement",
    ),
    path("account/<str:number>/gains/", gains.gains_page, name="account-gains"),
    path("account/<str:number>/gains/<int:year>.csv", gains.gains_csv, name="account-gains-csv"),
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
