//! The keyboard: Ctrl+N/S/T/F/O/Q, Ctrl+1/2/3 (the tabs, the cursor in their first field),
//! Ctrl+Shift+C (copy the YAML) and F1 everywhere; and the registry table like a native list —
//! ↑/↓ move the *selection* (the detail follows, the row scrolls into view), ↓ from the Filter
//! enters the list, Home/End, Page Up/Down, Enter opens the Login tab, Delete asks to remove.
//! List keys are taken out of the frame's input before any widget sees them (a focused field or
//! button would otherwise move a second focus ring with them), and moving the selection drops any
//! widget focus: one focus indicator at a time.

use eframe::egui;

use super::app::App;
use super::command::Command;
use super::command::Tab;

/// A list key taken from the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ListKey {
    /// ↑.
    Up,
    /// ↓.
    Down,
    /// Home.
    First,
    /// End.
    Last,
    /// Page Up.
    PageUp,
    /// Page Down.
    PageDown,
    /// Enter.
    Open,
    /// Delete.
    Remove,
}

impl ListKey {
    fn of(key: egui::Key) -> Option<Self> {
        Some(match key {
            egui::Key::ArrowUp => Self::Up,
            egui::Key::ArrowDown => Self::Down,
            egui::Key::Home => Self::First,
            egui::Key::End => Self::Last,
            egui::Key::PageUp => Self::PageUp,
            egui::Key::PageDown => Self::PageDown,
            egui::Key::Enter => Self::Open,
            egui::Key::Delete => Self::Remove,
            _ => return None,
        })
    }

    /// Enter and Delete belong to a focused button or field; the others to the list whenever no
    /// text is being typed.
    fn needs_no_focus(self) -> bool {
        matches!(self, Self::Open | Self::Remove)
    }
}

/// Takes the list's keys out of this frame's input when the list owns the keyboard: nothing is
/// typed in (except ↓ from the filter), no dialog or menu is open. Called before any widget runs.
pub(super) fn take_list_keys(ctx: &egui::Context, filter_focused: bool, dialog_open: bool) -> Vec<ListKey> {
    if dialog_open || egui::Popup::is_any_open(ctx) {
        return Vec::new();
    }
    let typing = ctx.egui_wants_keyboard_input();
    let focused = ctx.memory(egui::Memory::focused).is_some();
    let mut taken = Vec::new();
    ctx.input_mut(|input| {
        input.events.retain(|event| {
            let egui::Event::Key { key, pressed, modifiers, .. } = event else { return true };
            let Some(list_key) = ListKey::of(*key).filter(|_| modifiers.is_none()) else { return true };
            let ours = if typing {
                filter_focused && list_key == ListKey::Down
            } else {
                !(list_key.needs_no_focus() && focused)
            };
            if ours && *pressed {
                taken.push(list_key);
            }
            !ours
        });
    });
    taken
}

impl App {
    /// Ctrl+N/S/T/F/O/Q, Ctrl+1/2/3, Ctrl+Shift+C and F1.
    pub(super) fn shortcuts(&mut self, ctx: &egui::Context) {
        let command = |key| egui::KeyboardShortcut::new(egui::Modifiers::COMMAND, key);
        let (new, save, test, find, open, quit, help) = ctx.input_mut(|input| {
            (
                input.consume_shortcut(&command(egui::Key::N)),
                input.consume_shortcut(&command(egui::Key::S)),
                input.consume_shortcut(&command(egui::Key::T)),
                input.consume_shortcut(&command(egui::Key::F)),
                input.consume_shortcut(&command(egui::Key::O)),
                input.consume_shortcut(&command(egui::Key::Q)),
                input.key_pressed(egui::Key::F1),
            )
        });
        let (login, pull, kubernetes, copy) = ctx.input_mut(|input| {
            (
                input.consume_shortcut(&command(egui::Key::Num1)),
                input.consume_shortcut(&command(egui::Key::Num2)),
                input.consume_shortcut(&command(egui::Key::Num3)),
                input.consume_shortcut(&egui::KeyboardShortcut::new(
                    egui::Modifiers::COMMAND | egui::Modifiers::SHIFT,
                    egui::Key::C,
                )),
            )
        });
        let commands = [
            (new, Command::NewEntry),
            (save, Command::Save),
            (test, Command::TestSelected),
            (open, Command::AskOpenFile),
            (quit, Command::Quit),
            (login, Command::Fix(super::command::FixField::Server)),
            (pull, Command::Fix(super::command::FixField::Image)),
            (kubernetes, Command::ShowTab(Tab::Kubernetes)),
            (copy, Command::CopyYaml),
        ];
        self.commands.extend(commands.into_iter().filter(|(pressed, _)| *pressed).map(|(_, c)| c));
        if find {
            self.list.focus_filter = true;
        }
        if help {
            self.dialogs.help = !self.dialogs.help;
        }
    }

    /// The list keys taken this frame: each moves the selection (or opens, or asks to remove).
    pub(super) fn list_keys(&mut self, ctx: &egui::Context, keys: &[ListKey]) {
        if keys.is_empty() {
            return;
        }
        // The selection is the one focus indicator now.
        ctx.memory_mut(egui::Memory::stop_text_input);
        let count = self.list.rows().len();
        let selected = self.selected();
        let mut at = selected.as_deref().and_then(|key| self.list.index_of(key));
        for key in keys {
            match key {
                ListKey::Open if selected.is_some() => self.commands.push(Command::ShowTab(Tab::Login)),
                ListKey::Remove => {
                    if let Some(key) = &selected {
                        self.commands.push(Command::AskRemove(key.clone()));
                    }
                }
                ListKey::Open => {}
                movement if count > 0 => at = Some(moved(at, *movement, count, self.list.rows_per_page)),
                _ => {}
            }
        }
        let Some(at) = at else { return };
        self.list.scroll_to = Some(at);
        if let Some(row) = self.list.rows().get(at).filter(|row| selected.as_deref() != Some(row.key.as_str())) {
            self.commands.push(Command::Select(row.key.clone()));
        }
    }
}

/// Where `key` moves a selection at `at` (none: before the first row) among `count` rows.
pub(super) fn moved(at: Option<usize>, key: ListKey, count: usize, page: usize) -> usize {
    let last = count.saturating_sub(1);
    let page = page.max(1);
    match (at, key) {
        (_, ListKey::Last) => last,
        (Some(at), ListKey::Up) => at.saturating_sub(1),
        (Some(at), ListKey::Down) => (at + 1).min(last),
        (Some(at), ListKey::PageUp) => at.saturating_sub(page),
        (Some(at), ListKey::PageDown) => (at + page).min(last),
        (Some(at), ListKey::Open | ListKey::Remove) => at,
        // Nothing selected yet, or Home: the first row.
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_move_the_selection_like_a_native_list() {
        assert_eq!(moved(None, ListKey::Down, 5, 3), 0, "↓ with nothing selected: the first row");
        assert_eq!(moved(Some(0), ListKey::Down, 5, 3), 1);
        assert_eq!(moved(Some(4), ListKey::Down, 5, 3), 4, "stays on the last row");
        assert_eq!(moved(Some(0), ListKey::Up, 5, 3), 0);
        assert_eq!(moved(Some(3), ListKey::First, 5, 3), 0);
        assert_eq!(moved(Some(1), ListKey::Last, 5, 3), 4);
        assert_eq!(moved(Some(1), ListKey::PageDown, 5, 3), 4);
        assert_eq!(moved(Some(4), ListKey::PageUp, 5, 3), 1);
        assert_eq!(moved(Some(2), ListKey::PageUp, 5, 3), 0);
    }
}
