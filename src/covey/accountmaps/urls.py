from __future__ import annotations

from django.urls import path

from covey.accountmaps import views

urlpatterns = [
    path("mapping/", views.home, name="mapping_home"),
    path("mapping/lists/new/", views.list_upload, name="mapping_list_upload"),
    path("mapping/ours/rebuild/", views.our_list_rebuild, name="mapping_our_list_rebuild"),
    path("mapping/lists/<str:public_id>/", views.list_detail, name="mapping_list_detail"),
    path("mapping/lists/<str:public_id>/refresh/", views.list_refresh, name="mapping_list_refresh"),
    path("mapping/lists/<str:public_id>/columns/", views.list_columns, name="mapping_list_columns"),
    path("mapping/lists/<str:public_id>/populations/", views.population_create, name="mapping_population_create"),
    path("mapping/lists/<str:public_id>/runs/", views.run_start, name="mapping_run_start"),
    path("mapping/lists/<str:public_id>/run/", views.run_status, name="mapping_run_status"),
    path("mapping/lists/<str:public_id>/matrix/", views.matrix, name="mapping_matrix"),
    path("mapping/lists/<str:public_id>/overlaps/", views.overlaps, name="mapping_overlaps"),
    path("mapping/lists/<str:public_id>/overlaps.csv", views.overlaps_export, name="mapping_overlaps_export"),
    path("mapping/lists/<str:public_id>/targets/", views.targets, name="mapping_targets"),
    path("mapping/lists/<str:public_id>/populations/<str:population_id>/records/", views.population_records,
         name="mapping_population_records"),
    path("mapping/populations/<str:public_id>/delete/", views.population_delete, name="mapping_population_delete"),
    path("mapping/populations/<str:public_id>/sharing/", views.sharing_set, name="mapping_sharing_set"),
    path("mapping/overlaps/<str:public_id>/plan/", views.pair_plan, name="mapping_pair_plan"),
    path("mapping/overlaps/<str:public_id>/introduce/", views.pair_introduce, name="mapping_pair_introduce"),
]
