from __future__ import annotations

from django.urls import path

from covey.plans import views

urlpatterns = [
    path("", views.plan_list, name="plan_list"),
    path("new/", views.plan_create, name="plan_create"),
    path("templates/", views.template_list, name="plan_template_list"),
    path("templates/new/", views.template_create, name="plan_template_create"),
    path("templates/<str:public_id>/", views.template_detail, name="plan_template_detail"),
    path("templates/<str:public_id>/edit/", views.template_edit, name="plan_template_edit"),
    path("templates/<str:public_id>/delete/", views.template_delete, name="plan_template_delete"),
    path("templates/<str:public_id>/duplicate/", views.template_duplicate, name="plan_template_duplicate"),
    path("templates/<str:public_id>/activate/", views.template_activate, name="plan_template_activate"),
    path("templates/<str:public_id>/default/", views.template_make_default, name="plan_template_default"),
    path("templates/<str:public_id>/stages/add/", views.stage_add, name="plan_stage_template_add"),
    path("template-stages/<str:public_id>/edit/", views.stage_edit, name="plan_stage_template_edit"),
    path("template-stages/<str:public_id>/delete/", views.stage_delete, name="plan_stage_template_delete"),
    path("template-stages/<str:public_id>/move/", views.stage_move, name="plan_stage_template_move"),
    path("template-stages/<str:public_id>/tasks/add/", views.task_add, name="plan_task_template_add"),
    path("template-tasks/<str:public_id>/edit/", views.task_edit, name="plan_task_template_edit"),
    path("template-tasks/<str:public_id>/delete/", views.task_delete, name="plan_task_template_delete"),
    path("template-tasks/<str:public_id>/move/", views.task_move, name="plan_task_template_move"),
    path("tasks/<str:public_id>/tick/", views.plan_task_tick, name="plan_task_tick"),
    path("tasks/<str:public_id>/assign/", views.plan_task_assign, name="plan_task_assign"),
    path("stages/<str:public_id>/gate/", views.plan_stage_gate, name="plan_stage_gate"),
    path("<str:public_id>/", views.plan_detail, name="plan_detail"),
]
