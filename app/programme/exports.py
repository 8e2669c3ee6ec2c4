"""The funders' report as a workbook: the period's figures with their meanings, the funnel, engagements and
competence plans."""

from __future__ import annotations

from app.core.spreadsheets import Sheet, workbook_bytes
from app.programme.schemas import ProgrammeReport

_FIGURES = (
    "smes_engaged",
    "demonstrations_held",
    "pilots",
    "adoptions",
    "declined",
    "competence_plans",
    "training_planned",
    "training_done",
    "demo_days",
    "demo_day_pairs",
)


def report_xlsx(report: ProgrammeReport) -> bytes:
    fields = type(report).model_fields
    period = (
        f"{report.period.start.isoformat() if report.period.start else 'the beginning'} to "
        f"{report.period.end.isoformat() if report.period.end else 'now'}"
    )
    summary: list[tuple[object, ...]] = [
        ("period", period, "days counted in UTC, both ends included"),
        ("generated at (UTC)", report.generated_at, ""),
    ]
    summary += [(name, getattr(report, name), fields[name].description or "") for name in _FIGURES]
    return workbook_bytes(
        [
            Sheet(title="Summary", columns=("figure", "value", "meaning"), rows=summary, widths=(24, 22, 90)),
            Sheet(
                title="Funnel",
                columns=("step", "count", "share of the step before"),
                rows=[(step.stage, step.count, step.conversion) for step in report.funnel],
                widths=(16, 10, 26),
            ),
            Sheet(
                title="Engagements",
                columns=(
                    "id",
                    "SME",
                    "provider",
                    "offering",
                    "origin",
                    "stage",
                    "furthest stage",
                    "end reason",
                    "created (UTC)",
                    "stage since (UTC)",
                    "training items",
                    "training done",
                ),
                rows=[
                    (
                        row.id,
                        row.company,
                        row.provider,
                        row.technology,
                        row.origin,
                        row.stage,
                        row.furthest_stage,
                        row.end_reason,
                        row.created_at,
                        row.stage_changed_at,
                        row.training_items,
                        row.training_done,
                    )
                    for row in report.engagements
                ],
                widths=(6, 30, 30, 40, 10, 13, 14, 18, 18, 18, 8, 8),
            ),
            Sheet(
                title="Competence plans",
                columns=("engagement", "SME", "provider", "offering", "competence", "status", "planned on"),
                rows=[
                    (
                        row.engagement_id,
                        row.company,
                        row.provider,
                        row.technology,
                        row.competence,
                        row.status,
                        row.planned_on,
                    )
                    for row in report.competences
                ],
                widths=(10, 30, 30, 40, 36, 9, 12),
            ),
        ]
    )
