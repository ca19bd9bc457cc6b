"""A realistic daily bulletin: Chinese names, rates that do not apply, and enough rows to break a page."""

from __future__ import annotations

STREETS = [
    "富春街道",
    "春江街道",
    "东洲街道",
    "银湖街道",
    "鹿山街道",
    "新登镇",
    "场口镇",
    "常安镇",
    "万市镇",
    "洞桥镇",
    "胥口镇",
    "新桐乡",
    "灵桥镇",
    "里山镇",
    "渌渚镇",
    "大源镇",
    "常绿镇",
    "上官乡",
    "环山乡",
    "湖源乡",
    "春建乡",
    "永昌镇",
    "龙门镇",
    "高桥镇",
]
GRADES = "ABCDE"


def department_rows(n: int = 40) -> list[dict]:
    rows = []
    for i in range(n):
        due = 0 if i % 13 == 7 else 20 + (i * 7) % 31
        done = None if due == 0 else min(due, 15 + (i * 5) % 17) / due
        on_time = None if due == 0 else max(0.0, (done or 0) - 0.05 * (i % 4))
        score = None if due == 0 else round(100 - i * 1.6, 1)
        grade = None if score is None else GRADES[min(4, max(0, (100 - int(score)) // 12))]
        rows.append(
            {
                "rank": i + 1,
                "name": f"{STREETS[i % len(STREETS)]}第{i // len(STREETS) + 1}城管中队",
                "due": due,
                "done_rate": done,
                "on_time_rate": on_time,
                "score": score,
                "grade": grade,
                "_link": f"/cases/?department=D{i:04d}",
            }
        )
    # A name someone typed with markup in it must come out as text.
    rows[2]["name"] = "<b>环卫</b>处 & 市政所"
    return rows


def sample_document() -> dict:
    overdue = [
        {
            "number": f"20261124{i:05d}",
            "class_name": ["暴露垃圾", "占道经营", "井盖破损", "乱张贴"][i % 4],
            "department": ["城管局", "住建局", "交通局"][i % 3],
            "due_at": f"2026-11-24T{9 + i % 8:02d}:30:00+08:00",
            "light": ["red", "yellow", "green"][i % 3],
            "_link": f"/cases/20261124{i:05d}/",
        }
        for i in range(9)
    ]
    columns = [
        {"key": "number", "label": "案件编号", "label_en": "Case", "format": "text"},
        {"key": "class_name", "label": "问题类别", "label_en": "Problem", "format": "text"},
        {"key": "department", "label": "责任部门", "label_en": "Department", "format": "text"},
        {"key": "due_at", "label": "处置时限", "label_en": "Due", "format": "datetime"},
        {"key": "light", "label": "灯", "label_en": "Light", "format": "light"},
    ]
    return {
        "kind": "daily",
        "title": "富阳区数字城管每日通报",
        "title_en": "Fuyang digital city management daily bulletin",
        "subtitle": "2026年11月25日",
        "city": "富阳区",
        "generated_at": "2026-11-25T07:30:00+08:00",
        "as_of": "2026-11-25T00:00:00+08:00",
        "config_version": 3,
        "summary": [
            {"label": "受理", "label_en": "Received", "value": 123, "format": "int", "delta": -0.05},
            {"label": "立案", "label_en": "Registered", "value": 98, "format": "int", "delta": 0.12},
            {"label": "结案", "label_en": "Closed", "value": 87, "format": "int", "delta": None},
            {"label": "按期处置率", "label_en": "Handled on time", "value": 0.914, "format": "rate", "delta": 0.021},
            {"label": "公众举报率", "label_en": "Public reports", "value": None, "format": "rate", "delta": None},
            {"label": "综合指标值", "label_en": "Composite", "value": 88.46, "format": "score", "delta": None},
        ],
        "sections": [
            {
                "heading": "各部门处置情况",
                "heading_en": "Departments",
                "paragraphs": [
                    "昨日全区各部门应处置案件 1,024 件，按期处置率 91.4%，较前日上升 2.1 个百分点。",
                    "新桐乡第1城管中队无应处置案件，处置率不适用。",
                ],
                "table": {
                    "columns": [
                        {"key": "rank", "label": "排名", "label_en": "Rank", "format": "int"},
                        {"key": "name", "label": "部门", "label_en": "Department", "format": "text"},
                        {"key": "due", "label": "应处置数", "label_en": "Due", "format": "int"},
                        {"key": "done_rate", "label": "处置率", "label_en": "Handled", "format": "rate"},
                        {"key": "on_time_rate", "label": "按期处置率", "label_en": "On time", "format": "rate"},
                        {"key": "score", "label": "综合指标值", "label_en": "Score", "format": "score"},
                        {"key": "grade", "label": "等级", "label_en": "Grade", "format": "grade"},
                    ],
                    "rows": department_rows(40),
                    "totals": {"name": "合计", "due": 1024, "done_rate": 0.951, "on_time_rate": 0.914, "score": 88.5},
                    "notes": ["核减 2 件：春江街道 2026112400031 不可抗力（暴雨），经区指挥中心批准。"],
                },
                "chart": {
                    "type": "bar",
                    "title": "各街道按期处置率",
                    "format": "rate",
                    "categories": STREETS[:8],
                    "series": [
                        {"name": "按期处置率", "values": [0.95, 0.91, None, 0.88, 0.97, 0.72, 0.81, 0.9]},
                        {"name": "处置率", "values": [0.98, 0.96, None, 0.93, 1.0, 0.85, 0.9, 0.94]},
                    ],
                },
            },
            {
                "heading": "超期与临期案件",
                "heading_en": "Overdue and near the limit",
                "groups": [
                    {
                        "heading": "城管局 (3)",
                        "heading_en": "Urban management (3)",
                        "table": {"columns": columns, "rows": overdue[0::3]},
                    },
                    {
                        "heading": "住建局 (3)",
                        "heading_en": "Housing (3)",
                        "table": {"columns": columns, "rows": overdue[1::3]},
                    },
                    {
                        "heading": "交通局 (3)",
                        "heading_en": "Transport (3)",
                        "table": {"columns": columns, "rows": overdue[2::3]},
                    },
                ],
            },
            {
                "heading": "近七日趋势",
                "heading_en": "Last seven days",
                "paragraphs": ["近七日受理量平稳，周末略有回落。"],
                "chart": {
                    "type": "line",
                    "title": "每日受理与结案",
                    "unit": "件",
                    "categories": ["11-18", "11-19", "11-20", "11-21", "11-22", "11-23", "11-24"],
                    "series": [
                        {"name": "受理", "values": [110, 131, 125, 140, 96, 88, 123]},
                        {"name": "结案", "values": [95, 120, None, 118, 90, 80, 87]},
                    ],
                },
            },
            {
                "heading": "高发问题",
                "heading_en": "Top problems",
                "chart": {
                    "type": "hbar",
                    "title": "昨日高发问题 Top 5",
                    "unit": "件",
                    "categories": ["暴露垃圾", "占道经营", "乱张贴", "井盖破损", "违章停车"],
                    "series": [{"name": "案件数", "values": [42, 31, 18, 9, 7]}],
                },
            },
        ],
    }
