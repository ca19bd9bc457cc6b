from django.apps import AppConfig


class GeoConfig(AppConfig):
    name = "chengguan.geo"
    verbose_name = "地理网格"
