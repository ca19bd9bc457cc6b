"""Cases in the admin: readable, searchable, never edited by hand — state moves only through services."""

from django.contrib import admin

from chengguan.cases.models import Attachment, Case, Event, StageClock, Task, TaskRequest


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class TaskInline(ReadOnlyInline):
    model = Task
    fields = ("seq", "department", "status", "dispatched_at", "due_at", "signed_at", "feedback_at", "handled_at",
              "on_time", "reworks", "extended_minutes", "suspended_minutes", "returned")
    readonly_fields = fields
    verbose_name = verbose_name_plural = "派遣任务"


class ClockInline(ReadOnlyInline):
    model = StageClock
    fields = ("stage", "assignee", "started_at", "limit_minutes", "working_time", "due_at", "paused_at", "ended_at",
              "on_time")
    readonly_fields = fields
    verbose_name = verbose_name_plural = "阶段时钟"


class EventInline(ReadOnlyInline):
    model = Event
    fields = ("at", "operation", "from_state", "to_state", "actor", "note", "was_late")
    readonly_fields = fields
    verbose_name = verbose_name_plural = "操作记录"


class AttachmentInline(ReadOnlyInline):
    model = Attachment
    fields = ("stage", "content_type", "width", "height", "created_at", "uploaded_by")
    readonly_fields = fields
    verbose_name = verbose_name_plural = "照片"


STATE_FIELDS = (
    "number", "city", "version", "state", "state_before_suspension", "source", "reported_at", "verified_at",
    "registered_at", "dispatched_at", "handled_at", "checked_at", "closed_at", "department", "suggested_department",
    "rework_count", "return_count", "extension_count", "stage", "stage_due_at", "stage_yellow_at",
    "calendar_warning", "duplicate_of", "supervised", "priority", "end_reason", "rating", "rating_comment",
    "rated_at", "client_uuid", "reporter", "small_class", "class_code", "grid", "grid_code", "community_code",
    "street_code", "district_code", "lon", "lat", "urgency", "area_class", "filing_condition", "address",
    "description", "component_code", "self_handled", "reporter_name", "reporter_phone",
)


@admin.register(Case)
class CaseAdmin(admin.ModelAdmin):
    list_display = ("number", "state", "source", "class_code", "street_code", "department", "reported_at",
                    "supervised")
    list_filter = ("state", "source", "supervised", "urgency", "city")
    search_fields = ("number", "address", "description")
    date_hierarchy = "reported_at"
    readonly_fields = STATE_FIELDS
    fields = STATE_FIELDS
    inlines = [ClockInline, TaskInline, EventInline, AttachmentInline]
    list_select_related = ("department",)
    show_full_result_count = False  # no exact counts over millions of rows

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(TaskRequest)
class TaskRequestAdmin(admin.ModelAdmin):
    list_display = ("task", "kind", "minutes", "reason", "requested_at", "approved", "decided_at")
    list_filter = ("kind", "approved")
    readonly_fields = ("task", "kind", "minutes", "reason", "requested_at", "requested_by", "approved",
                       "granted_minutes", "decided_at", "decided_by")

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
