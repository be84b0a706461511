//! `coldscan-gui`: the desktop app. Images given as arguments are opened at start.

#![cfg_attr(not(test), deny(clippy::indexing_slicing))]
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() -> eframe::Result {
    let images: Vec<std::path::PathBuf> = std::env::args_os().skip(1).map(Into::into).collect();
    let options = eframe::NativeOptions {
        viewport: eframe::egui::ViewportBuilder::default()
            .with_title("coldscan")
            .with_inner_size([1280.0, 800.0])
            .with_drag_and_drop(true),
        ..Default::default()
    };
    eframe::run_native("coldscan", options, Box::new(|cc| Ok(Box::new(coldscan_gui::App::from_creation(cc, images)))))
}
