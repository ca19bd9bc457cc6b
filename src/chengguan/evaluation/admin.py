"""Evaluation in the admin: configuration is added as new versions, never edited; appeals and
publications are read here and decided or published through the evaluation pages and API."""

from django import forms
from django.contrib import admin

from chengguan.errors import DomainError
from chengguan.evaluation.models import Appeal, EvaluationConfig, Publication
from chengguan.evaluation.services import current_config, forget_light_threshold, validate_config


class ConfigForm(forms.ModelForm):
    weights = forms.JSONField(
        label="权重（每类对象：[指标, 权重, 是否反向]，合计 100）",
        widget=forms.Textarea(attrs={"rows": 18, "cols": 90}),
    )
    grades = forms.JSONField(label="等级分界（[等级, 最低分]，从高到低）", widget=forms.Textarea(attrs={"rows": 4}))

    class Meta:
        model = EvaluationConfig
        fields = ("weights", "grades", "yellow_fraction", "note")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.instance.pk and not self.is_bound:
            config = current_config()
            self.initial.update(
                weights={k: [list(t) for t in v] for k, v in config.weights.items()},
                grades=[list(b) for b in config.grades],
                yellow_fraction=config.yellow_fraction,
            )

    def clean(self):
        data = super().clean()
        try:
            validate_config(data.get("weights") or {}, data.get("grades") or [], data.get("yellow_fraction") or 0)
        except DomainError as exc:
            raise forms.ValidationError(f"{exc.zh}（{exc.en}）") from None
        return data


@admin.register(EvaluationConfig)
class EvaluationConfigAdmin(admin.ModelAdmin):
    form = ConfigForm
    list_display = ("version", "note", "yellow_fraction", "created_at", "created_by")

    def get_readonly_fields(self, request, obj=None):
        # A saved version is history: shown, never changed.
        if obj is not None:
            return ("version", "weights", "grades", "yellow_fraction", "note", "created_at", "created_by")
        return ()

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("weights", "grades", "yellow_fraction", "note")
        return self.get_readonly_fields(request, obj)

    def save_model(self, request, obj, form, change):
        if change:
            return
        obj.created_by = request.user
        super().save_model(request, obj, form, change)
        forget_light_threshold()

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Appeal)
class AppealAdmin(admin.ModelAdmin):
    list_display = ("task", "department", "status", "reason", "submitted_at", "decided_by", "decided_at")
    list_filter = ("status", "department")
    search_fields = ("task__case__number", "reason")
    readonly_fields = [f.name for f in Appeal._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Publication)
class PublicationAdmin(admin.ModelAdmin):
    list_display = ("subject", "level", "period", "version", "as_of", "config_version", "reason", "published_at",
                    "published_by", "checksum")
    list_filter = ("subject", "period")
    readonly_fields = [f.name for f in Publication._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

