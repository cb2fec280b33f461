//! The core of iCloud Mail Setup: everything the product knows, with no window and no Tauri type.
//! The desktop app (`src-tauri/`) and the command line are thin shells over this crate.

pub mod account;
pub mod address;
pub mod bindings;
pub mod diagnosis;
pub mod dumps;
pub mod encoded_words;
pub mod export;
pub mod facts;
pub mod host;
pub mod i18n;
pub mod keychain;
pub mod lang;
pub mod mail_apps;
pub mod os_account;
pub mod probe;
pub mod provider;
pub mod secret;
pub mod text_policy;
pub mod verified;

pub use account::Account;
pub use address::{Address, DomainKind};
pub use diagnosis::{Diagnosis, DiagnosisKind};
pub use facts::Facts;
pub use lang::Lang;
pub use secret::Secret;
