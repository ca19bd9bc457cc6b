"""Open311 in the admin: keys are issued and revoked here; what clients sent is read-only."""

from django.contrib import admin, messages

from chengguan.open311 import services
from chengguan.open311.models import ApiKey, Open311Request, ReceivedUpdate


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = ("name", "key", "rate_per_minute", "created_at", "last_used_at", "revoked_at")
    list_filter = (("revoked_at", admin.EmptyFieldListFilter),)
    search_fields = ("name", "contact", "key")
    readonly_fields = ("created_at", "last_used_at", "revoked_at")
    fields = ("name", "contact", "key", "rate_per_minute", "note", "created_at", "last_used_at", "revoked_at")
    actions = ["revoke"]

    def get_readonly_fields(self, request, obj=None):
        # A key's value is chosen once, when it is issued (a random one is filled in).
        return (*self.readonly_fields, "key") if obj is not None else self.readonly_fields

    def has_delete_permission(self, request, obj=None):
        return False  # revoke instead: the requests a key posted keep pointing at it

    @admin.action(description="吊销所选密钥")
    def revoke(self, request, queryset):
        count = 0
        for api_key in queryset.filter(revoked_at__isnull=True):
            services.revoke_key(api_key)
            count += 1
        self.message_user(request, f"已吊销 {count} 个密钥", messages.SUCCESS)


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Open311Request)
class Open311RequestAdmin(ReadOnlyAdmin):
    list_display = ("case", "api_key", "received_at", "token")
    list_filter = ("api_key",)
    search_fields = ("case__number", "token")
    raw_id_fields = ("case",)


@admin.register(ReceivedUpdate)
class ReceivedUpdateAdmin(ReadOnlyAdmin):
    list_display = ("case", "external_id", "status", "api_key", "updated_at", "received_at")
    list_filter = ("api_key", "status")
    search_fields = ("case__number", "external_id", "description")
    raw_id_fields = ("case",)
