// The one list of the commands the page may call. `build.rs` reads it (each becomes a permission of its own, so
// capabilities/main.json can allow exactly these), `lib.rs` registers exactly these handlers, and a test
// (`lib.rs`, `command_lists_agree`) fails when the capability file or the page's wrappers (ui/src/ipc.ts) disagree.
// Adding a command: a function in commands.rs, its name here, `allow-<name>` in the capability, a wrapper in ipc.ts.
app_commands![
    check_address,
    check_name,
    os_full_name,
    check_domain,
    run_probe,
    cancel_probe,
    run_send_test,
    cancel_send_test,
    forget_password,
    keychain_status,
    keychain_save,
    export_formats,
    export_profile,
    thunderbird_android_qr,
    thunderbird_profiles,
    thunderbird_add,
    copy_password,
    mail_apps_present,
    outlook_import,
    load_settings,
    save_choice,
    page_ready,
]
