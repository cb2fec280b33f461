//! The keychain (the keychain issue): the app-specific password in the operating system's own store — Apple
//! Keychain, Windows Credential Manager, the Secret Service — under one naming scheme. Not built yet.
