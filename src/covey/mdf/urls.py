from django.urls import path

from covey.mdf import views

urlpatterns = [
    path("mdf/budgets/", views.budget_list, name="mdf_budget_list"),
    path("mdf/budgets/new/", views.budget_create, name="mdf_budget_create"),
    path("mdf/budgets/<str:public_id>/", views.budget_detail, name="mdf_budget_detail"),
    path("mdf/budgets/<str:public_id>/allocate/", views.allocations_generate, name="mdf_allocations_generate"),
    path("mdf/allocations/<str:public_id>/adjust/", views.allocation_adjust, name="mdf_allocation_adjust"),
    path("mdf/", views.request_list, name="mdf_request_list"),
    path("mdf/requests/new/", views.request_create, name="mdf_request_create"),
    path("mdf/requests/<str:public_id>/", views.request_detail, name="mdf_request_detail"),
    path("mdf/requests/<str:public_id>/decide/", views.request_decide, name="mdf_request_decide"),
    path("mdf/requests/<str:public_id>/second-approval/", views.request_second_approve, name="mdf_request_second_approve"),
    path("mdf/requests/<str:public_id>/claim/", views.claim_create, name="mdf_claim_create"),
    path("mdf/claims/<str:public_id>/decide/", views.claim_decide, name="mdf_claim_decide"),
    path("mdf/files/<str:public_id>/", views.claim_file, name="mdf_claim_file"),
    path("mdf/roi/", views.roi, name="mdf_roi"),
]
