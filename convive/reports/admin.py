"""Reports in the admin site: the catalogue and its routing rules are edited here; reports are not.

Categories, questions, routing rules and reporting restrictions are configuration, audited like
every admin change. Reports are only listed here, without anything that identifies the person:
staff read and handle them in the inbox, where every look and every step is recorded.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from convive.core.admin import AuditedModelAdmin, admin_site
from convive.reports.iccs import ICCS
from convive.reports.models import (
    ApiKey,
    Category,
    Question,
    Report,
    ReportingRestriction,
    RoutingRule,
)


class QuestionInline(admin.StackedInline):
    model = Question
    extra = 0
    fields = [
        ("code", "datatype", "required", "order"),
        ("label_es", "label_en"),
        ("help_es", "help_en"),
        "values",
    ]

    # The admin site's rule (platform administrators) decides, as for the category itself.
    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:  # noqa: ANN001
        return True

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:  # noqa: ANN001
        return True

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:  # noqa: ANN001
        return True

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:  # noqa: ANN001
        return True


class CategoryForm(forms.ModelForm):
    """The admin builds the form's fields from its fieldsets; this adds the ICCS check."""

    def clean_iccs_code(self) -> str:
        code = self.cleaned_data["iccs_code"].strip()
        if code and code not in ICCS:
            raise forms.ValidationError(_("“%(code)s” is not an ICCS code.") % {"code": code})
        return code


@admin.register(Category, site=admin_site)
class CategoryAdmin(AuditedModelAdmin):
    form = CategoryForm
    list_display = ["name_es", "name_en", "code", "kind", "iccs_code", "urgent", "publication"]
    list_display += ["order", "active"]
    list_filter = ["kind", "urgent", "publication", "active"]
    search_fields = ["code", "name_es", "name_en", "keywords"]
    ordering = ["kind", "order", "name_es"]
    inlines = [QuestionInline]
    fieldsets = (
        (None, {"fields": ("code", "kind", "active", "order", "urgent", "publication")}),
        (_("Names"), {"fields": (("name_es", "name_en"), ("group_es", "group_en"), "keywords")}),
        (_("Descriptions"), {"fields": ("description_es", "description_en")}),
        (_("Notice shown first"), {"fields": ("notice_es", "notice_en")}),
        (_("Classification"), {"fields": ("iccs_code",)}),
    )

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:  # noqa: ANN001
        return False  # reports point at their category: deactivate it instead


class RoutingRuleForm(forms.ModelForm):
    """The admin builds the form's fields; this keeps a rule inside one city."""

    def clean(self) -> dict:
        data = super().clean()
        city = data.get("city")
        territory, institution = data.get("territory"), data.get("institution")
        if city and territory and territory.city_id != city.pk:
            self.add_error("territory", _("The territory is not in this city."))
        if city and institution and institution.city_id != city.pk:
            self.add_error("institution", _("The institution is not in this city."))
        return data


@admin.register(RoutingRule, site=admin_site)
class RoutingRuleAdmin(AuditedModelAdmin):
    form = RoutingRuleForm
    list_display = ["category", "territory", "institution", "priority", "city"]
    list_filter = ["city", "category__kind", "category"]
    search_fields = ["category__name_es", "category__code", "territory__name", "institution__name"]
    list_select_related = ["category", "territory", "institution", "city"]
    autocomplete_fields = ["category", "territory", "institution"]


@admin.register(Report, site=admin_site)
class ReportAdmin(AuditedModelAdmin):
    """Read only, and without personal data: handling a report happens in the inbox."""

    list_display = ["__str__", "status", "is_urgent", "institution", "locality", "created_at"]
    list_display += ["is_hidden", "inbox_link"]
    list_filter = ["status", "is_urgent", "is_hidden", "channel", "category", "city"]
    search_fields = ["tracking_code"]
    list_select_related = ["category", "institution", "locality"]
    date_hierarchy = "created_at"
    fields = [
        "inbox_link",
        "tracking_code",
        "city",
        "category",
        "status",
        "is_urgent",
        "channel",
        "institution",
        "routing_note",
        "locality",
        "neighbourhood",
        "supporters_count",
        "is_hidden",
        "hidden_reason",
        "created_at",
        "updated_at",
        "closed_at",
    ]
    readonly_fields = fields

    @admin.display(description=_("Inbox"))
    def inbox_link(self, obj: Report) -> str:
        url = reverse("inbox:detail", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, _("Open in the inbox"))

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # reports come from citizens, through the site, the app or Open311

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:  # noqa: ANN001
        return False  # status, replies and moderation are inbox actions, with their timeline

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:  # noqa: ANN001
        return False  # reports are hidden, never deleted


@admin.register(ReportingRestriction, site=admin_site)
class ReportingRestrictionAdmin(AuditedModelAdmin):
    """Restrictions are made in the inbox; here they can be shortened or lifted (audited)."""

    list_display = ["user", "until", "reason", "created_by", "created_at"]
    search_fields = ["user__username", "reason"]
    list_select_related = ["user", "created_by"]
    autocomplete_fields = ["user"]
    readonly_fields = ["created_by", "created_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # restrict from a report in the inbox, so the reason is tied to it


# --- Open311 API keys ---------------------------------------------------------------------------


@admin.register(ApiKey, site=admin_site)
class ApiKeyAdmin(AuditedModelAdmin):
    """Open311 keys: created with ``convive create_api_key NAME`` (which shows the key once),
    revoked here. Never deleted: the reports made with a key keep pointing at it."""

    list_display = ["name", "prefix", "active", "created_at", "revoked_at"]
    list_filter = ["active"]
    search_fields = ["name", "prefix"]
    fields = ["name", "prefix", "active", "created_at", "revoked_at"]
    readonly_fields = ["prefix", "active", "created_at", "revoked_at"]
    actions = ["revoke"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # a key is shown once, by the command that creates it

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:  # noqa: ANN001
        return False

    @admin.action(description=_("Revoke the selected keys"))
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiKey]) -> None:
        from convive.open311.actions import check_revoke_api_key

        revoked = 0
        for pk in queryset.filter(active=True).values_list("pk", flat=True):
            with transaction.atomic():
                api_key = ApiKey.objects.select_for_update().filter(pk=pk, active=True).first()
                if api_key is not None:
                    check_revoke_api_key(request.user, api_key, reason="admin")
                    revoked += 1
        self.message_user(
            request,
            ngettext("%(count)d key revoked.", "%(count)d keys revoked.", revoked)
            % {"count": revoked},
            messages.SUCCESS,
        )
