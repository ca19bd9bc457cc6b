from ninja import Router

router = Router(tags=["cases"])
public_router = Router(tags=["public"], auth=None)
