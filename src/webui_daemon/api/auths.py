"""/api/v1/auths: signup, signin, signout, session, profile, password, admin add, API keys."""

from typing import TYPE_CHECKING

from fastapi import APIRouter, Request, Response

from webui_daemon.api.deps import AdminUser, AnyUser, ServicesDep, VerifiedUser, request_token
from webui_daemon.api.openapi import error_answers
from webui_daemon.schemas.auths import (
    AddUserForm,
    AddUserResponse,
    AdminConfig,
    ApiKey,
    SessionUserInfoResponse,
    SessionUserResponse,
    SigninForm,
    SignoutResponse,
    SignupForm,
    UpdatePasswordForm,
    UpdateProfileForm,
)
from webui_daemon.schemas.users import UserModel
from webui_daemon.services.accounts.mapping import user_model
from webui_daemon.storage.rows import UserRow

if TYPE_CHECKING:
    from webui_daemon.container import Services

router = APIRouter(prefix="/api/v1/auths", tags=["auths"])


async def _session(
    services: "Services", user: UserRow, response: Response, token: str | None = None
) -> SessionUserResponse:
    expires_at: int | None = None
    if token is None:
        issued = services.auth.issue(user)
        token, expires_at = issued.token, issued.expires_at
    response.set_cookie("token", token, httponly=True, samesite="lax")
    return SessionUserResponse(
        token=token,
        expires_at=expires_at,
        id=user.id,
        email=user.email,
        name=user.name,
        role=user.role,
        profile_image_url=user.profile_image_url,
        permissions=await services.auth.permissions(user),
        bio=user.bio,
        gender=user.gender,
        date_of_birth=user.date_of_birth,
    )


@router.get("/")
async def session_user(
    request: Request, response: Response, user: AnyUser, services: ServicesDep
) -> SessionUserInfoResponse:
    # A socket caller identified by uid sent no token: give it one, so it can use it elsewhere.
    session = await _session(services, user, response, request_token(request))
    return SessionUserInfoResponse(
        **session.model_dump(),
        status_emoji=user.status_emoji,
        status_message=user.status_message,
        status_expires_at=user.status_expires_at,
    )


@router.post("/signup", responses=error_answers(403))  # sign-up disabled
async def signup(
    form: SignupForm, response: Response, services: ServicesDep
) -> SessionUserResponse:
    user = await services.auth.signup(form.name, form.email, form.password, form.profile_image_url)
    return await _session(services, user, response)


@router.post("/signin", responses=error_answers(429))
async def signin(
    form: SigninForm, response: Response, services: ServicesDep
) -> SessionUserResponse:
    user = await services.auth.signin(form.email, form.password)
    return await _session(services, user, response)


# POST is 0.12's method, GET is 0.6's: both are served, with distinct OpenAPI operation ids.
@router.post("/signout")
@router.get("/signout", operation_id="signout_get")
async def signout(request: Request, response: Response, services: ServicesDep) -> SignoutResponse:
    await services.auth.signout(request_token(request))
    response.delete_cookie("token")
    return SignoutResponse(status=True)


@router.post("/update/profile")
async def update_profile(
    form: UpdateProfileForm, user: VerifiedUser, services: ServicesDep
) -> UserModel:
    fields = form.model_dump(exclude_unset=True)
    return user_model(await services.auth.update_profile(user, **fields))


@router.post("/update/password")
async def update_password(
    form: UpdatePasswordForm, user: VerifiedUser, services: ServicesDep
) -> bool:
    await services.auth.update_password(user, form.password, form.new_password)
    return True


@router.post("/add")
async def add_user(form: AddUserForm, _: AdminUser, services: ServicesDep) -> AddUserResponse:
    user = await services.auth.add_user(
        form.name, form.email, form.password, form.role or "pending", form.profile_image_url
    )
    issued = services.auth.issue(user)
    return AddUserResponse(
        id=user.id,
        email=user.email,
        name=user.name,
        role=user.role,
        profile_image_url=user.profile_image_url,
        token=issued.token,
    )


@router.get("/admin/config")
async def get_admin_config(_: AdminUser, services: ServicesDep) -> AdminConfig:
    return services.auth.admin_config()


@router.post("/admin/config")
async def update_admin_config(
    form: AdminConfig, _: AdminUser, services: ServicesDep
) -> AdminConfig:
    return await services.auth.update_admin_config(form)


@router.post("/api_key")
async def create_api_key(user: AnyUser, services: ServicesDep) -> ApiKey:
    return ApiKey(api_key=await services.auth.create_api_key(user))


@router.get("/api_key", responses=error_answers(404))
async def get_api_key(user: AnyUser, services: ServicesDep) -> ApiKey:
    return ApiKey(api_key=await services.auth.get_api_key(user))


@router.delete("/api_key")
async def delete_api_key(user: AnyUser, services: ServicesDep) -> bool:
    return await services.auth.delete_api_key(user)
