from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm
from django.contrib.auth.forms import UserChangeForm as DjangoUserChangeForm

from chengguan.org.auth import forget_token
from chengguan.org.models import ApiToken, Department, LoginFailure, User


class ChildDepartmentInline(admin.TabularInline):
    model = Department
    fk_name = "parent"
    fields = ("code", "name", "name_en", "active")
    extra = 0
    show_change_link = True
    verbose_name = verbose_name_plural = "下级部门"


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin):
    list_display = ("code", "tree_name", "name_en", "parent", "city", "region_name", "active")
    list_filter = ("city", "active", ("parent", admin.RelatedOnlyFieldListFilter))
    search_fields = ("code", "name", "name_en")
    ordering = ("code",)
    autocomplete_fields = ("parent",)
    raw_id_fields = ("region",)
    inlines = [ChildDepartmentInline]

    def get_queryset(self, request):
        return (
            super().get_queryset(request).select_related("parent__parent", "city", "region").defer("region__geometry")
        )

    @admin.display(description="名称", ordering="name")
    def tree_name(self, obj: Department) -> str:
        depth, node = 0, obj.parent
        while node is not None and depth < 8:
            depth += 1
            node = node.parent if node.parent_id else None
        return f"{'　' * depth}{'└ ' if depth else ''}{obj.name}"

    @admin.display(description="属地区域", ordering="region__name")
    def region_name(self, obj: Department) -> str:
        return obj.region.name if obj.region_id else ""


class UserCreationForm(AdminUserCreationForm):
    class Meta(AdminUserCreationForm.Meta):
        model = User


class UserChangeForm(DjangoUserChangeForm):
    class Meta(DjangoUserChangeForm.Meta):
        model = User


ROLE_FIELDS = ("role", "city", "department", "display_name", "phone")


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    form = UserChangeForm
    add_form = UserCreationForm
    list_display = ("username", "display_name", "role", "department", "city", "is_active", "is_staff")
    list_filter = ("role", "city", "is_active", "is_staff", "is_superuser")
    list_select_related = ("department", "city")
    search_fields = ("username", "display_name", "phone", "email", "department__name")
    autocomplete_fields = ("department",)
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        ("城管角色", {"fields": ROLE_FIELDS}),
        ("个人信息", {"fields": ("first_name", "last_name", "email")}),
        ("权限", {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")}),
        ("重要日期", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (None, {"classes": ("wide",), "fields": ("username", "usable_password", "password1", "password2")}),
        ("城管角色", {"classes": ("wide",), "fields": ROLE_FIELDS}),
    )


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ApiToken)
class ApiTokenAdmin(ReadOnlyAdmin):
    list_display = ("user", "created_at", "expires_at", "last_used_at", "revoked")
    list_filter = ("revoked",)
    list_select_related = ("user",)
    search_fields = ("user__username", "user__display_name")
    fields = ("user", "created_at", "expires_at", "last_used_at", "revoked")
    readonly_fields = fields
    actions = ["revoke"]

    @admin.action(description="吊销所选令牌 · revoke the selected tokens")
    def revoke(self, request, queryset):
        digests = list(queryset.filter(revoked=False).values_list("digest", flat=True))
        count = queryset.filter(revoked=False).update(revoked=True)
        for digest in digests:
            forget_token(digest)
        self.message_user(request, f"已吊销 {count} 个令牌 · {count} token(s) revoked", messages.SUCCESS)


@admin.register(LoginFailure)
class LoginFailureAdmin(ReadOnlyAdmin):
    list_display = ("username", "address", "at")
    list_filter = ("at",)
    search_fields = ("username", "address")
    date_hierarchy = "at"
    fields = ("username", "address", "at")
    readonly_fields = fields
