from chengguan.web.roles import nav_for


def navigation(request):
    user = getattr(request, "user", None)
    return {"nav": nav_for(user) if user is not None else []}
