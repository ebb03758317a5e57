"""Answers to a category's extra questions, checked against their datatype (Open311 attributes)."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from convive.core.errors import ActionError
from convive.reports.models import Category, Question

MAX_ANSWER = 1000


LINE_BREAKS = re.compile(r"\s*[\r\n]+\s*")


def _blank(value: Any) -> bool:
    return value is None or value == [] or (isinstance(value, str) and not value.strip())


def _one(question: Question, value: Any) -> Any:
    kind = question.datatype
    if kind == Question.Datatype.MULTI:
        # A list, or the comma form ("a,b") of Open311 clients; each key once, in order.
        given = value if isinstance(value, list) else str(value).split(",")
        values = list(dict.fromkeys(str(v).strip() for v in given if str(v).strip()))
        keys = {option["key"] for option in question.values}
        if any(v not in keys for v in values):
            raise ActionError(
                _("“%(q)s”: choose from the list.") % {"q": question.label},
                field=f"attribute[{question.code}]",
            )
        return values
    if isinstance(value, list | dict):  # str() would store "['a']"
        raise ActionError(
            _("“%(q)s” takes one answer.") % {"q": question.label},
            field=f"attribute[{question.code}]",
        )
    text = str(value).strip()
    if kind == Question.Datatype.SINGLE:
        if text not in {option["key"] for option in question.values}:
            raise ActionError(
                _("“%(q)s”: choose from the list.") % {"q": question.label},
                field=f"attribute[{question.code}]",
            )
        return text
    if kind == Question.Datatype.NUMBER:
        try:
            number = float(text)
        except ValueError:
            number = math.nan
        if not math.isfinite(number):  # NaN and infinity are not JSON: the database refuses them
            raise ActionError(
                _("“%(q)s” must be a number.") % {"q": question.label},
                field=f"attribute[{question.code}]",
            )
        return int(number) if number.is_integer() else number
    if kind == Question.Datatype.DATETIME:
        try:
            moment = parse_datetime(text)
        except ValueError:  # well formed but impossible: 2024-02-30, 25:00
            moment = None
        if not isinstance(moment, datetime):
            raise ActionError(
                _("“%(q)s” must be a date and time (ISO 8601).") % {"q": question.label},
                field=f"attribute[{question.code}]",
            )
        if timezone.is_naive(moment):  # a citizen gives local time: the city's time zone
            moment = timezone.make_aware(moment)
        return moment.isoformat()
    if kind == Question.Datatype.STRING:  # one line (Open311: "without line breaks")
        text = LINE_BREAKS.sub(" ", text)
    if len(text) > MAX_ANSWER:
        raise ActionError(
            _("“%(q)s” is too long.") % {"q": question.label}, field=f"attribute[{question.code}]"
        )
    return text


def check_answers(
    category: Category,
    answers: dict[str, Any],
    *,
    questions: Sequence[Question] | None = None,
) -> dict[str, Any]:
    """The answers keyed by question code; unknown codes are refused, required ones enforced.

    ``questions``: the category's, in (order, pk) order, when the caller has them (the intake's
    catalogue copy); read otherwise."""
    if questions is None:
        # The model's ordering starts with the category, which joins its table for nothing here.
        questions = category.questions.order_by("order", "pk")
    by_code = {q.code: q for q in questions}
    unknown = sorted(set(answers) - set(by_code))
    if unknown:
        raise ActionError(
            _("Unknown question “%(code)s” for this category.") % {"code": unknown[0]},
            field=f"attribute[{unknown[0]}]",
        )
    clean: dict[str, Any] = {}
    for code, question in by_code.items():
        value = answers.get(code)
        value = None if _blank(value) else _one(question, value)
        if _blank(value):  # nothing, or only spaces and commas
            if question.required:
                raise ActionError(
                    _("“%(q)s” is required.") % {"q": question.label}, field=f"attribute[{code}]"
                )
            continue
        clean[code] = value
    return clean
