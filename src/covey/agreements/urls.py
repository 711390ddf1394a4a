from __future__ import annotations

from django.urls import path

from covey.agreements import views

urlpatterns = [
    path("", views.agreement_list, name="agreement_list"),
    path("issue/", views.agreement_issue, name="agreement_issue"),
    path("templates/", views.template_list, name="agreement_template_list"),
    path("templates/new/", views.template_create, name="agreement_template_create"),
    path("templates/<str:public_id>/", views.template_detail, name="agreement_template_detail"),
    path("templates/<str:public_id>/versions/", views.version_publish, name="agreement_version_publish"),
    path("<str:public_id>/", views.agreement_detail, name="agreement_detail"),
    path("<str:public_id>/sign/", views.agreement_sign, name="agreement_sign"),
    path("<str:public_id>/countersign/", views.agreement_countersign, name="agreement_countersign"),
    path("<str:public_id>/withdraw/", views.agreement_withdraw, name="agreement_withdraw"),
    path("<str:public_id>/pdf/", views.agreement_pdf, name="agreement_pdf"),
]
