//! The window's visual language: one set of badges and colours for status, in the dark and the
//! light theme alike. Every panel draws status through these functions.

use eframe::egui::{self, Color32, RichText};

/// What a badge says about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    /// Fine: pulls, the keychain, available.
    Good,
    /// Worth knowing: a helper, a running test.
    Info,
    /// A risk: plaintext, locked, expiring.
    Warn,
    /// Broken: fails, expired, missing.
    Bad,
    /// Nothing known: untested, checking.
    Neutral,
}

impl Tone {
    /// The colour of text of this tone on `visuals`.
    pub fn text(self, visuals: &egui::Visuals) -> Color32 {
        // (on a dark background, on a light one)
        let (dark, light) = match self {
            Self::Good => ((110, 200, 120), (30, 120, 50)),
            Self::Info => ((120, 170, 240), (30, 90, 180)),
            Self::Warn => ((235, 180, 80), (160, 95, 0)),
            Self::Bad => ((240, 110, 100), (185, 35, 30)),
            Self::Neutral => return visuals.weak_text_color(),
        };
        let (r, g, b) = if visuals.dark_mode { dark } else { light };
        Color32::from_rgb(r, g, b)
    }

    /// The badge background for this tone.
    fn fill(self, visuals: &egui::Visuals) -> Color32 {
        let alpha = if visuals.dark_mode { 40 } else { 28 };
        let base = self.text(visuals);
        Color32::from_rgba_unmultiplied(base.r(), base.g(), base.b(), alpha)
    }
}

/// A small rounded badge: `keychain`, `plaintext`, `untested`.
pub fn badge(ui: &mut egui::Ui, tone: Tone, text: impl Into<String>) -> egui::Response {
    badge_with(ui, tone, None, text.into())
}

/// A drawn mark (the default fonts have no ✓ or ✗, and drawing them keeps the binary small).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Icon {
    /// A tick: it works.
    Check,
    /// A cross: it fails.
    Cross,
}

/// A badge with a drawn [`Icon`] before its text: `✓ pulls · 2 min ago`, `✗ unauthorized`.
pub fn icon_badge(ui: &mut egui::Ui, tone: Tone, icon: Icon, text: impl Into<String>) -> egui::Response {
    badge_with(ui, tone, Some(icon), text.into())
}

fn badge_with(ui: &mut egui::Ui, tone: Tone, icon: Option<Icon>, text: String) -> egui::Response {
    let visuals = ui.visuals().clone();
    let color = tone.text(&visuals);
    egui::Frame::new()
        .fill(tone.fill(&visuals))
        .corner_radius(4.0)
        .inner_margin(egui::Margin::symmetric(5, 1))
        .show(ui, |ui| {
            ui.spacing_mut().item_spacing.x = 3.0;
            ui.horizontal(|ui| {
                if let Some(icon) = icon {
                    mark(ui, icon, color, 8.0);
                }
                // Truncated to the room left: a long reason must not widen the list. The caller's
                // hover text says it whole (one tooltip, not the label's own as well).
                ui.add(
                    egui::Label::new(RichText::new(text).small().color(color))
                        .truncate()
                        .show_tooltip_when_elided(false),
                )
            })
            .inner
        })
        .inner
}

/// A verdict line: a drawn mark, then the text in the tone's colour, wrapped.
pub fn verdict(ui: &mut egui::Ui, tone: Tone, icon: Icon, text: &str) -> egui::Response {
    let color = tone.text(ui.visuals());
    ui.horizontal(|ui| {
        mark(ui, icon, color, 11.0);
        ui.add(egui::Label::new(RichText::new(text).color(color).strong()).wrap())
    })
    .inner
}

/// Draws `icon` in a `size`-point square at the cursor.
fn mark(ui: &mut egui::Ui, icon: Icon, color: Color32, size: f32) {
    let (rect, _) = ui.allocate_exact_size(egui::vec2(size, size), egui::Sense::hover());
    let stroke = egui::Stroke::new(size / 5.0, color);
    let painter = ui.painter();
    match icon {
        Icon::Check => {
            let points = vec![
                rect.left_center() + egui::vec2(0.0, size / 16.0),
                rect.center_bottom() + egui::vec2(-size / 8.0, 0.0),
                rect.right_top(),
            ];
            painter.line(points, stroke);
        }
        Icon::Cross => {
            painter.line_segment([rect.left_top(), rect.right_bottom()], stroke);
            painter.line_segment([rect.right_top(), rect.left_bottom()], stroke);
        }
    }
}

/// A heading for a section of a panel.
pub fn heading(ui: &mut egui::Ui, text: &str) -> egui::Response {
    ui.label(RichText::new(text).heading().strong())
}

/// The main action of a panel: filled with the selection colour.
pub fn primary(text: impl Into<egui::WidgetText>) -> egui::Button<'static> {
    egui::Button::new(text).fill(egui::Color32::from_rgb(40, 100, 180))
}

/// A destructive action: red text, so it never reads as the default.
pub fn destructive(ui: &egui::Ui, text: &str) -> egui::Button<'static> {
    egui::Button::new(RichText::new(text).color(Tone::Bad.text(ui.visuals())))
}

/// Neutral guidance where there is nothing to show (never error-coloured).
pub fn empty_state(ui: &mut egui::Ui, text: &str) {
    ui.add(egui::Label::new(RichText::new(text).color(ui.visuals().weak_text_color())).wrap());
}

/// A one-line message in a tone, wrapped.
pub fn message(ui: &mut egui::Ui, tone: Tone, text: &str) -> egui::Response {
    let color = tone.text(ui.visuals());
    ui.add(egui::Label::new(RichText::new(text).color(color)).wrap())
}

/// `2 min ago`, `3 h ago`, `just now`.
pub fn age(seconds: u64) -> String {
    match seconds {
        0..60 => "just now".to_owned(),
        60..3600 => format!("{} min ago", seconds / 60),
        3600..172_800 => format!("{} h ago", seconds / 3600),
        _ => format!("{} days ago", seconds / 86_400),
    }
}

/// Seconds since the Unix epoch now.
pub fn now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs())
}
