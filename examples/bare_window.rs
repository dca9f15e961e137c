//! The baseline for `scripts/bench-window`: a bare eframe window with the same renderer and
//! features as regcred, showing one label. Not part of the product.

use eframe::egui;

struct Bare;

impl eframe::App for Bare {
    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        egui::CentralPanel::default().show(ui, |ui| {
            ui.label("bare eframe window");
        });
    }
}

fn main() -> Result<(), eframe::Error> {
    let options = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default().with_title("bare-eframe").with_inner_size([1280.0, 800.0]),
        ..eframe::NativeOptions::default()
    };
    eframe::run_native("bare-eframe", options, Box::new(|_| Ok(Box::new(Bare))))
}
