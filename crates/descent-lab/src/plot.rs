//! Paper-style line figures (PNG and SVG) with plotters and an embedded font, so figures render
//! identically on any machine without system fonts (DESIGN §10).
//!
//! A [`Figure`] is one or more [`Panel`]s side by side; each panel has a title, labelled axes
//! (with units in the label text), optional log axes, a legend, and lines with optional shaded
//! bands (e.g. ± one standard deviation across seeds).

use std::path::Path;
use std::sync::Once;

use descent_core::{Error, Result};
use plotters::coord::{CoordTranslate, Shift};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// DejaVu Sans (fonts-dejavu-core; licence in `assets/DejaVuSans-LICENSE.txt`).
static FONT: &[u8] = include_bytes!("../assets/DejaVuSans.ttf");
static REGISTER: Once = Once::new();

fn register_font() {
    REGISTER.call_once(|| {
        // The bytes are a valid TTF shipped with the crate; a failure here leaves plotters
        // without a font and text rendering then reports an error, which we surface below.
        let _ = plotters::style::register_font("sans-serif", FontStyle::Normal, FONT);
    });
}

/// The tab10 palette (matplotlib's default cycle), which readers of ML papers know.
pub const PALETTE: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];

/// One line of a panel.
#[derive(Debug, Clone, Default)]
pub struct Line {
    /// The legend label (empty: not in the legend).
    pub label: String,
    /// The x values.
    pub x: Vec<f64>,
    /// The y values, one per x.
    pub y: Vec<f64>,
    /// Optional shaded band (lower, upper) at the same x.
    pub band: Option<(Vec<f64>, Vec<f64>)>,
    /// Draw markers at the points (for sparse data such as sweep points).
    pub markers: bool,
    /// Draw each point as a bar of this width from 0 to y instead of a line (bar charts; the
    /// band, if any, becomes error bars).
    pub bar_width: Option<f64>,
    /// Draw only the markers, without the connecting line (points that are not a curve, such
    /// as where each run ended).
    pub scatter: bool,
    /// Symmetric vertical error bars (± one standard error) at the points.
    pub y_err: Option<Vec<f64>>,
    /// Palette index instead of the line's position (to pair points with their theory line).
    pub color: Option<usize>,
    /// Draw the line dashed (theory curves next to simulated ones of the same colour).
    pub dashed: bool,
    /// Radius in pixels of a scatter's points (default 5; smaller for thousands of points).
    pub point_radius: Option<u32>,
}

impl Line {
    /// A plain line.
    pub fn new(label: impl Into<String>, x: Vec<f64>, y: Vec<f64>) -> Self {
        Line {
            label: label.into(),
            x,
            y,
            ..Default::default()
        }
    }
}

/// Where a panel's legend sits: put it where the curves are not.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum LegendAt {
    /// Upper right corner (the default).
    #[default]
    UpperRight,
    /// Lower right corner.
    LowerRight,
    /// Upper left corner.
    UpperLeft,
    /// Lower left corner.
    LowerLeft,
    /// No legend (a single unlabelled curve).
    Hidden,
}

/// One set of axes.
#[derive(Debug, Clone, Default)]
pub struct Panel {
    /// The panel's title.
    pub title: String,
    /// The x axis label.
    pub x_label: String,
    /// The y axis label.
    pub y_label: String,
    /// Logarithmic x axis.
    pub log_x: bool,
    /// Logarithmic y axis.
    pub log_y: bool,
    /// Where the legend sits.
    pub legend: LegendAt,
    /// The lines drawn.
    pub lines: Vec<Line>,
    /// Categorical x axis: when non-empty, x = i is labelled `x_ticks[i]` and other ticks are
    /// blank (bar charts over named groups).
    pub x_ticks: Vec<String>,
}

/// Panels side by side, with an optional overall caption.
#[derive(Debug, Clone, Default)]
pub struct Figure {
    /// A caption under the panels.
    pub caption: Option<String>,
    /// The panels, left to right.
    pub panels: Vec<Panel>,
}

const PANEL_W: u32 = 640;
const PANEL_H: u32 = 460;

impl Figure {
    /// Writes `<stem>.png` and `<stem>.svg` into `dir`; returns the two paths.
    pub fn save(&self, dir: &Path, stem: &str) -> Result<(std::path::PathBuf, std::path::PathBuf)> {
        register_font();
        let png = dir.join(format!("{stem}.png"));
        let svg = dir.join(format!("{stem}.svg"));
        let size = self.size();
        {
            let root = BitMapBackend::new(&png, size).into_drawing_area();
            self.draw(&root).map_err(|e| Error::io(&png, e))?;
            root.present().map_err(|e| Error::io(&png, e))?;
        }
        {
            let root = SVGBackend::new(&svg, size).into_drawing_area();
            self.draw(&root).map_err(|e| Error::io(&svg, e))?;
            root.present().map_err(|e| Error::io(&svg, e))?;
        }
        Ok((png, svg))
    }

    /// (rows, columns): one row up to three panels, then rows of at most three, balanced
    /// (4 panels → 2×2, 5–6 → 2×3).
    fn grid(&self) -> (usize, usize) {
        let n = self.panels.len().max(1);
        let rows = n.div_ceil(3);
        (rows, n.div_ceil(rows))
    }

    fn size(&self) -> (u32, u32) {
        let caption = if self.caption.is_some() { 40 } else { 0 };
        let (rows, cols) = self.grid();
        (PANEL_W * cols as u32, PANEL_H * rows as u32 + caption)
    }

    fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
    ) -> std::result::Result<(), String> {
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        let area = match &self.caption {
            Some(c) => {
                let (top, rest) = root.split_vertically(40);
                let (size, lines) = fit_caption(&top, c);
                let (w, _) = top.dim_in_pixel();
                let line_h = (40 / lines.len()) as i32;
                for (i, line) in lines.iter().enumerate() {
                    let style = TextStyle::from(("sans-serif", size).into_font())
                        .pos(Pos::new(HPos::Center, VPos::Center));
                    let y = line_h * i as i32 + line_h / 2 + 2;
                    top.draw(&Text::new(line.clone(), (w as i32 / 2, y), style))
                        .map_err(|e| e.to_string())?;
                }
                rest
            }
            None => root.clone(),
        };
        let cells = area.split_evenly(self.grid());
        for (panel, cell) in self.panels.iter().zip(cells.iter()) {
            panel.draw(cell)?;
        }
        Ok(())
    }
}

/// The caption's font size and lines: one line at 22 px, shrunk (down to 13 px) until it fits
/// the figure width; a caption still too wide is split at the space nearest its middle into two
/// lines, which again shrink to fit (down to 11 px).
fn fit_caption<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    text: &str,
) -> (f64, Vec<String>) {
    let width = area.dim_in_pixel().0 as f64 - 24.0;
    let fits = |line: &str, size: f64| {
        let font: TextStyle = ("sans-serif", size).into_font().into();
        area.estimate_text_size(line, &font)
            .map_or(true, |(w, _)| w as f64 <= width)
    };
    if let Some(size) = (13..=22).rev().map(f64::from).find(|s| fits(text, *s)) {
        return (size, vec![text.to_string()]);
    }
    let middle = text.len() / 2;
    let split = text
        .char_indices()
        .filter(|(_, c)| *c == ' ')
        .map(|(i, _)| i)
        .min_by_key(|i| i.abs_diff(middle));
    let Some(at) = split else {
        return (13.0, vec![text.to_string()]);
    };
    let lines = vec![text[..at].to_string(), text[at + 1..].to_string()];
    let size = (11..=16)
        .rev()
        .map(f64::from)
        .find(|s| lines.iter().all(|l| fits(l, *s)))
        .unwrap_or(11.0);
    (size, lines)
}

/// Finite (and, on a log axis, positive) values of a line's points and band.
fn range(values: impl Iterator<Item = f64>, log: bool) -> Option<(f64, f64)> {
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for v in values.filter(|v| v.is_finite() && (!log || *v > 0.0)) {
        lo = lo.min(v);
        hi = hi.max(v);
    }
    if lo > hi {
        return None;
    }
    if log {
        if hi / lo < 1.5 {
            return Some((lo / 1.2, hi * 1.2));
        }
        Some((lo / 1.1, hi * 1.1))
    } else {
        let pad = if hi > lo {
            0.05 * (hi - lo)
        } else {
            0.5 * lo.abs().max(1.0)
        };
        Some((lo - pad, hi + pad))
    }
}

impl Panel {
    fn x_range(&self) -> (f64, f64) {
        if !self.x_ticks.is_empty() {
            return (-0.6, self.x_ticks.len() as f64 - 0.4);
        }
        range(
            self.lines.iter().flat_map(|l| {
                let w = l.bar_width.unwrap_or(0.0) / 2.0;
                l.x.iter().flat_map(move |x| [x - w, x + w])
            }),
            self.log_x,
        )
        .unwrap_or((0.0, 1.0))
    }

    fn y_range(&self) -> (f64, f64) {
        range(
            self.lines.iter().flat_map(|l| {
                let band = l
                    .band
                    .iter()
                    .flat_map(|(a, b)| a.iter().chain(b.iter()))
                    .copied();
                let bars = l.y_err.iter().flat_map(move |e| {
                    l.y.iter().zip(e).flat_map(|(y, e)| {
                        // on a log axis a bar reaching 0 is clipped, not allowed to set the range
                        let lo = if self.log_y && y - e <= 0.0 {
                            *y
                        } else {
                            y - e
                        };
                        [lo, y + e]
                    })
                });
                let zero = l.bar_width.map(|_| 0.0);
                l.y.iter().copied().chain(band).chain(bars).chain(zero)
            }),
            self.log_y,
        )
        .unwrap_or((0.0, 1.0))
    }

    fn draw<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
    ) -> std::result::Result<(), String> {
        let (x0, x1) = self.x_range();
        let (y0, y1) = self.y_range();
        // Four axis variants: plotters types log and linear coordinates differently. Log axes get
        // our own 1-2-5 ticks (plotters' own crowd one decade and leave others unlabelled).
        let lx = || (x0..x1).log_scale().with_key_points(log_ticks(x0, x1));
        let ly = || (y0..y1).log_scale().with_key_points(log_ticks(y0, y1));
        match (self.log_x, self.log_y) {
            (false, false) => self.draw_in(area, x0..x1, y0..y1),
            (true, false) => self.draw_in(area, lx(), y0..y1),
            (false, true) => self.draw_in(area, x0..x1, ly()),
            (true, true) => self.draw_in(area, lx(), ly()),
        }
    }

    fn draw_in<DB, X, Y>(
        &self,
        area: &DrawingArea<DB, Shift>,
        xr: X,
        yr: Y,
    ) -> std::result::Result<(), String>
    where
        DB: DrawingBackend,
        X: plotters::coord::ranged1d::AsRangedCoord<Value = f64>,
        Y: plotters::coord::ranged1d::AsRangedCoord<Value = f64>,
        X::CoordDescType: plotters::coord::ranged1d::ValueFormatter<f64>,
        Y::CoordDescType: plotters::coord::ranged1d::ValueFormatter<f64>,
    {
        let err = |e: &dyn std::fmt::Display| e.to_string();
        // linear ticks are stepped in floating point, so "0" can arrive as ±5.6e-17
        let span = |(lo, hi): (f64, f64), log: bool| if log { 0.0 } else { hi - lo };
        let (x_span, y_span) = (
            span(self.x_range(), self.log_x),
            span(self.y_range(), self.log_y),
        );
        let mut chart = ChartBuilder::on(area)
            .caption(&self.title, ("sans-serif", 20).into_font())
            .margin(12)
            .x_label_area_size(48)
            .y_label_area_size(72)
            .build_cartesian_2d(xr, yr)
            .map_err(|e| err(&e))?;
        chart
            .configure_mesh()
            .x_desc(&self.x_label)
            .y_desc(&self.y_label)
            .axis_desc_style(("sans-serif", 16))
            .label_style(("sans-serif", 13))
            .light_line_style(RGBColor(240, 240, 240))
            .max_light_lines(3)
            .bold_line_style(RGBColor(210, 210, 210))
            .x_labels(if self.x_ticks.is_empty() {
                10
            } else {
                self.x_ticks.len() * 4 + 1
            })
            .x_label_formatter(&|v| {
                if self.x_ticks.is_empty() {
                    return short_number(snap_to_zero(*v, x_span));
                }
                let i = v.round();
                if (v - i).abs() < 1e-6 && i >= 0.0 && (i as usize) < self.x_ticks.len() {
                    self.x_ticks[i as usize].clone()
                } else {
                    String::new()
                }
            })
            .y_label_formatter(&|v| short_number(snap_to_zero(*v, y_span)))
            .draw()
            .map_err(|e| err(&e))?;
        for (i, line) in self.lines.iter().enumerate() {
            self.draw_line(&mut chart, i, line)?;
        }
        let position = match self.legend {
            LegendAt::UpperRight => SeriesLabelPosition::UpperRight,
            LegendAt::LowerRight => SeriesLabelPosition::LowerRight,
            LegendAt::UpperLeft => SeriesLabelPosition::UpperLeft,
            LegendAt::LowerLeft => SeriesLabelPosition::LowerLeft,
            LegendAt::Hidden => return Ok(()),
        };
        if self.lines.iter().any(|l| !l.label.is_empty()) {
            chart
                .configure_series_labels()
                .position(position)
                .background_style(WHITE.mix(0.85))
                .border_style(RGBColor(180, 180, 180))
                .label_font(("sans-serif", 14))
                .draw()
                .map_err(|e| err(&e))?;
        }
        Ok(())
    }

    /// The points of a line that the axes can show (finite, and positive on a log axis).
    fn visible(&self, l: &Line) -> Vec<(f64, f64)> {
        l.x.iter()
            .zip(&l.y)
            .filter(|(x, y)| {
                x.is_finite()
                    && y.is_finite()
                    && (!self.log_x || **x > 0.0)
                    && (!self.log_y || **y > 0.0)
            })
            .map(|(x, y)| (*x, *y))
            .collect()
    }

    /// Draws one line (bars with whiskers, a band, error bars, a scatter, a solid or dashed
    /// line with markers) in palette colour `i` unless the line sets its own.
    fn draw_line<'a, DB, CT>(
        &self,
        chart: &mut ChartContext<'a, DB, CT>,
        i: usize,
        line: &Line,
    ) -> std::result::Result<(), String>
    where
        DB: DrawingBackend + 'a,
        CT: CoordTranslate<From = (f64, f64)>,
    {
        let err = |e: &dyn std::fmt::Display| e.to_string();
        let finite = |l: &Line| self.visible(l);
        let color = PALETTE[line.color.unwrap_or(i) % PALETTE.len()];
        if let Some(width) = line.bar_width {
            let h = width / 2.0;
            let pts = finite(line);
            let anno = chart
                .draw_series(
                    pts.iter()
                        .map(|&(x, y)| Rectangle::new([(x - h, 0.0), (x + h, y)], color.filled())),
                )
                .map_err(|e| err(&e))?;
            if !line.label.is_empty() {
                anno.label(line.label.clone()).legend(move |(x, y)| {
                    Rectangle::new([(x, y - 5), (x + 16, y + 5)], color.filled())
                });
            }
            if let Some((lo, hi)) = &line.band {
                let black = RGBColor(40, 40, 40);
                for ((x, l), u) in line.x.iter().zip(lo).zip(hi) {
                    if x.is_finite() && l.is_finite() && u.is_finite() {
                        let whisker = [(x - h / 3.0, *l), (x + h / 3.0, *l)];
                        chart
                            .draw_series([
                                PathElement::new(vec![(*x, *l), (*x, *u)], black.stroke_width(1)),
                                PathElement::new(whisker.to_vec(), black.stroke_width(1)),
                                PathElement::new(
                                    vec![(x - h / 3.0, *u), (x + h / 3.0, *u)],
                                    black.stroke_width(1),
                                ),
                            ])
                            .map_err(|e| err(&e))?;
                    }
                }
            }
            return Ok(());
        }
        if let Some((lo, hi)) = &line.band {
            let mut poly: Vec<(f64, f64)> = line.x.iter().zip(hi).map(|(x, y)| (*x, *y)).collect();
            poly.extend(line.x.iter().zip(lo).rev().map(|(x, y)| (*x, *y)));
            poly.retain(|(x, y)| {
                x.is_finite()
                    && y.is_finite()
                    && (!self.log_y || *y > 0.0)
                    && (!self.log_x || *x > 0.0)
            });
            chart
                .draw_series(std::iter::once(Polygon::new(
                    poly,
                    color.mix(0.18).filled(),
                )))
                .map_err(|e| err(&e))?;
        }
        let pts = finite(line);
        if let Some(errs) = &line.y_err {
            let bars: Vec<Vec<(f64, f64)>> = line
                .x
                .iter()
                .zip(&line.y)
                .zip(errs)
                .filter(|((x, y), e)| x.is_finite() && y.is_finite() && e.is_finite())
                .filter(|((x, _), _)| !self.log_x || **x > 0.0)
                .map(|((x, y), e)| {
                    let lo = if self.log_y && y - e <= 0.0 {
                        y * 1e-3
                    } else {
                        y - e
                    };
                    vec![(*x, lo), (*x, y + e)]
                })
                .filter(|v| !self.log_y || v[1].1 > 0.0)
                .collect();
            chart
                .draw_series(
                    bars.into_iter()
                        .map(|b| PathElement::new(b, color.stroke_width(2))),
                )
                .map_err(|e| err(&e))?;
        }
        if line.scatter {
            let r = line.point_radius.unwrap_or(5);
            let anno = chart
                .draw_series(pts.iter().map(|p| Circle::new(*p, r, color.filled())))
                .map_err(|e| err(&e))?;
            if !line.label.is_empty() {
                anno.label(line.label.clone())
                    .legend(move |(x, y)| Circle::new((x + 11, y), 5, color.filled()));
            }
            return Ok(());
        }
        let anno = if line.dashed {
            let style = color.stroke_width(2);
            chart
                .draw_series(DashedLineSeries::new(pts.clone(), 8, 5, style))
                .map_err(|e| err(&e))?
        } else {
            chart
                .draw_series(LineSeries::new(pts.clone(), color.stroke_width(2)))
                .map_err(|e| err(&e))?
        };
        if !line.label.is_empty() {
            let dashed = line.dashed;
            anno.label(line.label.clone()).legend(move |(x, y)| {
                // coordinates relative to (x, y), the anchor of the composed element
                let segment = if dashed {
                    vec![(0, 0), (8, 0)]
                } else {
                    vec![(0, 0), (22, 0)]
                };
                let tail = if dashed {
                    vec![(13, 0), (22, 0)]
                } else {
                    Vec::new()
                };
                EmptyElement::at((x, y))
                    + PathElement::new(segment, color.stroke_width(3))
                    + PathElement::new(tail, color.stroke_width(3))
            });
        }
        if line.markers {
            chart
                .draw_series(pts.iter().map(|p| Circle::new(*p, 3, color.filled())))
                .map_err(|e| err(&e))?;
        }
        Ok(())
    }
}

/// Tick positions for a log axis over [lo, hi]: decades when the range spans more than four of
/// them, else the 1-2-5 sequence, else every integer mantissa, and when even that leaves fewer
/// than three ticks (a range within a fraction of a decade), evenly spaced round values.
pub fn log_ticks(lo: f64, hi: f64) -> Vec<f64> {
    let ticks = mantissa_ticks(lo, hi);
    if ticks.len() >= 3 || !(lo > 0.0 && hi > lo) {
        return ticks;
    }
    linear_ticks(lo, hi, 5)
}

/// About `n` round values (1, 2 or 5 times a power of ten apart) within [lo, hi].
pub fn linear_ticks(lo: f64, hi: f64, n: usize) -> Vec<f64> {
    let raw = (hi - lo) / n.max(1) as f64;
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * mag);
    let first = (lo / step).ceil() as i64;
    let last = (hi / step).floor() as i64;
    (first..=last).map(|i| i as f64 * step).collect()
}

fn mantissa_ticks(lo: f64, hi: f64) -> Vec<f64> {
    if !(lo > 0.0 && hi > lo) {
        return Vec::new();
    }
    let (e0, e1) = (lo.log10().floor() as i32, hi.log10().ceil() as i32);
    let mantissas: &[f64] = match e1 - e0 {
        d if d > 4 => &[1.0],
        d if d > 1 => &[1.0, 2.0, 5.0],
        _ => &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0],
    };
    let mut ticks = Vec::new();
    for e in e0..=e1 {
        for m in mantissas {
            let t = m * 10f64.powi(e);
            if t >= lo && t <= hi {
                ticks.push(t);
            }
        }
    }
    ticks
}

/// `v` itself, or 0 when it is within 1e-9 of the axis span of zero (a linear tick that
/// should be 0 but carries the rounding of the tick stepping); `span` = 0 leaves v alone.
fn snap_to_zero(v: f64, span: f64) -> f64 {
    if v.abs() < 1e-9 * span { 0.0 } else { v }
}

/// Tick labels without floating-point noise: 0.1 not 0.10000000000000002, 1e-4 not 0.0001.
pub fn short_number(v: f64) -> String {
    if v == 0.0 {
        return "0".into();
    }
    let a = v.abs();
    if !(1e-3..1e5).contains(&a) {
        let s = format!("{v:.1e}");
        return s.replace(".0e", "e");
    }
    let s = format!("{v:.6}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    s.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_ticks_follow_the_range() {
        assert_eq!(log_ticks(0.02, 1.0), vec![0.02, 0.05, 0.1, 0.2, 0.5, 1.0]);
        assert_eq!(log_ticks(1e-9, 1.0).len(), 10);
        assert_eq!(log_ticks(2.0, 7.5), vec![2.0, 3.0, 4.0, 5.0, 6.0, 7.0]);
        assert!(log_ticks(0.0, 1.0).is_empty());
        // within a fraction of a decade: round linear values
        let t = log_ticks(0.95, 1.06);
        assert_eq!(t.len(), 3);
        for (a, b) in t.iter().zip([0.95, 1.0, 1.05]) {
            assert!((a - b).abs() < 1e-12);
        }
        assert_eq!(short_number(t[0]), "0.95");
    }

    #[test]
    fn tick_labels_are_short() {
        assert_eq!(short_number(0.1 + 0.2), "0.3");
        assert_eq!(short_number(1e-4), "1e-4");
        assert_eq!(short_number(250.0), "250");
        assert_eq!(short_number(0.0), "0");
        assert_eq!(short_number(123456.0), "1.2e5");
        assert_eq!(short_number(snap_to_zero(-5.6e-17, 0.45)), "0");
        assert_eq!(short_number(snap_to_zero(1e-17, 0.0)), "1e-17");
    }

    #[test]
    fn writes_png_and_svg_with_log_axes_and_bands() {
        let dir = tempfile::tempdir().unwrap();
        let x: Vec<f64> = (1..=50).map(|i| i as f64).collect();
        let y: Vec<f64> = x.iter().map(|t| 1.0 / t).collect();
        let lo: Vec<f64> = y.iter().map(|v| v * 0.8).collect();
        let hi: Vec<f64> = y.iter().map(|v| v * 1.25).collect();
        let fig = Figure {
            caption: Some("test".into()),
            panels: vec![
                Panel {
                    title: "loss".into(),
                    x_label: "step".into(),
                    y_label: "loss".into(),
                    log_y: true,
                    lines: vec![Line {
                        band: Some((lo, hi)),
                        ..Line::new("a", x.clone(), y.clone())
                    }],
                    ..Default::default()
                },
                Panel {
                    title: "acc".into(),
                    x_label: "step".into(),
                    y_label: "accuracy".into(),
                    lines: vec![Line::new("b", x, y)],
                    ..Default::default()
                },
            ],
        };
        let (png, svg) = fig.save(dir.path(), "fig").unwrap();
        let bytes = std::fs::read(&png).unwrap();
        assert_eq!(&bytes[1..4], b"PNG");
        assert!(bytes.len() > 10_000);
        let text = std::fs::read_to_string(&svg).unwrap();
        assert!(text.contains("<svg") && text.contains("loss"));
    }

    /// The (x, y) pairs of every `<polyline>` of `svg` with the given stroke width.
    fn polylines(svg: &str, stroke_width: &str) -> Vec<Vec<(f64, f64)>> {
        svg.split("<polyline")
            .skip(1)
            .filter(|p| p.contains(&format!("stroke-width=\"{stroke_width}\"")))
            .map(|p| {
                let pts = p
                    .split("points=\"")
                    .nth(1)
                    .unwrap()
                    .split('"')
                    .next()
                    .unwrap();
                pts.split_whitespace()
                    .map(|xy| {
                        let (x, y) = xy.split_once(',').unwrap();
                        (x.parse().unwrap(), y.parse().unwrap())
                    })
                    .collect()
            })
            .collect()
    }

    #[test]
    fn a_caption_too_long_for_one_line_wraps_into_two() {
        let dir = tempfile::tempdir().unwrap();
        let first = "Z3: bias-free tanh MLP 64-64-64-10 on digits, batch 128; median final";
        let second = "full-batch training loss vs mantissa bits, all components SR, 2 seeds";
        let fig = Figure {
            caption: Some(format!("{first} {second}")),
            panels: vec![Panel {
                title: "t".into(),
                lines: vec![Line::new("a", vec![1.0, 2.0], vec![1.0, 2.0])],
                ..Default::default()
            }],
        };
        let (_, svg) = fig.save(dir.path(), "wrap").unwrap();
        let svg = std::fs::read_to_string(&svg).unwrap();
        for line in [first, second] {
            assert!(
                svg.contains(&format!(">\n{line}\n</text>")),
                "missing line '{line}'"
            );
        }
    }

    #[test]
    fn legend_lists_labelled_lines_with_their_glyph_beside_the_text() {
        let dir = tempfile::tempdir().unwrap();
        let x: Vec<f64> = (1..=20).map(f64::from).collect();
        let fig = Figure {
            caption: Some(
                "a caption far longer than one panel is wide, which must shrink to fit the figure \
                 instead of running off both edges"
                    .into(),
            ),
            panels: vec![Panel {
                title: "t".into(),
                legend: LegendAt::UpperRight,
                lines: vec![
                    Line::new("simulated", x.clone(), x.iter().map(|v| v * 2.0).collect()),
                    Line::new("", x.clone(), x.iter().map(|v| v * 3.0).collect()),
                    Line {
                        dashed: true,
                        ..Line::new("theory", x.clone(), x.clone())
                    },
                ],
                ..Default::default()
            }],
        };
        let (_, svg) = fig.save(dir.path(), "legend").unwrap();
        let svg = std::fs::read_to_string(&svg).unwrap();
        // two legend rows (the unlabelled line has none), each with its glyph (stroke 3) at
        // most 40 px left of the row's text and at the same height
        let label_pos = |label: &str| -> (f64, f64) {
            // plotters' SVG: <text x=".." y=".." dy="0.76em" ...>\nlabel\n</text>, y = top
            let end = svg.find(&format!(">\n{label}\n</text>")).expect(label);
            let tag = svg[..end].rsplit("<text").next().unwrap();
            let attr = |name: &str| -> f64 {
                let v = tag.split(&format!(" {name}=\"")).nth(1).unwrap();
                v.split('"').next().unwrap().parse().unwrap()
            };
            (attr("x"), attr("y"))
        };
        let glyphs = polylines(&svg, "3");
        assert_eq!(
            glyphs.iter().filter(|g| !g.is_empty()).count(),
            3,
            "solid + 2 dashes"
        );
        for label in ["simulated", "theory"] {
            let (tx, ty) = label_pos(label);
            let beside = glyphs
                .iter()
                .flatten()
                .filter(|(gx, gy)| (tx - 40.0..tx).contains(gx) && (gy - ty - 7.0).abs() < 8.0);
            assert!(
                beside.count() >= 2,
                "no glyph beside '{label}' at ({tx}, {ty})"
            );
        }
        // the dashed data line is drawn as several pieces, the solid one as one polyline
        assert!(polylines(&svg, "2").len() >= 4);
        // the caption was shrunk below its 22 px default
        assert!(!svg.contains("font-size=\"22\""), "caption still at 22 px");
    }
}
