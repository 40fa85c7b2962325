"""The weekly report's chart as a PNG, drawn with matplotlib's Agg backend (no display).

Imported only when a chart is drawn: matplotlib takes a second to import, and neither the
desk's start nor any other command should pay for it. The object-oriented API (a Figure on
a FigureCanvasAgg) keeps pyplot's global state and its backend selection out of the process
(https://matplotlib.org/stable/gallery/user_interfaces/canvasagg.html).

Charts are drawn on a worker thread (bot/telegram/report_delivery.py), and matplotlib does
not promise that two figures drawn at once on two threads are safe
(https://matplotlib.org/stable/users/faq.html#work-with-threads): one chart is drawn at a
time, behind a lock. Reports are a few a week; none waits long.
"""

from __future__ import annotations

import io
import threading
from datetime import timedelta

from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from handlers.escalation import duration
from handlers.report import ReportFigures, day_words, percent
from handlers.texts import Texts
from storage.values import Platform

WIDTH, HEIGHT, DPI = 10.0, 7.0, 100  # 1000 × 700 px: legible in a Telegram photo
COLORS = {Platform.TELEGRAM: "#2a9fd6", Platform.VK: "#4c75a3"}
HATCH = {Platform.TELEGRAM: "", Platform.VK: "//"}  # told apart in black and white too
TARGET_COLOR = "#c0392b"
# DejaVu Sans ships with matplotlib and has Cyrillic: Russian labels render on any machine.
FONT = "DejaVu Sans"
DRAWING = threading.Lock()  # one chart at a time in the process


def hours(span: timedelta) -> float:
    return span.total_seconds() / 3600


def render_png(texts: Texts, figures: ReportFigures) -> bytes:
    """The week's chart: new messages a day by platform; first-answer times against the
    target; the departments with the most messages."""
    with DRAWING:
        return _drawn(texts, figures)


def _drawn(texts: Texts, figures: ReportFigures) -> bytes:
    figure = Figure(figsize=(WIDTH, HEIGHT), dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)
    figure.suptitle(texts.get(
        "chart-title", week=figures.week, first=day_words(texts, figures.first_day),
        last=day_words(texts, figures.last_day), year=figures.last_day.year,
    ), fontsize=15, fontweight="bold", family=FONT)
    grid = figure.add_gridspec(2, 2, height_ratios=(1.15, 1))
    _per_day(figure.add_subplot(grid[0, :]), texts, figures)
    _answer_times(figure.add_subplot(grid[1, 0]), texts, figures)
    _departments(figure.add_subplot(grid[1, 1]), texts, figures)
    out = io.BytesIO()
    figure.savefig(out, format="png", dpi=DPI, facecolor="white")
    return out.getvalue()


def _per_day(axes: Axes, texts: Texts, figures: ReportFigures) -> None:
    """Stacked bars, one a day, a part per platform, the day's total on top."""
    days = [figures.first_day + timedelta(days=n) for n in range(7)]
    labels = [texts.get("chart-weekday", weekday=d.weekday(), day=d.day) for d in days]
    bottom = [0] * 7
    for platform, counts in figures.per_day:
        axes.bar(
            labels, counts, bottom=bottom, color=COLORS.get(platform, "#888888"),
            hatch=HATCH.get(platform, ""), edgecolor="white",
            label=texts.get(f"chart-{platform.value}"),
        )
        bottom = [b + c for b, c in zip(bottom, counts, strict=True)]
    for x, total in enumerate(bottom):
        axes.annotate(str(total), (x, total), ha="center", va="bottom", fontsize=10,
                      xytext=(0, 2), textcoords="offset points", family=FONT)
    axes.set_title(texts.get("chart-per-day"), loc="left", fontsize=12, family=FONT)
    axes.set_ylim(0, max(max(bottom) * 1.18, 1))
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    axes.legend(loc="upper right", frameon=False, prop={"family": FONT})
    _plain(axes)


def _answer_times(axes: Axes, texts: Texts, figures: ReportFigures) -> None:
    """Median and 90th percentile as bars, the target as a line across them."""
    axes.set_title(texts.get("chart-answer-times"), loc="left", fontsize=12, family=FONT)
    target = hours(figures.target)
    if figures.median is None or figures.p90 is None:
        axes.text(0.5, 0.5, texts.get("chart-no-answers"), ha="center", va="center",
                  transform=axes.transAxes, fontsize=12, color="#666666", family=FONT)
        axes.set_xticks([])
        axes.set_yticks([])
        _plain(axes)
        return
    values = [hours(figures.median), hours(figures.p90)]
    names = [texts.get("chart-median"), texts.get("chart-p90")]
    colors = [TARGET_COLOR if value > target else "#27ae60" for value in values]
    bars = axes.barh(names, values, color=colors, height=0.55)
    for bar, span in zip(bars, (figures.median, figures.p90), strict=True):
        axes.annotate(duration(texts, span), (bar.get_width(), bar.get_y() + bar.get_height() / 2),
                      xytext=(4, 0), textcoords="offset points", va="center", fontsize=10,
                      family=FONT)
    axes.axvline(target, color=TARGET_COLOR, linestyle="--", linewidth=1.5,
                 label=texts.get("chart-target", target=duration(texts, figures.target)))
    axes.set_xlim(0, max(*values, target) * 1.3)
    axes.invert_yaxis()
    axes.legend(loc="upper right", frameon=False, prop={"family": FONT})
    axes.set_xlabel(texts.get("chart-late", late=figures.late, count=figures.answered,
                              percent=percent(figures.late_share or 0.0)),
                    fontsize=11, family=FONT)
    _plain(axes)


def _departments(axes: Axes, texts: Texts, figures: ReportFigures) -> None:
    """The departments with the most new messages, the most on top."""
    axes.set_title(texts.get("chart-departments"), loc="left", fontsize=12, family=FONT)
    if not figures.departments:
        # Departments set up and a week without messages is not a desk without departments.
        empty = "chart-no-messages" if figures.with_departments else "chart-no-departments"
        axes.text(0.5, 0.5, texts.get(empty), ha="center", va="center",
                  transform=axes.transAxes, fontsize=12, color="#666666", family=FONT)
        axes.set_xticks([])
        axes.set_yticks([])
        _plain(axes)
        return
    names = [_short(name) for name, _ in figures.departments]
    counts = [count for _, count in figures.departments]
    bars = axes.barh(names, counts, color="#8e44ad", height=0.6)
    for bar, count in zip(bars, counts, strict=True):
        axes.annotate(str(count), (bar.get_width(), bar.get_y() + bar.get_height() / 2),
                      xytext=(4, 0), textcoords="offset points", va="center", fontsize=10,
                      family=FONT)
    axes.set_xlim(0, max(counts) * 1.2)
    axes.invert_yaxis()
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    _plain(axes)


def _short(name: str, limit: int = 24) -> str:
    """A department's name short enough for the axis, shown as written: matplotlib takes
    the text between two `$` for mathematics (and fails on what is none), unless escaped
    (https://matplotlib.org/stable/users/explain/text/mathtext.html)."""
    short = name if len(name) <= limit else name[: limit - 1] + "…"
    return short.replace("$", r"\$")


def _plain(axes: Axes) -> None:
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)
    for label in (*axes.get_xticklabels(), *axes.get_yticklabels()):
        label.set_fontfamily(FONT)
