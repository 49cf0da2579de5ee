// No console window on Windows desktops (lab workstations).
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() {
    field_app_lib::run()
}
