from django.shortcuts import render

from chengguan.cases.models import Case
from chengguan.cases.workflow import OPEN_STATES
from chengguan.geo.models import City, Grid


def home(request):
    return render(request, "web/home.html", {
        "cities": City.objects.count(),
        "grids": Grid.objects.count(),
        "open_cases": Case.objects.filter(state__in=OPEN_STATES).count(),
    })
