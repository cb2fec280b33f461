//! Probing (the connection-test issue): real IMAP and SMTP logins over verified TLS, run concurrently, each side
//! ending in one `DiagnosisKind`, with every step reported as it happens. Not built yet.
