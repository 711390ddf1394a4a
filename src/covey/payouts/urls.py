from __future__ import annotations

from django.urls import path

from covey.payouts import views

urlpatterns = [
    path("runs/", views.run_list, name="payout_run_list"),
    path("runs/start/", views.run_start, name="payout_run_start"),
    path("runs/<str:public_id>/", views.run_detail, name="payout_run_detail"),
    path("fx-rates/", views.fx_list, name="fx_rate_list"),
    path("statements/", views.statement_list, name="statement_list"),
    path("statements/refresh/", views.statements_refresh, name="statements_refresh"),
    path("statements/<str:public_id>/", views.statement_detail, name="statement_detail"),
    path("statements/<str:public_id>/acknowledge/", views.statement_acknowledge, name="statement_acknowledge"),
    path("statements/<str:public_id>/approve/", views.statement_approve, name="statement_approve"),
    path("statements/<str:public_id>/statement.csv", views.statement_csv, name="statement_csv"),
    path("statements/<str:public_id>/statement.pdf", views.statement_pdf, name="statement_pdf"),
    path("statements/<str:public_id>/lines/<str:entry_id>/dispute/", views.line_dispute, name="line_dispute"),
    path("disputes/<str:public_id>/resolve/", views.dispute_resolve, name="dispute_resolve"),
    path("disputes/<str:public_id>/files/<str:file_id>/", views.dispute_file, name="dispute_file"),
    path("earnings/", views.earnings, name="earnings"),
    path("batches/", views.batch_list, name="batch_list"),
    path("batches/new/", views.batch_create, name="batch_create"),
    path("batches/<str:public_id>/", views.batch_detail, name="batch_detail"),
    path("batches/<str:public_id>/payments.csv", views.batch_csv, name="batch_csv"),
    path("batches/<str:public_id>/mark-paid/", views.batch_mark_paid, name="batch_mark_paid"),
    path("simulator/", views.simulator, name="simulator"),
    path("simulator/<str:public_id>/", views.simulation_detail, name="simulation_detail"),
]
