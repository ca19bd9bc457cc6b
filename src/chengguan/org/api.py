from django.http import HttpRequest
from ninja import Router, Schema

from chengguan.org.services import check_credentials, issue_token

router = Router(tags=["auth"])


class TokenIn(Schema):
    username: str
    password: str


class TokenOut(Schema):
    token: str
    username: str
    role: str


@router.post("/token", auth=None, response=TokenOut)
def create_token(request: HttpRequest, payload: TokenIn):
    user = check_credentials(request, payload.username, payload.password)
    return {"token": issue_token(user), "username": user.username, "role": user.role}
