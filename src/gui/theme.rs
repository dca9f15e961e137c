//! The window's visual language: one palette per theme (checked for WCAG AA contrast), a type
//! scale, a 4-point spacing grid, one icon set (Material Symbols, painted so screen readers hear
//! the words beside them, never a private-use glyph), and primary / secondary / destructive
//! buttons that look different. Every panel draws through these functions.

use eframe::egui::{self, Color32, FontId, RichText};
use egui_material_icons::icons as material;
use serde::{Deserialize, Serialize};

/// The spacing grid: every margin and gap is a multiple of this.
pub(super) const GRID: f32 = 4.0;

/// The type scale, in points. Status is never drawn below [`BODY`].
pub(super) const TITLE: f32 = 22.0;
/// Section headings.
pub(super) const HEADING: f32 = 16.0;
/// Body text, buttons, fields, status.
pub(super) const BODY: f32 = 14.0;
/// Secondary facts (paths, hints); never status.
pub(super) const SMALL: f32 = 12.0;

/// The user's choice of theme, remembered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum ThemeChoice {
    /// Follow the desktop (dark where the desktop says nothing).
    #[default]
    System,
    /// Always light.
    Light,
    /// Always dark.
    Dark,
}

impl ThemeChoice {
    /// Every choice, in menu order.
    pub const ALL: [Self; 3] = [Self::System, Self::Light, Self::Dark];

    /// Its name in the menu.
    pub fn label(self) -> &'static str {
        match self {
            Self::System => "System",
            Self::Light => "Light",
            Self::Dark => "Dark",
        }
    }

    /// egui's preference for it.
    pub(crate) fn preference(self) -> egui::ThemePreference {
        match self {
            Self::System => egui::ThemePreference::System,
            Self::Light => egui::ThemePreference::Light,
            Self::Dark => egui::ThemePreference::Dark,
        }
    }
}

/// The colours of one theme.
#[derive(Debug, Clone, Copy)]
pub(super) struct Palette {
    /// The window behind the panels.
    pub(crate) panel: Color32,
    /// Rows, cards, fields' surroundings.
    pub(crate) surface: Color32,
    /// Hovered rows.
    pub(crate) hover: Color32,
    /// The selected row.
    pub(crate) selected: Color32,
    /// Text fields and code.
    pub(crate) field: Color32,
    /// Lines between things.
    pub(crate) border: Color32,
    /// Body text.
    pub(crate) text: Color32,
    /// Secondary text (still ≥ 4.5:1).
    pub(crate) weak: Color32,
    /// The primary action's fill (white text on it).
    pub(crate) accent: Color32,
    /// Links and the focus ring.
    pub(crate) link: Color32,
    /// It works.
    pub(crate) good: Color32,
    /// Worth knowing.
    pub(crate) info: Color32,
    /// A risk.
    pub(crate) warn: Color32,
    /// Broken.
    pub(crate) bad: Color32,
}

/// The dark theme.
pub(super) const DARK: Palette = Palette {
    panel: Color32::from_rgb(27, 29, 33),
    surface: Color32::from_rgb(35, 38, 43),
    hover: Color32::from_rgb(42, 46, 52),
    selected: Color32::from_rgb(31, 58, 102),
    field: Color32::from_rgb(18, 20, 23),
    border: Color32::from_rgb(58, 63, 71),
    text: Color32::from_rgb(230, 232, 235),
    weak: Color32::from_rgb(168, 174, 184),
    accent: Color32::from_rgb(37, 99, 235),
    link: Color32::from_rgb(140, 192, 255),
    good: Color32::from_rgb(95, 211, 141),
    info: Color32::from_rgb(140, 192, 255),
    warn: Color32::from_rgb(242, 192, 85),
    bad: Color32::from_rgb(255, 143, 133),
};

/// The light theme.
pub(super) const LIGHT: Palette = Palette {
    panel: Color32::from_rgb(243, 244, 246),
    surface: Color32::from_rgb(255, 255, 255),
    hover: Color32::from_rgb(238, 241, 245),
    selected: Color32::from_rgb(219, 231, 251),
    field: Color32::from_rgb(255, 255, 255),
    border: Color32::from_rgb(213, 217, 224),
    text: Color32::from_rgb(29, 33, 39),
    weak: Color32::from_rgb(85, 93, 107),
    accent: Color32::from_rgb(29, 95, 209),
    link: Color32::from_rgb(29, 88, 173),
    good: Color32::from_rgb(27, 110, 57),
    info: Color32::from_rgb(29, 88, 173),
    warn: Color32::from_rgb(127, 82, 0),
    bad: Color32::from_rgb(180, 35, 24),
};

/// The palette of the theme `visuals` belong to.
pub(super) fn palette(visuals: &egui::Visuals) -> &'static Palette {
    if visuals.dark_mode { &DARK } else { &LIGHT }
}

/// How much of a tone's colour tints its badge's background.
const TINT: f32 = 0.14;

/// What a piece of status says about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Tone {
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
    /// The colour of text of this tone.
    pub(super) fn text(self, visuals: &egui::Visuals) -> Color32 {
        let palette = palette(visuals);
        match self {
            Self::Good => palette.good,
            Self::Info => palette.info,
            Self::Warn => palette.warn,
            Self::Bad => palette.bad,
            Self::Neutral => palette.weak,
        }
    }

    /// The background of a badge or card of this tone (the tone over the surface).
    pub(super) fn fill(self, visuals: &egui::Visuals) -> Color32 {
        let palette = palette(visuals);
        match self {
            Self::Neutral => palette.hover,
            tone => blend(tone.text(visuals), palette.surface, TINT),
        }
    }
}

/// `top` over `bottom` at `alpha`, opaque.
fn blend(top: Color32, bottom: Color32, alpha: f32) -> Color32 {
    #[expect(clippy::cast_possible_truncation, clippy::cast_sign_loss, reason = "a channel stays in 0..=255")]
    let mix = |t: u8, b: u8| (f32::from(t) * alpha + f32::from(b) * (1.0 - alpha)).round() as u8;
    Color32::from_rgb(mix(top.r(), bottom.r()), mix(top.g(), bottom.g()), mix(top.b(), bottom.b()))
}

/// The visuals of `palette` (built on egui's own dark or light visuals).
fn visuals(palette: &Palette, dark: bool) -> egui::Visuals {
    let mut visuals = if dark { egui::Visuals::dark() } else { egui::Visuals::light() };
    visuals.panel_fill = palette.panel;
    visuals.window_fill = palette.surface;
    visuals.window_stroke = egui::Stroke::new(1.0, palette.border);
    visuals.extreme_bg_color = palette.field;
    visuals.faint_bg_color = palette.hover;
    visuals.code_bg_color = palette.field;
    visuals.hyperlink_color = palette.link;
    visuals.warn_fg_color = palette.warn;
    visuals.error_fg_color = palette.bad;
    visuals.weak_text_color = Some(palette.weak);
    visuals.selection.bg_fill = palette.selected;
    visuals.selection.stroke = egui::Stroke::new(1.5, palette.link);
    let corner = egui::CornerRadius::same(6);
    visuals.window_corner_radius = egui::CornerRadius::same(10);
    let widgets = &mut visuals.widgets;
    widgets.noninteractive.fg_stroke.color = palette.text;
    widgets.noninteractive.bg_stroke.color = palette.border;
    widgets.noninteractive.bg_fill = palette.surface;
    widgets.noninteractive.weak_bg_fill = palette.surface;
    for (state, fill) in [
        (&mut widgets.inactive, palette.hover),
        (&mut widgets.hovered, blend(palette.text, palette.hover, 0.08)),
        (&mut widgets.active, blend(palette.text, palette.hover, 0.16)),
        (&mut widgets.open, palette.hover),
    ] {
        state.fg_stroke.color = palette.text;
        state.weak_bg_fill = fill;
        state.bg_fill = fill;
        state.bg_stroke = egui::Stroke::new(1.0, palette.border);
        state.corner_radius = corner;
    }
    // Controls keep an edge a person can see (a checkbox on white included).
    widgets.inactive.bg_stroke = egui::Stroke::new(1.0, blend(palette.weak, palette.border, 0.45));
    widgets.hovered.bg_stroke = egui::Stroke::new(1.0, palette.weak);
    // The keyboard's focus (egui draws a focused control as `active`): a ring a person sees, on the
    // blue primary button too.
    widgets.active.bg_stroke = egui::Stroke::new(2.0, palette.text);
    widgets.noninteractive.corner_radius = corner;
    visuals
}

/// Installs the icon font, the type scale, the spacing grid and both themes' palettes, and
/// applies `choice`.
pub(super) fn install(ctx: &egui::Context, choice: ThemeChoice) {
    egui_material_icons::initialize(ctx);
    ctx.all_styles_mut(|style| {
        use egui::{FontFamily, TextStyle};
        style.text_styles = [
            (TextStyle::Heading, FontId::new(HEADING, FontFamily::Proportional)),
            (TextStyle::Body, FontId::new(BODY, FontFamily::Proportional)),
            (TextStyle::Button, FontId::new(BODY, FontFamily::Proportional)),
            (TextStyle::Small, FontId::new(SMALL, FontFamily::Proportional)),
            (TextStyle::Monospace, FontId::new(13.0, FontFamily::Monospace)),
        ]
        .into();
        let spacing = &mut style.spacing;
        spacing.item_spacing = egui::vec2(2.0 * GRID, 2.0 * GRID);
        spacing.button_padding = egui::vec2(3.0 * GRID, GRID + 1.0);
        spacing.interact_size.y = 7.0 * GRID;
        spacing.window_margin = egui::Margin::same(16);
        spacing.menu_margin = egui::Margin::same(8);
        // Scroll bars with their own room: text never runs under them.
        spacing.scroll = egui::style::ScrollStyle::solid();
    });
    ctx.set_visuals_of(egui::Theme::Dark, visuals(&DARK, true));
    ctx.set_visuals_of(egui::Theme::Light, visuals(&LIGHT, false));
    ctx.set_theme(choice.preference());
}

/// The icons the window uses (Material Symbols, outlined).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Icon {
    /// It works.
    Check,
    /// It fails.
    Cross,
    /// A risk.
    Warn,
    /// Not tested.
    Untested,
    /// The OS keychain.
    Keychain,
    /// A credential helper.
    Helper,
    /// Plaintext in the file.
    Plaintext,
    /// An expiry.
    Clock,
    /// A registry without a preset.
    Registry,
    /// More actions.
    More,
    /// Information.
    Info,
    /// The dark theme.
    Dark,
    /// The light theme.
    Light,
}

impl Icon {
    fn glyph(self) -> egui_material_icons::MaterialIcon {
        match self {
            Self::Check => material::ICON_CHECK_CIRCLE,
            Self::Cross => material::ICON_CANCEL,
            Self::Warn => material::ICON_WARNING,
            Self::Untested => material::ICON_HOURGLASS,
            Self::Keychain => material::ICON_KEY,
            Self::Helper => material::ICON_VPN_KEY,
            Self::Plaintext => material::ICON_NO_ENCRYPTION,
            Self::Clock => material::ICON_SCHEDULE,
            Self::Registry => material::ICON_DNS,
            Self::More => material::ICON_MORE_VERT,
            Self::Info => material::ICON_INFO,
            Self::Dark => material::ICON_DARK_MODE,
            Self::Light => material::ICON_LIGHT_MODE,
        }
    }
}

/// Paints `icon` in a `size`-point square at the cursor. Only painted: the words beside it carry
/// the meaning, for screen readers and for anyone who does not see colour.
pub(super) fn icon(ui: &mut egui::Ui, icon: Icon, color: Color32, size: f32) {
    let (rect, _) = ui.allocate_exact_size(egui::vec2(size, size), egui::Sense::hover());
    let glyph = icon.glyph();
    ui.painter().text(
        rect.center(),
        egui::Align2::CENTER_CENTER,
        glyph.codepoint,
        FontId::new(size, glyph.font_family()),
        color,
    );
}

/// `icon` as text for a button whose accessible name is set apart (the glyph alone means
/// nothing to a screen reader).
pub(super) fn icon_text(icon: Icon, size: f32) -> RichText {
    let glyph = icon.glyph();
    RichText::new(glyph.codepoint).family(glyph.font_family()).size(size)
}

/// A status: an icon, then its words in the tone's colour at body size, on one line (elided to
/// the room given, the whole text on hover).
pub(super) fn status(ui: &mut egui::Ui, tone: Tone, glyph: Icon, text: &str) -> egui::Response {
    let color = tone.text(ui.visuals());
    ui.horizontal(|ui| {
        ui.spacing_mut().item_spacing.x = GRID;
        icon(ui, glyph, color, BODY + 2.0);
        ui.add(egui::Label::new(RichText::new(text).color(color)).truncate())
    })
    .inner
}

/// A status that wraps onto at most `rows` lines of its room (then elided, whole on hover): the
/// last test in a table cell, whose words matter more than one line holds.
pub(super) fn status_lines(ui: &mut egui::Ui, tone: Tone, glyph: Icon, text: &str, rows: usize) -> egui::Response {
    let color = tone.text(ui.visuals());
    ui.horizontal(|ui| {
        ui.spacing_mut().item_spacing.x = GRID;
        icon(ui, glyph, color, BODY + 2.0);
        let mut job = egui::text::LayoutJob::single_section(
            text.to_owned(),
            egui::TextFormat::simple(FontId::proportional(BODY), color),
        );
        job.wrap = egui::text::TextWrapping { max_rows: rows, max_width: ui.available_width(), ..Default::default() };
        ui.add(egui::Label::new(job).wrap())
    })
    .inner
}

/// A small rounded badge at body size: `keychain`, `plaintext`, `untested`.
pub(super) fn badge(ui: &mut egui::Ui, tone: Tone, text: impl Into<String>) -> egui::Response {
    let visuals = ui.visuals().clone();
    egui::Frame::new()
        .fill(tone.fill(&visuals))
        .corner_radius(GRID)
        .inner_margin(egui::Margin::symmetric(6, 1))
        .show(ui, |ui| ui.add(egui::Label::new(RichText::new(text.into()).color(tone.text(&visuals))).truncate()))
        .inner
}

/// A verdict line: an icon, then the text in the tone's colour, strong and wrapped.
pub(super) fn verdict(ui: &mut egui::Ui, tone: Tone, glyph: Icon, text: &str) -> egui::Response {
    let color = tone.text(ui.visuals());
    ui.horizontal(|ui| {
        ui.spacing_mut().item_spacing.x = 1.5 * GRID;
        icon(ui, glyph, color, HEADING + 4.0);
        ui.add(egui::Label::new(RichText::new(text).color(color).size(HEADING).strong()).wrap())
    })
    .inner
}

/// The title of a pane (a registry's name).
pub(super) fn title(ui: &mut egui::Ui, text: &str) -> egui::Response {
    ui.add(egui::Label::new(RichText::new(text).size(TITLE).strong()).truncate())
}

/// A heading for a section of a pane.
pub(super) fn heading(ui: &mut egui::Ui, text: &str) -> egui::Response {
    ui.label(RichText::new(text).size(HEADING).strong())
}

/// A label above a group of facts ("What to do").
pub(super) fn caption(ui: &mut egui::Ui, text: &str) -> egui::Response {
    ui.label(RichText::new(text).strong())
}

/// The main action of an area: filled with the theme's accent, white text (≥ 4.5:1 in both).
pub(super) fn primary(ui: &egui::Ui, text: &str) -> egui::Button<'static> {
    egui::Button::new(RichText::new(text).color(Color32::WHITE).strong()).fill(palette(ui.visuals()).accent)
}

/// [`primary`] while it can be pressed; a plain button while it cannot (a faded accent colour
/// still reads as the one thing to press).
pub(super) fn primary_when(ui: &egui::Ui, enabled: bool, text: &str) -> egui::Button<'static> {
    if enabled { primary(ui, text) } else { egui::Button::new(text.to_owned()) }
}

/// A destructive action: red words and a red outline, so it never reads as the default.
pub(super) fn destructive(ui: &egui::Ui, text: &str) -> egui::Button<'static> {
    let red = Tone::Bad.text(ui.visuals());
    egui::Button::new(RichText::new(text).color(red)).stroke(egui::Stroke::new(1.0, red))
}

/// A destructive menu item: red words, no outline (an outline in a menu reads as the focus).
pub(super) fn destructive_item(ui: &egui::Ui, text: &str) -> egui::Button<'static> {
    egui::Button::new(RichText::new(text).color(Tone::Bad.text(ui.visuals())))
}

/// `text` with its first letter capitalized, as the window's headlines are.
pub(super) fn sentence(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map_or_else(String::new, |first| first.to_uppercase().chain(chars).collect())
}

/// Neutral guidance where there is nothing to show (never error-coloured).
pub(super) fn empty_state(ui: &mut egui::Ui, text: &str) {
    ui.add(egui::Label::new(RichText::new(text).color(ui.visuals().weak_text_color())).wrap());
}

/// Secondary facts in the weak colour, wrapped.
pub(super) fn weak(ui: &mut egui::Ui, text: &str) -> egui::Response {
    ui.add(egui::Label::new(RichText::new(text).color(ui.visuals().weak_text_color())).wrap())
}

/// A one-line message in a tone, wrapped.
pub(super) fn message(ui: &mut egui::Ui, tone: Tone, text: &str) -> egui::Response {
    let color = tone.text(ui.visuals());
    ui.add(egui::Label::new(RichText::new(text).color(color)).wrap())
}

/// A framed card of a tone: the answer, a warning.
pub(super) fn card<R>(ui: &mut egui::Ui, tone: Tone, content: impl FnOnce(&mut egui::Ui) -> R) -> R {
    let visuals = ui.visuals().clone();
    let stroke_colour = match tone {
        Tone::Neutral => palette(&visuals).border,
        tone => blend(tone.text(&visuals), palette(&visuals).surface, 0.55),
    };
    egui::Frame::new()
        .fill(tone.fill(&visuals))
        .stroke(egui::Stroke::new(1.0, stroke_colour))
        .corner_radius(8.0)
        .inner_margin(egui::Margin::same(12))
        .show(ui, |ui| {
            ui.set_width(ui.available_width());
            content(ui)
        })
        .inner
}

/// Shows `area` inside a region that screen readers (and the layout tests) know as a scroll view
/// with the bounds of what is on screen: what it scrolls away is not on screen.
pub(super) fn scroll_view<R>(ui: &mut egui::Ui, area: egui::ScrollArea, content: impl FnOnce(&mut egui::Ui) -> R) -> R {
    ui.scope(|ui| {
        let output = area.show(ui, |ui| {
            let inner = content(ui);
            keep_focus_in_view(ui);
            inner
        });
        let visible = output.inner_rect;
        ui.ctx().accesskit_node_builder(ui.unique_id(), |node| {
            node.set_role(egui::accesskit::Role::ScrollView);
            node.set_bounds(egui::accesskit::Rect {
                x0: visible.min.x.into(),
                y0: visible.min.y.into(),
                x1: visible.max.x.into(),
                y1: visible.max.y.into(),
            });
        });
        output.inner
    })
    .inner
}

/// Keyboard focus never lands out of sight: a control inside this scroll area's content that has
/// just gained focus (Tab, Shift+Tab, a shortcut) is scrolled into view, with a little room around
/// it. Call at the end of the content, where every control of it has been laid out.
pub(super) fn keep_focus_in_view(ui: &mut egui::Ui) {
    let Some(focused) = ui.memory(egui::Memory::focused) else { return };
    let Some(control) = ui.ctx().read_response(focused) else { return };
    if control.gained_focus() && control.layer_id == ui.layer_id() && ui.min_rect().contains_rect(control.rect) {
        ui.scroll_to_rect(control.rect.expand(2.0 * GRID), None);
    }
}

/// Outlines `response`'s widget while it has the keyboard: for the frameless ones (a collapsing
/// header, a row) that would otherwise show no focus at all.
pub(super) fn outline_focus(ui: &egui::Ui, response: &egui::Response) {
    if response.has_focus() {
        let stroke = ui.visuals().selection.stroke;
        ui.painter().rect_stroke(response.rect.expand(2.0), 4.0, stroke, egui::StrokeKind::Outside);
    }
}

/// Page Up and Page Down scroll the scroll area this is called in by most of its height, unless
/// a text field has the keyboard (egui's scroll areas take only the wheel).
pub(super) fn page_keys(ui: &mut egui::Ui) {
    if ui.ctx().text_edit_focused() {
        return;
    }
    let page = ui.clip_rect().height() * 0.9;
    let (down, up) = ui.input_mut(|i| {
        (
            i.consume_key(egui::Modifiers::NONE, egui::Key::PageDown),
            i.consume_key(egui::Modifiers::NONE, egui::Key::PageUp),
        )
    });
    if down {
        ui.scroll_with_delta(egui::vec2(0.0, -page));
    } else if up {
        ui.scroll_with_delta(egui::vec2(0.0, page));
    }
}

/// Lays `contents` out left to right at the right end of the row, so that Tab goes through it
/// in reading order (a right-to-left layout would take the focus backwards): after a gap as wide
/// as the row less the group's width, measured last frame.
pub(super) fn at_right_end<R>(ui: &mut egui::Ui, id: egui::Id, contents: impl FnOnce(&mut egui::Ui) -> R) -> R {
    let width = ui.data(|data| data.get_temp::<f32>(id)).unwrap_or(0.0);
    ui.add_space((ui.available_width() - width).max(0.0));
    let group = ui.horizontal(contents);
    let measured = group.response.rect.width();
    if (measured - width).abs() > 0.5 {
        ui.data_mut(|data| data.insert_temp(id, measured));
        ui.ctx().request_discard("a right-hand group was measured");
    }
    group.inner
}

/// `2 min ago`, `3 h ago`, `just now`.
pub(super) fn age(seconds: u64) -> String {
    match seconds {
        0..60 => "just now".to_owned(),
        60..3600 => format!("{} min ago", seconds / 60),
        3600..172_800 => format!("{} h ago", seconds / 3600),
        _ => format!("{} days ago", seconds / 86_400),
    }
}

/// Seconds since the Unix epoch now.
pub(super) fn now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// A view over the app (Check manifests, Check cluster): centred, sized to the window, closed by
/// its close button or Escape. Returns whether it stays open.
pub(super) fn view_window(ctx: &egui::Context, title: &str, contents: impl FnOnce(&mut egui::Ui)) -> bool {
    let size = ctx.content_rect().size();
    let width = (size.x - 120.0).clamp(480.0, 900.0).min(size.x - 40.0);
    let height = (size.y - 140.0).clamp(240.0, 660.0);
    let id = egui::Id::unique(("regcred-view", title));
    // A modal, as the other dialogs: the window behind is dimmed and the keyboard stays inside.
    // Anchored at the top, it grows downwards as results come, never jumping.
    let top = ((size.y - height) / 2.0 - 60.0).clamp(16.0, 96.0);
    let area = egui::Modal::default_area(id).anchor(egui::Align2::CENTER_TOP, [0.0, top]);
    // What had the keyboard when the view opened gets it back when it closes.
    let opener = id.with("opener");
    if ctx.data(|data| data.get_temp::<Option<egui::Id>>(opener)).is_none() {
        let focused = ctx.memory(egui::Memory::focused);
        ctx.data_mut(|data| data.insert_temp(opener, focused));
    }
    let mut close = false;
    let response = egui::Modal::new(id).area(area).show(ctx, |ui| {
        ui.set_width(width);
        egui::Sides::new().show(
            ui,
            |ui| heading(ui, title),
            |ui| close = ui.button("Close").on_hover_text("Esc").clicked(),
        );
        ui.separator();
        // The view's own results scroll inside this height.
        ui.vertical(|ui| {
            ui.set_max_height(height);
            contents(ui);
        });
    });
    let open = !(close || response.should_close());
    if !open && let Some(Some(focused)) = ctx.data_mut(|data| data.remove_temp::<Option<egui::Id>>(opener)) {
        // Given on the next frame: the Esc that closed the view would make it drop it again.
        ctx.data_mut(|data| data.insert_temp(egui::Id::unique("regcred-give-back"), Some(focused)));
        ctx.request_repaint();
    }
    open
}

/// Gives the keyboard back to what had it before a view opened (see [`view_window`]), once.
pub(super) fn give_back_focus(ctx: &egui::Context) {
    if let Some(Some(focused)) =
        ctx.data_mut(|data| data.remove_temp::<Option<egui::Id>>(egui::Id::unique("regcred-give-back")))
    {
        ctx.memory_mut(|memory| memory.request_focus(focused));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The WCAG 2 contrast ratio of two opaque colours (1 to 21).
    fn contrast(a: Color32, b: Color32) -> f32 {
        fn luminance(colour: Color32) -> f32 {
            let channel = |c: u8| {
                let c = f32::from(c) / 255.0;
                if c <= 0.039_28 { c / 12.92 } else { ((c + 0.055) / 1.055).powf(2.4) }
            };
            0.2126 * channel(colour.r()) + 0.7152 * channel(colour.g()) + 0.0722 * channel(colour.b())
        }
        let (la, lb) = (luminance(a), luminance(b));
        (la.max(lb) + 0.05) / (la.min(lb) + 0.05)
    }

    /// Every (text, background) pair a theme draws, by name: what the contrast test checks.
    fn text_pairs(dark: bool) -> Vec<(String, Color32, Color32)> {
        let visuals = visuals(if dark { &DARK } else { &LIGHT }, dark);
        let palette = palette(&visuals);
        let backgrounds = [
            ("panel", palette.panel),
            ("surface", palette.surface),
            ("selected row", palette.selected),
            ("field", palette.field),
            ("hovered row", palette.hover),
        ];
        let tones = [Tone::Good, Tone::Info, Tone::Warn, Tone::Bad, Tone::Neutral];
        let mut pairs = Vec::new();
        for (text_name, text) in [("text", palette.text), ("weak", palette.weak), ("link", palette.link)]
            .into_iter()
            .chain(tones.iter().map(|tone| ("tone", tone.text(&visuals))))
        {
            for (background_name, background) in backgrounds {
                pairs.push((format!("{text_name} {text:?} on {background_name}"), text, background));
            }
        }
        for tone in tones {
            let fill = tone.fill(&visuals);
            pairs.push((format!("{tone:?} on its own badge"), tone.text(&visuals), fill));
            pairs.push((format!("text on a {tone:?} card"), palette.text, fill));
        }
        pairs.push(("primary button".to_owned(), Color32::WHITE, palette.accent));
        pairs
    }

    #[test]
    fn every_text_colour_pair_meets_wcag_aa_in_both_themes() {
        for dark in [true, false] {
            for (name, text, background) in text_pairs(dark) {
                let ratio = contrast(text, background);
                assert!(ratio >= 4.5, "{} theme: {name}: {ratio:.2}:1", if dark { "dark" } else { "light" });
            }
        }
    }

    #[test]
    fn contrast_is_the_wcag_formula() {
        assert!((contrast(Color32::WHITE, Color32::BLACK) - 21.0).abs() < 0.01);
        assert!((contrast(Color32::from_gray(119), Color32::WHITE) - 4.48).abs() < 0.02);
    }
}
