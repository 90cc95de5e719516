//! Line and scatter charts with error bars, drawn once per backend: PNG (bitmap, text
//! rendered with the embedded DejaVu Sans, so no system fonts are needed) and SVG.

use crate::error::{Error, Result};
use plotters::coord::Shift;
use plotters::prelude::*;
use std::path::{Path, PathBuf};
use std::sync::Once;

/// `(x, y, optional interval around y)`.
pub type Point = (f64, f64, Option<(f64, f64)>);

/// One curve or point cloud.
#[derive(Debug, Clone)]
pub struct Series {
    /// The legend entry; empty for none.
    pub label: String,
    /// `(x, y, optional interval)`.
    pub points: Vec<Point>,
    /// Join the points with a line (sorted by x).
    pub line: bool,
    /// Index into the palette; series of one algorithm share a hue family.
    pub color: usize,
    /// Filled or hollow markers.
    pub filled: bool,
}

/// A chart to draw.
#[derive(Debug, Clone)]
pub struct Chart {
    /// The caption above the chart.
    pub title: String,
    /// The x axis's description.
    pub x_label: String,
    /// The y axis's description.
    pub y_label: String,
    /// The curves and point clouds drawn.
    pub series: Vec<Series>,
    /// Horizontal reference line (α = 2) when inside the range.
    pub h_line: Option<f64>,
    /// Fixed y range (points outside are clipped); `None` fits the data.
    pub y_range: Option<(f64, f64)>,
    /// Fixed x range (small multiples share one); `None` fits the data.
    pub x_range: Option<(f64, f64)>,
}

/// Small multiples: panels in a grid of `cols` columns under one title, one file.
#[derive(Debug, Clone)]
pub struct Figure {
    /// The caption above all panels.
    pub title: String,
    /// The panels, filled row by row.
    pub panels: Vec<Chart>,
    /// Panels per row (clamped to 1 ..= the number of panels).
    pub cols: usize,
}

/// Font sizes and margins of a chart: a whole image, or a panel of a [`Figure`].
struct Scale {
    caption: u32,
    label: u32,
    desc: u32,
    margin: u32,
    x_area: u32,
    y_area: u32,
    marker: u32,
}

const FULL: Scale = Scale {
    caption: 22,
    label: 15,
    desc: 17,
    margin: 16,
    x_area: 48,
    y_area: 64,
    marker: 4,
};

const PANEL: Scale = Scale {
    caption: 16,
    label: 12,
    desc: 13,
    margin: 8,
    x_area: 36,
    y_area: 48,
    marker: 3,
};

/// Pixels of one panel of a [`Figure`].
const PANEL_SIZE: (u32, u32) = (420, 320);

const SIZE: (u32, u32) = (960, 640);

/// Writes `<stem>.png` and `<stem>.svg`; returns the two paths.
pub fn draw(chart: &Chart, stem: &Path) -> Result<[PathBuf; 2]> {
    register_font();
    let png = stem.with_extension("png");
    let svg = stem.with_extension("svg");
    {
        let root = BitMapBackend::new(&png, SIZE).into_drawing_area();
        render(chart, &root, &FULL).map_err(|e| plot_error(&png, e))?;
        root.present().map_err(|e| plot_error(&png, e))?;
    }
    {
        let root = SVGBackend::new(&svg, SIZE).into_drawing_area();
        render(chart, &root, &FULL).map_err(|e| plot_error(&svg, e))?;
        root.present().map_err(|e| plot_error(&svg, e))?;
    }
    Ok([png, svg])
}

/// Writes a [`Figure`] as `<stem>.png` and `<stem>.svg`; returns the two paths.
pub fn draw_figure(figure: &Figure, stem: &Path) -> Result<[PathBuf; 2]> {
    register_font();
    let png = stem.with_extension("png");
    let svg = stem.with_extension("svg");
    let cols = figure.cols.clamp(1, figure.panels.len().max(1));
    let rows = figure.panels.len().div_ceil(cols).max(1);
    let size = (PANEL_SIZE.0 * cols as u32, PANEL_SIZE.1 * rows as u32 + 40);
    {
        let root = BitMapBackend::new(&png, size).into_drawing_area();
        render_figure(figure, &root, (rows, cols)).map_err(|e| plot_error(&png, e))?;
        root.present().map_err(|e| plot_error(&png, e))?;
    }
    {
        let root = SVGBackend::new(&svg, size).into_drawing_area();
        render_figure(figure, &root, (rows, cols)).map_err(|e| plot_error(&svg, e))?;
        root.present().map_err(|e| plot_error(&svg, e))?;
    }
    Ok([png, svg])
}

fn render_figure<DB: DrawingBackend>(
    figure: &Figure,
    root: &DrawingArea<DB, Shift>,
    grid: (usize, usize),
) -> std::result::Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    root.fill(&WHITE)?;
    let body = root.titled(&figure.title, ("sans-serif", 24))?;
    for (chart, area) in figure.panels.iter().zip(body.split_evenly(grid)) {
        render(chart, &area, &PANEL)?;
    }
    Ok(())
}

fn plot_error(path: &Path, e: impl std::fmt::Display) -> Error {
    Error::Input {
        path: path.to_path_buf(),
        message: format!("cannot draw the plot: {e}"),
    }
}

fn register_font() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // The embedded font is valid TrueType; a failure would only lose the text.
        let _ = plotters::style::register_font(
            "sans-serif",
            FontStyle::Normal,
            dejavu::sans::regular(),
        );
    });
}

/// Colours that stay distinct in print: SGD in blues, KM in reds/oranges, others after.
pub const PALETTE: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(214, 39, 40),
    RGBColor(44, 160, 44),
    RGBColor(255, 127, 14),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];

fn bounds(chart: &Chart) -> ((f64, f64), (f64, f64)) {
    let mut xs = Vec::new();
    let mut ys = Vec::new();
    for s in &chart.series {
        for &(x, y, ci) in &s.points {
            xs.push(x);
            ys.push(y);
            if let Some((lo, hi)) = ci {
                ys.push(lo);
                ys.push(hi);
            }
        }
    }
    let range = |v: &[f64]| {
        let finite = v.iter().copied().filter(|x| x.is_finite());
        let lo = finite.clone().fold(f64::INFINITY, f64::min);
        let hi = finite.fold(f64::NEG_INFINITY, f64::max);
        if !lo.is_finite() {
            return (0.0, 1.0);
        }
        let pad = ((hi - lo) * 0.06).max(1e-3 * hi.abs().max(1.0));
        (lo - pad, hi + pad)
    };
    (range(&xs), range(&ys))
}

fn render<DB: DrawingBackend>(
    chart: &Chart,
    root: &DrawingArea<DB, Shift>,
    scale: &Scale,
) -> std::result::Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    root.fill(&WHITE)?;
    let (fitted_x, fitted_y) = bounds(chart);
    let (x0, x1) = chart.x_range.unwrap_or(fitted_x);
    let (y0, y1) = chart.y_range.unwrap_or(fitted_y);
    let mut ctx = ChartBuilder::on(root)
        .caption(&chart.title, ("sans-serif", scale.caption))
        .margin(scale.margin)
        .x_label_area_size(scale.x_area)
        .y_label_area_size(scale.y_area)
        .build_cartesian_2d(x0..x1, y0..y1)?;
    ctx.configure_mesh()
        .x_desc(chart.x_label.as_str())
        .y_desc(chart.y_label.as_str())
        .label_style(("sans-serif", scale.label))
        .axis_desc_style(("sans-serif", scale.desc))
        .light_line_style(WHITE.mix(0.0))
        .draw()?;
    if let Some(h) = chart.h_line.filter(|h| (y0..=y1).contains(h)) {
        ctx.draw_series(LineSeries::new(
            [(x0, h), (x1, h)],
            BLACK.mix(0.35).stroke_width(1),
        ))?;
    }
    for s in &chart.series {
        let color = PALETTE[s.color % PALETTE.len()];
        let mut pts = s.points.clone();
        if chart.y_range.is_some() {
            // A fixed range clips: points outside are left out, intervals cut at the edges.
            pts.retain(|p| (y0..=y1).contains(&p.1));
            for p in &mut pts {
                p.2 = p.2.map(|(lo, hi)| (lo.max(y0), hi.min(y1)));
            }
        }
        pts.sort_by(|a, b| a.0.total_cmp(&b.0));
        let bars = pts.iter().filter_map(|&(x, y, ci)| {
            ci.map(|(lo, hi)| ErrorBar::new_vertical(x, lo, y, hi, color.mix(0.6), 6))
        });
        ctx.draw_series(bars)?;
        if s.line {
            ctx.draw_series(LineSeries::new(
                pts.iter().map(|&(x, y, _)| (x, y)),
                color.stroke_width(2),
            ))?;
        }
        let style = if s.filled {
            color.filled()
        } else {
            color.stroke_width(2)
        };
        // Dense curves (survival, Hill) read better without markers.
        let radius = if s.line && pts.len() > 60 {
            0
        } else {
            scale.marker
        };
        let drawn = ctx.draw_series(
            pts.iter()
                .map(|&(x, y, _)| Circle::new((x, y), radius, style)),
        )?;
        // An unlabelled series (e.g. the second line of a band) gets no legend entry.
        if !s.label.is_empty() {
            drawn
                .label(s.label.as_str())
                .legend(move |(x, y)| Circle::new((x + 10, y), 5, style));
        }
    }
    if chart.series.iter().any(|s| !s.label.is_empty()) {
        ctx.configure_series_labels()
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK.mix(0.4))
            .label_font(("sans-serif", scale.label))
            .position(SeriesLabelPosition::LowerLeft)
            .draw()?;
    }
    Ok(())
}
