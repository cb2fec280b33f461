//! End to end on the real app: the debug build under Xvfb, driven through tauri-driver + WebKitWebDriver.
//! Screenshots of each step visited land in tests/artifacts/e2e_wizard/screenshots (git-ignored).

use std::time::Duration;

use icloud_mail_tests::webdriver::{AppOptions, AppSession};

#[test]
fn address_step_validates_live_and_moves_forward_and_back() {
    let app = AppSession::start("e2e_wizard", AppOptions::default());

    assert_eq!(app.text("h1.step-title"), "Set up iCloud Mail in your mail app");
    app.screenshot("1-welcome");
    app.click("#next");
    app.wait_for_text("h1.step-title", "Your iCloud Mail address");
    assert_eq!(app.property("#next", "disabled"), serde_json::json!(true), "Next must wait for a valid address");

    // A name without a domain: the page explains what is missing, through the core's validation.
    app.type_into("#address-input", "johnsmith");
    let status = app.wait_for_text("#address-status", "An email address needs an @");
    assert!(status.contains("johnsmith@icloud.com"), "the hint suggests the iCloud form: {status}");
    assert_eq!(app.property("#address-input", "ariaInvalid"), serde_json::json!("true"));
    assert_eq!(app.property("#next", "disabled"), serde_json::json!(true));
    app.screenshot("2-address-invalid");

    // Another provider's address gets its own explanation.
    app.type_into("#address-input", "someone@gmail.com");
    app.wait_for_text("#address-status", "gmail.com is Gmail, not iCloud Mail.");

    // Mixed case and spaces are forgiven; the core normalises the address.
    app.type_into("#address-input", "  JohnSmith@iCloud.com ");
    app.wait_for_text("#address-status", "johnsmith@icloud.com is an iCloud Mail address.");
    app.wait_for(Duration::from_secs(5), "Next to be enabled", |s| s.property("#next", "disabled") == serde_json::json!(false));
    app.screenshot("3-address-valid");

    // Enter in the field moves on (keyboard navigation), focus lands on the new step's heading.
    app.click("#address-input");
    app.press_keys("\u{E007}");
    app.wait_for_text("h1.step-title", "Make an app-specific password");
    let focused = app.execute("return document.activeElement && document.activeElement.className;", serde_json::json!([]));
    assert_eq!(focused, serde_json::json!("step-title"), "focus moves to the step heading");
    app.screenshot("4-password");

    // Back keeps what was typed.
    app.click("#back");
    app.wait_for_text("h1.step-title", "Your iCloud Mail address");
    assert_eq!(app.property("#address-input", "value"), serde_json::json!("johnsmith@icloud.com"));
    for name in ["1-welcome", "2-address-invalid", "3-address-valid", "4-password"] {
        let png = app.screenshots.join(format!("{name}.png"));
        assert!(std::fs::metadata(&png).map(|m| m.len() > 1000).unwrap_or(false), "{} is missing or empty", png.display());
    }
}
