"""The bulletin page: the same document as the downloads, escaped, with its charts handed to ECharts."""

from __future__ import annotations

import json
import re

from django.contrib.auth.models import AnonymousUser
from django.contrib.staticfiles import finders
from django.test import RequestFactory

from chengguan.evaluation.render import render_html, render_page

from .sample import sample_document


def _request(language: str = "zh-hans"):
    request = RequestFactory().get("/evaluation/bulletins/daily/")
    request.user = AnonymousUser()
    request.LANGUAGE_CODE = language
    return request


def _charts(html: str) -> dict:
    found = re.search(r'<script id="bulletin-charts" type="application/json">(.*?)</script>', html, re.S)
    assert found, "chart data block missing"
    return json.loads(found.group(1))


def test_it_renders_the_document_with_titles_figures_and_tables():
    html = render_html(sample_document(), downloads={"xlsx": "/b/daily.xlsx", "pdf": "/b/daily.pdf"})
    assert "<h1>富阳区数字城管每日通报</h1>" in html
    assert "数据截至 2026-11-25 00:00" in html and "配置版本 3" in html
    assert '<b class="bl-kpi-value">91.4%</b>' in html
    assert "▲ 2.1 个百分点" in html
    assert '<a class="button" href="/b/daily.xlsx" data-download="xlsx">下载 Excel</a>' in html
    assert '<a class="button" href="/b/daily.pdf" data-download="pdf">下载 PDF</a>' in html
    assert html.count("<tr>") >= 40 + 9
    assert '<td class="grade grade-A">A</td>' in html
    assert '<td class="light-cell light-cell-red">红灯</td>' in html
    assert "<h3>城管局 (3)</h3>" in html
    assert "注：核减 2 件" in html
    assert "生成于 2026-11-25 07:30 · 配置版本 3" in html


def test_it_shows_rates_that_do_not_apply_as_a_dash():
    html = render_html(sample_document())
    row = re.search(r"<tr>(?:(?!</tr>).)*常安镇第1城管中队.*?</tr>", html, re.S).group(0)
    assert row.count('class="num na" title="不适用">—</td>') == 3
    assert "0.0%" not in row and "100.0%" not in row


def test_it_escapes_names():
    html = render_html(sample_document())
    assert "&lt;b&gt;环卫&lt;/b&gt;处 &amp; 市政所" in html
    assert "<b>环卫</b>" not in html


def test_it_links_the_name_to_the_cases_behind_it():
    html = render_html(sample_document())
    assert '<a href="/cases/?department=D0000">富春街道第1城管中队</a>' in html
    assert '<a href="/cases/2026112400000/">2026112400000</a>' in html


def test_it_hands_the_charts_to_echarts_as_escaped_json():
    doc = sample_document()
    doc["sections"][3]["chart"]["categories"][0] = "</script><script>alert(1)</script>"
    html = render_html(doc)
    assert "<script>alert(1)" not in html
    charts = _charts(html)
    assert set(charts) == {"bulletin-chart-1", "bulletin-chart-3", "bulletin-chart-4"}
    bar = charts["bulletin-chart-1"]
    assert bar["type"] == "bar" and bar["unit"] == "%"
    assert bar["series"][0]["values"][:3] == [95.0, 91.0, None]
    assert charts["bulletin-chart-4"]["categories"][0] == "</script><script>alert(1)</script>"
    assert 'data-bulletin-chart="bulletin-chart-3"' in html
    assert "vendor/echarts/echarts.min.js" in html and "evaluation/bulletin.js" in html
    assert finders.find("evaluation/bulletin.js") and finders.find("vendor/echarts/echarts.min.js")
    assert "cdn" not in html.lower()


def test_it_answers_in_the_readers_language():
    response = render_page(_request("en"), sample_document(), downloads={"pdf": "/b/daily.pdf"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "<h1>Fuyang digital city management daily bulletin</h1>" in html
    assert "<h2>Departments</h2>" in html
    assert "Download PDF" in html and "Configuration version 3" in html
    assert '<td class="light-cell light-cell-red">red</td>' in html
    assert "▲ 2.1 pp" in html


def test_it_renders_inside_the_site_shell():
    html = render_page(_request(), sample_document(), downloads={}).content.decode()
    assert 'class="topbar"' in html
    assert "<title>富阳区数字城管每日通报 · chengguan</title>" in html
