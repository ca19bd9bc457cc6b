from django.contrib import admin

from chengguan.notify.models import Contact, Outbox, Reminder


@admin.register(Outbox)
class OutboxAdmin(admin.ModelAdmin):
    list_display = ("id", "created_at", "audience", "channel", "recipient", "subject", "status", "attempts", "sent_at")
    list_filter = ("status", "channel", "audience")
    search_fields = ("recipient", "subject", "case__number")
    readonly_fields = [f.name for f in Outbox._meta.fields]
    actions = ["send_again"]

    @admin.action(description="重新发送 / send again")
    def send_again(self, request, queryset):
        from django.utils import timezone

        queryset.exclude(status=Outbox.Status.SENDING).update(
            status=Outbox.Status.PENDING, attempts=0, next_attempt_at=timezone.now()
        )

    def has_add_permission(self, request):
        return False


@admin.register(Reminder)
class ReminderAdmin(admin.ModelAdmin):
    list_display = ("task", "colour", "created_at")
    list_filter = ("colour",)
    readonly_fields = ("task", "colour", "created_at", "event")

    def has_add_permission(self, request):
        return False


@admin.register(Contact)
class ContactAdmin(admin.ModelAdmin):
    list_display = ("case", "phone", "email", "language", "created_at")
    search_fields = ("case__number", "phone_key", "email")
    readonly_fields = ("case", "created_at")
