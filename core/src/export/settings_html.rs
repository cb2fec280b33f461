//! The settings card as a printable, self-contained HTML page: no scripts, no external files, a Content Security
//! Policy that forbids both, values in `<code>` that select whole with one click. Written with the `askama`
//! template engine (`core/templates/settings-card.html`), which escapes every value for HTML.

use askama::Template;

use super::settings_text::Card;
use super::{file_stem, render_failed, ExportFormat, ExportOptions, Exporter};
use crate::account::Account;
use crate::diagnosis::Diagnosis;

pub struct SettingsHtml;

#[derive(Template)]
#[template(path = "settings-card.html")]
struct Page<'a> {
    card: &'a Card,
}

impl Exporter for SettingsHtml {
    fn format(&self) -> ExportFormat {
        ExportFormat::SettingsHtml
    }


    fn file_name(&self, account: &Account) -> String {
        format!("{}-settings.html", file_stem(account))
    }

    fn render(&self, account: &Account, options: &ExportOptions) -> Result<Vec<u8>, Diagnosis> {
        let card = Card::of(account, options.lang);
        let page = Page { card: &card };
        Ok(page.render().map_err(|e| render_failed(self.format(), account, &e))?.into_bytes())
    }
}
