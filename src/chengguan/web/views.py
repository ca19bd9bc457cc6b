"""The shell's pages: the landing page, sign-in and sign-out, and each role's way home."""

from django.contrib.auth import views as auth_views
from django.shortcuts import redirect, render

from chengguan.cases.models import Case
from chengguan.geo.models import City, Grid
from chengguan.org.services import is_throttled
from chengguan.ratelimit import client_address
from chengguan.web.roles import home_for


def home(request):
    if request.user.is_authenticated:
        return redirect(home_for(request.user))
    return render(request, "web/home.html", {
        "cities": City.objects.count(),
        "grids": Grid.objects.count(),
        "open_cases": Case.objects.filter(is_open__isnull=False).count(),
    })


class LoginView(auth_views.LoginView):
    template_name = "registration/login.html"
    redirect_authenticated_user = True

    def get_default_redirect_url(self):
        return home_for(self.request.user)

    def form_invalid(self, form):
        username = self.request.POST.get("username", "")
        throttled = bool(username) and is_throttled(username, client_address(self.request))
        return self.render_to_response(self.get_context_data(form=form, throttled=throttled), status=400)


class LogoutView(auth_views.LogoutView):
    next_page = "/login/"


def healthz(request):
    """For load balancers and monitors: 200 when the database answers, 503 when it does not."""
    from django.db import connection
    from django.http import JsonResponse

    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception:
        return JsonResponse({"status": "unavailable", "database": False}, status=503)
    return JsonResponse({"status": "ok", "database": True})
