from django.urls import path

from covey.tierreviews import views

urlpatterns = [
    path("tier-reviews/", views.review_list, name="tier_review_list"),
    path("tier-reviews/run/", views.review_run, name="tier_review_run"),
    path("tier-reviews/<str:public_id>/", views.review_detail, name="tier_review_detail"),
    path("tier-proposals/<str:public_id>/decide/", views.proposal_decide, name="tier_proposal_decide"),
    path("my-tier/", views.my_tier, name="my_tier"),
    path("partners/<str:public_id>/tier/", views.tier_progress, name="tier_progress"),
    path("partners/<str:public_id>/tier/satisfaction/", views.satisfaction_record, name="satisfaction_record"),
]
