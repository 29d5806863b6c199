//! Page entry point: installs the panic hook and mounts the Leptos app on `<body>`.

fn main() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(mqdash::app::App);
}
